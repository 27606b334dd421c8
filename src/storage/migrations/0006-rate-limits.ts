import type { Kysely } from 'kysely';

/**
 * Rate-limit buckets (shared state lives in the database, so every process of one
 * server counts against the same buckets). One leaky bucket per key (`registration:<ip>`,
 * `login.account:<user id>`…): `level` is how full it was at `updated_ts` (ms); it drains at the
 * configured `per_second`, which is not stored (a config change applies to existing buckets).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('rate_limits')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('level', 'double precision', (c) => c.notNull())
    .addColumn('updated_ts', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('rate_limits').execute();
}
