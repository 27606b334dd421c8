import pg from 'pg';

/**
 * The storage backends every storage and HTTP test runs on (Dendrite's WithAllDatabases).
 * PostgreSQL comes from TESSERA_TEST_POSTGRES (default postgres://postgres@127.0.0.1:5432/test).
 * Locally a missing server skips those tests with a loud message; in CI (CI=true) it is a
 * failure: the postgres variants still run, and fail to connect.
 */
export type Backend = 'sqlite' | 'postgres';

export const POSTGRES_URL = process.env.TESSERA_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

let cached: Backend[] | null = null;

export async function availableBackends(): Promise<Backend[]> {
  if (cached !== null) return cached;
  const only = process.env.TESSERA_TEST_BACKENDS?.split(',').map((s) => s.trim()) as Backend[] | undefined;
  const wanted: Backend[] = only ?? ['sqlite', 'postgres'];
  const out: Backend[] = [];
  for (const b of wanted) {
    if (b === 'postgres' && !IN_CI && !(await postgresReachable())) {
      process.stderr.write(
        `\n!!! PostgreSQL is not reachable at ${POSTGRES_URL}: SKIPPING the PostgreSQL variants of the tests.\n` +
          '!!! Set TESSERA_TEST_POSTGRES, or start PostgreSQL. In CI (CI=true) this is a failure.\n\n',
      );
      continue;
    }
    out.push(b);
  }
  cached = out;
  return out;
}

/** A schema name no other run uses, so parallel runs and test files never collide. */
export function uniqueSchemaName(): string {
  return `t_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

/** Drop a test schema and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
