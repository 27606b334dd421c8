import type { Kysely } from 'kysely';

/**
 * The registration gates an account passed, as Synapse's `users` columns:
 * - `approved`: 0 while an account made by open registration awaits an admin's approval, when
 *   the config requires approval (MSC3866); it then cannot log in (service/approval.ts). Every
 *   account that exists already is approved.
 * - `consent_version`, `consent_ts`: the version of the terms of service the account accepted
 *   with `m.login.terms` at registration (spec "Terms of service at registration"; Synapse's
 *   `user_consent`), and when (ms); null when it accepted none.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('approved', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema.alterTable('users').addColumn('consent_version', 'text').execute();
  await db.schema.alterTable('users').addColumn('consent_ts', 'bigint').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of ['consent_ts', 'consent_version', 'approved']) {
    await db.schema.alterTable('users').dropColumn(column).execute();
  }
}
