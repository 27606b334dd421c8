import { closeSync, mkdirSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import type pg from 'pg';
import type { DatabaseConfig } from '../config/config.js';
import { ForeignDatabaseError } from './errors.js';
import { migrations } from './migrations/index.js';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

export interface OpenDatabase {
  db: Kysely<Database>;
  dialect: Dialect;
  /** PostgreSQL's connection pool right now; null on SQLite (one synchronous connection). */
  poolStats(): { total: number; idle: number; waiting: number } | null;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Called after every query with its duration (for metrics). */
  onQuery?: (durationMs: number) => void;
}

/**
 * The drivers are loaded when a database of their kind is opened, not when this module is:
 * a SQLite server never loads pg, and a start-up does not wait for the driver it will not use.
 */
const load = createRequire(import.meta.url);
let pgModule: typeof pg | null = null;
function pgDriver(): typeof pg {
  pgModule ??= load('pg') as typeof pg;
  return pgModule;
}

/** pg returns int8 as a string; our bigints are ms timestamps below 2^53, so parse them. */
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20
      ? (v: string) => Number(v)
      : pgDriver().types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export function postgresPoolConfig(cfg: Extract<DatabaseConfig, { kind: 'postgres' }>): pg.PoolConfig {
  const base: pg.PoolConfig = cfg.url
    ? { connectionString: cfg.url }
    : {
        ...(cfg.host !== null && { host: cfg.host }),
        ...(cfg.port !== null && { port: cfg.port }),
        ...(cfg.user !== null && { user: cfg.user }),
        ...(cfg.password !== null && { password: cfg.password }),
        ...(cfg.database !== null && { database: cfg.database }),
      };
  return {
    ...base,
    min: cfg.poolMin,
    max: cfg.poolMax,
    connectionTimeoutMillis: cfg.connectTimeoutMs,
    types: pgTypes,
    ...(cfg.schema !== null && { options: `-c search_path=${cfg.schema}` }),
  };
}

/** Open the configured database and bring its schema up to date. */
export async function openDatabase(cfg: DatabaseConfig, opts: OpenOptions = {}): Promise<OpenDatabase> {
  const open = cfg.kind === 'sqlite' ? openSqlite(cfg.path, opts) : await openPostgres(cfg, opts);
  try {
    await open.migrate();
  } catch (err) {
    await open.db.destroy();
    throw err;
  }
  return { db: open.db, dialect: open.dialect, poolStats: open.poolStats, close: () => open.db.destroy() };
}

interface Unmigrated {
  db: Kysely<Database>;
  dialect: Dialect;
  poolStats(): { total: number; idle: number; waiting: number } | null;
  migrate(): Promise<void>;
}

/** Kysely's query log, reduced to what metrics need. */
function queryLog(opts: OpenOptions) {
  const onQuery = opts.onQuery;
  if (onQuery === undefined) return {};
  return {
    log: (event: { level: string; queryDurationMillis: number }) => onQuery(event.queryDurationMillis),
  };
}

function openSqlite(path: string, opts: OpenOptions): Unmigrated {
  if (path !== ':memory:') createPrivately(path);
  const Sqlite = load('better-sqlite3') as typeof SQLite;
  const sqlite = new Sqlite(path);
  // WAL lets several processes share the file: readers never block the one writer.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }), ...queryLog(opts) });
  return { db, dialect: 'sqlite', poolStats: () => null, migrate: () => migrateSqlite(db, sqlite) };
}

/**
 * The database holds password hashes and token hashes: only Tessera's user may read it. A new
 * file is created 0600 (its directory 0700) before SQLite opens it; SQLite gives the `-wal` and
 * `-shm` files the permissions of the database file (`findCreateFileMode` in SQLite's os_unix.c).
 * An existing file keeps the permissions its operator gave it.
 */
function createPrivately(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

async function openPostgres(
  cfg: Extract<DatabaseConfig, { kind: 'postgres' }>,
  opts: OpenOptions,
): Promise<Unmigrated> {
  const poolConfig = postgresPoolConfig(cfg);
  if (cfg.schema !== null) {
    // The schema must exist before search_path can point at it.
    const { options: _o, ...withoutSearchPath } = poolConfig;
    const client = new (pgDriver().Client)(withoutSearchPath);
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${cfg.schema}"`);
    } catch (err) {
      // Several processes starting at once race here: IF NOT EXISTS does not stop PostgreSQL
      // from raising a unique violation on its catalogue. Either way the schema exists.
      if (!isUniqueViolation(err) && (err as { code?: unknown }).code !== '42P06') throw err;
    } finally {
      await client.end();
    }
  }
  const pool = new (pgDriver().Pool)(poolConfig);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), ...queryLog(opts) });
  const poolStats = () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount });
  // Kysely's Migrator holds an advisory lock on PostgreSQL: concurrent starts are safe. Its
  // bookkeeping tables must be looked for in *our* schema: unqualified, Kysely finds another
  // schema's (another Tessera in the same database) and then fails to lock ours.
  const migrateHere = async () => {
    const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
    for (let attempt = 1; ; attempt++) {
      try {
        return await migrate(db, 'postgres', rows[0]?.schema);
      } catch (err) {
        // Kysely's migrator introspects every schema of the database (has_schema_privilege on
        // each, then their tables' columns), which fails with 3F000 "schema … does not exist",
        // 42P01 or 42703 when another schema is dropped at that moment (another tenant, or
        // parallel test runs). Before any migration ran nothing was changed: retry.
        const code = ((err as Error).cause as { code?: unknown } | undefined)?.code;
        const beforeAnyMigration = err instanceof MigrationError && err.migration === null;
        if (!beforeAnyMigration || !INTROSPECTION_RACES.has(String(code)) || attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 50 * attempt));
      }
    }
  };
  return { db, dialect: 'postgres', poolStats, migrate: migrateHere };
}

