import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config/config.js';
import { migrations } from './migrations/index.js';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

export interface OpenDatabase {
  db: Kysely<Database>;
  dialect: Dialect;
  close(): Promise<void>;
}

/** pg returns int8 as a string; our bigints are ms timestamps below 2^53, so parse them. */
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
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
    types: pgTypes,
    ...(cfg.schema !== null && { options: `-c search_path=${cfg.schema}` }),
  };
}

/** Open the configured database and bring its schema up to date. */
export async function openDatabase(cfg: DatabaseConfig): Promise<OpenDatabase> {
  let db: Kysely<Database>;
  let dialect: Dialect;
  if (cfg.kind === 'sqlite') {
    if (cfg.path !== ':memory:') mkdirSync(dirname(cfg.path), { recursive: true });
    const sqlite = new SQLite(cfg.path);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    dialect = 'sqlite';
  } else {
    const poolConfig = postgresPoolConfig(cfg);
    if (cfg.schema !== null) {
      // The schema must exist before search_path can point at it.
      const { options: _o, ...withoutSearchPath } = poolConfig;
      const client = new pg.Client(withoutSearchPath);
      await client.connect();
      try {
        await client.query(`CREATE SCHEMA IF NOT EXISTS "${cfg.schema}"`);
      } finally {
        await client.end();
      }
    }
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool(poolConfig) }) });
    dialect = 'postgres';
  }
  try {
    await migrate(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return { db, dialect, close: () => db.destroy() };
}

export async function migrate(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration ${failed} failed: ${(error as Error).message ?? String(error)}`);
  }
}

/** True when `err` is a unique-constraint violation, on either dialect. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
