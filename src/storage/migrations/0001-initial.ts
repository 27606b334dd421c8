import type { Kysely } from 'kysely';

/** Users, devices, tokens and UIA sessions: the account core (issues 2 and 3). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    .addColumn('localpart', 'text', (c) => c.notNull())
    .addColumn('localpart_lower', 'text', (c) => c.notNull().unique())
    .addColumn('numeric_id', 'bigint')
    .addColumn('password_hash', 'text')
    .addColumn('is_guest', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('is_admin', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('deactivated', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('users_numeric_id').on('users').column('numeric_id').execute();

  await db.schema
    .createTable('devices')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.user_id').onDelete('cascade'))
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text')
    .addColumn('last_seen_ts', 'bigint')
    .addColumn('last_seen_ip', 'text')
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('devices_pk', ['user_id', 'device_id'])
    .execute();

  await db.schema
    .createTable('refresh_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .addColumn('expires_ts', 'bigint')
    .addColumn('next_token_id', 'text')
    .addForeignKeyConstraint(
      'refresh_tokens_device_fk',
      ['user_id', 'device_id'],
      'devices',
      ['user_id', 'device_id'],
      (c) => c.onDelete('cascade'),
    )
    .execute();

  await db.schema
    .createTable('access_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .addColumn('expires_ts', 'bigint')
    .addColumn('refresh_token_id', 'text')
    .addForeignKeyConstraint(
      'access_tokens_device_fk',
      ['user_id', 'device_id'],
      'devices',
      ['user_id', 'device_id'],
      (c) => c.onDelete('cascade'),
    )
    .execute();
  await db.schema.createIndex('access_tokens_device').on('access_tokens').columns(['user_id', 'device_id']).execute();

  await db.schema
    .createTable('uia_sessions')
    .addColumn('session_id', 'text', (c) => c.primaryKey())
    .addColumn('operation', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text')
    .addColumn('request_body', 'text', (c) => c.notNull())
    .addColumn('result', 'text')
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .addColumn('expires_ts', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('uia_sessions_expiry').on('uia_sessions').column('expires_ts').execute();

  await db.schema
    .createTable('uia_stages')
    .addColumn('session_id', 'text', (c) => c.notNull().references('uia_sessions.session_id').onDelete('cascade'))
    .addColumn('stage', 'text', (c) => c.notNull())
    .addColumn('data', 'text')
    .addColumn('completed_ts', 'bigint', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('uia_stages_pk', ['session_id', 'stage'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['uia_stages', 'uia_sessions', 'access_tokens', 'refresh_tokens', 'devices', 'users']) {
    await db.schema.dropTable(t).execute();
  }
}
