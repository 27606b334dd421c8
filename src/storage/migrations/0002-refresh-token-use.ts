import type { Kysely } from 'kysely';

/**
 * Refresh-token rotation (spec v1.3 "Refreshing access tokens").
 * - `refresh_tokens.used`: set once this token, or an access token issued with it, has been
 *   used. The spec keeps the previous refresh token valid "until the new access token or refresh
 *   token is used"; this flag is that moment, and it makes a later use of the predecessor theft.
 * - Indexes for the chain walks: predecessor by `next_token_id`, the tokens issued with a
 *   refresh token, and every refresh token of a device (logout, theft, the device FK cascade).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('refresh_tokens')
    .addColumn('used', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('refresh_tokens_next').on('refresh_tokens').column('next_token_id').execute();
  await db.schema.createIndex('refresh_tokens_device').on('refresh_tokens').columns(['user_id', 'device_id']).execute();
  await db.schema.createIndex('access_tokens_refresh').on('access_tokens').column('refresh_token_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('access_tokens_refresh').execute();
  await db.schema.dropIndex('refresh_tokens_device').execute();
  await db.schema.dropIndex('refresh_tokens_next').execute();
  await db.schema.alterTable('refresh_tokens').dropColumn('used').execute();
}
