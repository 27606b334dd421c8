import type { Kysely } from 'kysely';

/**
 * Shared-secret registration (Synapse's `/_synapse/admin/v1/register`):
 * - `used_nonces`: nonces already spent. Nonces themselves are signed, not stored (see
 *   service/shared-secret-registration.ts), so a GET from anyone writes nothing; only a request
 *   whose HMAC proves it knows the secret records its nonce here, and the primary key makes
 *   the first use win in one statement, in any process.
 * - `users.user_type` (Synapse's `support` / `bot` user types) and `users.displayname` (the
 *   name given at creation; Synapse stores it in the profile).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('used_nonces')
    .addColumn('nonce_hash', 'text', (c) => c.primaryKey())
    .addColumn('expires_ts', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.alterTable('users').addColumn('user_type', 'text').execute();
  await db.schema.alterTable('users').addColumn('displayname', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('used_nonces').execute();
  await db.schema.alterTable('users').dropColumn('displayname').execute();
  await db.schema.alterTable('users').dropColumn('user_type').execute();
}
