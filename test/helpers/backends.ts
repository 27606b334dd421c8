import { describe, it } from 'node:test';
import pg from 'pg';

/**
 * The storage backends every storage and HTTP test runs on (Dendrite's WithAllDatabases).
 * PostgreSQL comes from TESSERA_TEST_POSTGRES (default postgres://postgres@127.0.0.1:5432/test).
 * Locally a server that cannot be used skips those suites (counted as skipped, with its error);
 * in CI (CI=true) it is a failure: the postgres variants still run, and fail to connect.
 */
export type Backend = 'sqlite' | 'postgres';

export const POSTGRES_URL = process.env.TESSERA_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

/** Why PostgreSQL cannot be used (its own error, e.g. `database "test" does not exist`), or null. */
async function postgresProblem(): Promise<string | null> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return [e.code, e.message].filter(Boolean).join(': ') || String(err);
  } finally {
    await client.end().catch(() => {});
  }
}

/** A backend to run a suite on, and why it is skipped (false: it runs). */
export interface BackendRun {
  backend: Backend;
  skip: string | false;
}

let cached: BackendRun[] | null = null;

/**
 * Every backend wanted (TESSERA_TEST_BACKENDS, default both). PostgreSQL that cannot be used is
 * skipped with its real error, loudly, and counted as skipped by the runner; in CI it runs and
 * fails instead.
 */
export async function backendRuns(): Promise<BackendRun[]> {
  if (cached !== null) return cached;
  const only = process.env.TESSERA_TEST_BACKENDS?.split(',').map((s) => s.trim()) as Backend[] | undefined;
  const wanted: Backend[] = only ?? ['sqlite', 'postgres'];
  const out: BackendRun[] = [];
  for (const backend of wanted) {
    const problem = backend === 'postgres' && !IN_CI ? await postgresProblem() : null;
    if (problem !== null) {
      process.stderr.write(
        `\n!!! PostgreSQL at ${POSTGRES_URL} cannot be used (${problem}): SKIPPING the PostgreSQL variants.\n` +
          '!!! Start it, create the database (createdb test), or set TESSERA_TEST_POSTGRES. In CI (CI=true) this is a failure.\n\n',
      );
    }
    out.push({ backend, skip: problem === null ? false : `PostgreSQL cannot be used: ${problem}` });
  }
  cached = out;
  return out;
}

/** The backends that run (for tests that only make sense on one of them). */
export async function availableBackends(): Promise<Backend[]> {
  return (await backendRuns()).filter((r) => r.skip === false).map((r) => r.backend);
}

/** Why the PostgreSQL-only suites are skipped, or false when they run. */
export async function postgresSkip(): Promise<string | false> {
  return (
    (await backendRuns()).find((r) => r.backend === 'postgres')?.skip ?? 'TESSERA_TEST_BACKENDS leaves PostgreSQL out'
  );
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

/**
 * `describe(name, fn)`, or when `skip` gives a reason, one skipped test in its place: node's
 * runner counts skipped tests (not skipped suites) in its closing summary.
 */
export function describeOrSkip(name: string, skip: string | false, fn: () => void): void {
  if (skip === false) describe(name, fn);
  else it(name, { skip }, () => {});
}
