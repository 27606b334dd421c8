import type { Kysely } from 'kysely';

/**
 * Approval of new accounts (MSC3866; Synapse's `users.approved`): 0 while an account made by
 * open registration awaits an admin's approval, when the config requires approval; it then
 * cannot log in (service/approval.ts). Every account that exists already is approved.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('approved', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('approved').execute();
}