export { ForeignDatabaseError };

/** Refuse to migrate a database that holds another program's tables. */
async function refuseForeign(db: Kysely<Database>, dialect: Dialect): Promise<void> {
  const { rows } =
    dialect === 'sqlite'
      ? await sql<{
          name: string;
        }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(db)
      : await sql<{
          name: string;
        }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(db);
  const tables = rows.map((r) => r.name).sort();
  if (tables.length === 0 || tables.includes('kysely_migration')) return;
  throw new ForeignDatabaseError(tables);
}

export async function migrate(db: Kysely<Database>, dialect: Dialect, migrationTableSchema?: string): Promise<void> {
  if (await upToDate(db, migrationTableSchema)) return;
  await refuseForeign(db, dialect);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    ...(migrationTableSchema !== undefined && { migrationTableSchema }),
    // Kysely's default compares with localeCompare, whose first use loads ICU's collation
    // (~10 ms of every start); migration names are ASCII.
    nameComparator: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? null;
    throw new MigrationError(failed, error);
  }
}

/**
 * True when the database has run exactly Tessera's migrations: the common start, one query
 * instead of Kysely's introspection of every schema and its migration lock. Anything else (no
 * table yet, a migration missing, one Tessera does not know) goes through the Migrator.
 */
async function upToDate(db: Kysely<Database>, migrationTableSchema: string | undefined): Promise<boolean> {
  const table = sql.table(
    migrationTableSchema === undefined ? 'kysely_migration' : `${migrationTableSchema}.kysely_migration`,
  );
  let names: string[];
  try {
    const { rows } = await sql<{ name: string }>`select name from ${table}`.execute(db);
    names = rows.map((r) => r.name);
  } catch {
    return false;
  }
  const known = Object.keys(migrations);
  return names.length === known.length && names.every((n) => n in migrations);
}

/** PostgreSQL errors of Kysely's introspection racing a schema dropped elsewhere (see migrateHere). */
const INTROSPECTION_RACES = new Set(['3F000', '42P01', '42703']);

/** A failed migration; `migration` is null when it failed before running any (Kysely's own checks). */
export class MigrationError extends Error {
  constructor(
    readonly migration: string | null,
    cause: unknown,
  ) {
    super(`database migration ${migration ?? 'unknown'} failed: ${(cause as Error).message ?? String(cause)}`, {
      cause,
    });
    this.name = 'MigrationError';
  }
}

/**
 * Kysely takes no lock on SQLite (it assumes one connection), but several processes may share
 * one SQLite file (`--workers`, or two `tessera start`). BEGIN IMMEDIATE takes SQLite's write
 * lock first (waiting up to busy_timeout), so the processes migrate one after the other and the
 * later ones find nothing left to do. SQLite DDL is transactional: a failure leaves nothing behind.
 */
async function migrateSqlite(db: Kysely<Database>, sqlite: SQLite.Database): Promise<void> {
  sqlite.exec('BEGIN IMMEDIATE');
  try {
    await migrate(db, 'sqlite');
    sqlite.exec('COMMIT');
  } catch (err) {
    if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
    throw err;
  }
}

/** True when `err` is a unique-constraint violation, on either dialect. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
