import SQLite from 'better-sqlite3';
import pg from 'pg';
import { POSTGRES_URL } from './backends.js';
import type { TestServer } from './server.js';

/**
 * Read a test server's database over a connection of its own, to check what a request stored
 * (or did not). `sql` is one `SELECT count(*) AS n …` valid on SQLite and PostgreSQL.
 */
export async function countWhere(s: TestServer, sql: string): Promise<number> {
  const db = s.app.config.database;
  if (db.kind === 'sqlite') {
    const conn = new SQLite(db.path);
    try {
      return Number((conn.prepare(sql).get() as { n: number | bigint }).n);
    } finally {
      conn.close();
    }
  }
  const client = new pg.Client({ connectionString: POSTGRES_URL, options: `-c search_path=${db.schema}` });
  await client.connect();
  try {
    return Number((await client.query<{ n: string }>(sql)).rows[0]?.n);
  } finally {
    await client.end();
  }
}

/** How many rows `table` holds. */
export function countRows(s: TestServer, table: string): Promise<number> {
  return countWhere(s, `SELECT count(*) AS n FROM ${table}`);
}
