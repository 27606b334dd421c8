import type { Kysely } from 'kysely';

/**
 * Registration tokens (spec: client-server API, "Token-authenticated registration"; Synapse's
 * docs/admin_api/registration_tokens.md):
 * - `registration_tokens`: Synapse's columns. `pending` counts registrations that passed the
 *   `m.login.registration_token` stage and have not finished; `completed` those that finished.
 *   A token is valid while `pending + completed < uses_allowed` (or `uses_allowed` is null) and
 *   `expiry_time` (ms) is in the future (or null).
 * - `registration_token_holds`: which UIA session holds one of the `pending` uses of which token.
 *   Its key is the session, so a session holds at most one use and the row is removed exactly
 *   once: when the registration completes (the use moves to `completed`) or when the session
 *   goes (the use is given back). The foreign key (no cascade) makes deleting a session that
 *   still holds a use an error, so no code path can forget to give it back. No foreign key to
 *   the token: deleting a token deletes its holds in the same transaction.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('registration_tokens')
    .addColumn('token', 'text', (c) => c.primaryKey())
    .addColumn('uses_allowed', 'bigint')
    .addColumn('pending', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('completed', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('expiry_time', 'bigint')
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('registration_token_holds')
    .addColumn('session_id', 'text', (c) => c.primaryKey().references('uia_sessions.session_id'))
    .addColumn('token', 'text', (c) => c.notNull())
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('registration_token_holds_token')
    .on('registration_token_holds')
    .column('token')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('registration_token_holds').execute();
  await db.schema.dropTable('registration_tokens').execute();
}
