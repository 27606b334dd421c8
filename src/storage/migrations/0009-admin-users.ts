import type { Kysely } from 'kysely';

/**
 * What Synapse's admin API reports and sets on an account (Synapse's
 * docs/admin_api/user_admin_api.md), as portable columns:
 * - `locked`: a locked account's tokens are refused (401 M_USER_LOCKED) until it is unlocked;
 * - `shadow_banned`: recorded and reported; Tessera sends no events it could suppress;
 * - `erased`: deactivated with `erase: true` (profile cleared);
 * - `avatar_url`: the avatar an operator set, next to `displayname` (0007).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('locked', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('users')
    .addColumn('shadow_banned', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('users')
    .addColumn('erased', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('users').addColumn('avatar_url', 'text').execute();
  // The admin list is ordered by creation time on request (Synapse indexes it too).
  await db.schema.createIndex('users_created_ts').on('users').column('created_ts').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('users_created_ts').execute();
  for (const column of ['avatar_url', 'erased', 'shadow_banned', 'locked']) {
    await db.schema.alterTable('users').dropColumn(column).execute();
  }
}
