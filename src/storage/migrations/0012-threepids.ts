import type { Kysely } from 'kysely';

/**
 * Email addresses (spec: client-server API, "Adding Account Administrative Contact
 * Information" and "Email-based (identity / homeserver)"):
 * - `threepid_validation_sessions`: one row per validation a client asked for (its `sid`). The
 *   emailed token is kept only as its SHA-256; `send_attempt` makes a repeated request send
 *   nothing. The unique key (client_secret, medium, address, purpose) makes one session per
 *   client secret and address, decided by the database when two requests race.
 * - `user_threepids`: the addresses bound to accounts. The unique key (medium, address) decides
 *   who gets an address when two registrations race; email addresses are stored lower-cased.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('threepid_validation_sessions')
    .addColumn('sid', 'text', (c) => c.primaryKey())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('medium', 'text', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('client_secret', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull())
    .addColumn('send_attempt', 'bigint', (c) => c.notNull())
    .addColumn('next_link', 'text')
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .addColumn('token_expires_ts', 'bigint', (c) => c.notNull())
    .addColumn('expires_ts', 'bigint', (c) => c.notNull())
    .addColumn('validated_ts', 'bigint')
    .execute();
  await db.schema
    .createIndex('threepid_validation_sessions_key')
    .on('threepid_validation_sessions')
    .columns(['client_secret', 'medium', 'address', 'purpose'])
    .unique()
    .execute();
  await db.schema
    .createIndex('threepid_validation_sessions_expires')
    .on('threepid_validation_sessions')
    .column('expires_ts')
    .execute();
  await db.schema
    .createTable('user_threepids')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.user_id'))
    .addColumn('medium', 'text', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('validated_ts', 'bigint', (c) => c.notNull())
    .addColumn('added_ts', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('user_threepids_pk', ['medium', 'address'])
    .execute();
  await db.schema.createIndex('user_threepids_user').on('user_threepids').column('user_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('user_threepids').execute();
  await db.schema.dropTable('threepid_validation_sessions').execute();
}
