import { type Kysely, sql, type Transaction } from 'kysely';
import type { OpenDatabase } from './open.js';

/**
 * Copying one Tessera database into another (`tessera migrate-db`): SQLite into
 * PostgreSQL when a server outgrows one machine. Both sides are opened (and so migrated to the
 * same latest schema) by the caller; the copy is one transaction on the target, so a failure
 * leaves the target as empty as it was.
 */

/** Tables in foreign-key order: parents before the rows that point at them. */
const KNOWN_ORDER = ['users', 'devices', 'refresh_tokens', 'access_tokens', 'uia_sessions', 'uia_stages'];

/** Keep one INSERT well below PostgreSQL's 65,535 bind parameters. */
const MAX_PARAMS_PER_INSERT = 30_000;

export interface TableCount {
  table: string;
  source: number;
  target: number;
}

export class TargetNotEmptyError extends Error {
  constructor(readonly counts: { table: string; rows: number }[]) {
    super(
      `the target database is not empty (${counts.map((c) => `${c.table}: ${c.rows}`).join(', ')}); ` +
        'migrate-db only copies into an empty database',
    );
  }
}

export class CountMismatchError extends Error {
  constructor(readonly counts: TableCount[]) {
    const bad = counts.filter((c) => c.source !== c.target);
    super(`row counts differ after the copy: ${bad.map((c) => `${c.table} ${c.source} → ${c.target}`).join(', ')}`);
  }
}

type AnyDb = Kysely<Record<string, Record<string, unknown>>>;

/** Every application table of a database (not Kysely's own migration bookkeeping). */
export async function listTables(open: OpenDatabase): Promise<string[]> {
  const q =
    open.dialect === 'sqlite'
      ? sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`
      : sql<{ name: string }>`select table_name as name from information_schema.tables
          where table_schema = current_schema() and table_type = 'BASE TABLE'`;
  const names = (await q.execute(open.db)).rows.map((r) => r.name).filter((n) => !n.startsWith('kysely_'));
  // Known tables in foreign-key order; tables added later (no known parents) after them.
  const known = KNOWN_ORDER.filter((t) => names.includes(t));
  const extra = names.filter((t) => !KNOWN_ORDER.includes(t)).sort();
  return [...known, ...extra];
}

async function countRows(db: AnyDb | Transaction<Record<string, Record<string, unknown>>>, table: string) {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The rows of one table: streamed from SQLite; read at once from PostgreSQL (no cursor driver). */
async function* readRows(
  from: Transaction<Record<string, Record<string, unknown>>>,
  table: string,
  dialect: OpenDatabase['dialect'],
): AsyncGenerator<Record<string, unknown>> {
  if (dialect === 'sqlite') yield* from.selectFrom(table).selectAll().stream();
  else yield* await from.selectFrom(table).selectAll().execute();
}

/**
 * Copy every row of `source` into `target`. Refuses a target that holds any row; checks the
 * row count of every table before committing. Returns the counts, table by table.
 */
export async function copyDatabase(
  source: OpenDatabase,
  target: OpenDatabase,
  onTable?: (table: string, rows: number) => void,
): Promise<TableCount[]> {
  const tables = await listTables(source);
  const src = source.db as unknown as AnyDb;
  const dst = target.db as unknown as AnyDb;
  // A consistent snapshot of the source: one read transaction (SQLite's WAL gives one; on
  // PostgreSQL ask for repeatable read).
  const readTx =
    source.dialect === 'postgres' ? src.transaction().setIsolationLevel('repeatable read') : src.transaction();
  return readTx.execute((from) =>
    dst.transaction().execute(async (to) => {
      const nonEmpty: { table: string; rows: number }[] = [];
      for (const table of tables) {
        const rows = await countRows(to, table);
        if (rows > 0) nonEmpty.push({ table, rows });
      }
      if (nonEmpty.length > 0) throw new TargetNotEmptyError(nonEmpty);

      const counts: TableCount[] = [];
      for (const table of tables) {
        let batch: Record<string, unknown>[] = [];
        let batchSize = 500;
        const flush = async () => {
          if (batch.length === 0) return;
          await to.insertInto(table).values(batch).execute();
          batch = [];
        };
        for await (const row of readRows(from, table, source.dialect)) {
          if (batch.length === 0) batchSize = Math.max(1, Math.floor(MAX_PARAMS_PER_INSERT / Object.keys(row).length));
          batch.push(row);
          if (batch.length >= batchSize) await flush();
        }
        await flush();
        const count = { table, source: await countRows(from, table), target: await countRows(to, table) };
        counts.push(count);
        onTable?.(table, count.target);
      }
      if (counts.some((c) => c.source !== c.target)) throw new CountMismatchError(counts);
      return counts;
    }),
  );
}
