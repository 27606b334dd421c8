import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { sql } from 'kysely';
import { stringify } from 'yaml';
import { createApp } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { listTables } from '../../src/storage/copy.js';
import { type OpenDatabase, openDatabase } from '../../src/storage/open.js';
import { describeOrSkip, dropSchema, POSTGRES_URL, postgresSkip, uniqueSchemaName } from '../helpers/backends.js';
import { spawnTessera } from '../helpers/processes.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { registerUser } from '../helpers/users.js';
import { makeUiaSession, postgresConfig } from '../storage/fixture.js';

// `tessera migrate-db --config <sqlite config> --to postgres://…`, run as the real CLI.

const NOW = 1_750_000_000_000;

/** Run `tessera <args>` to the end. */
async function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawnTessera(args);
  const { code } = await proc.exited;
  return { code, stdout: proc.lines.join('\n'), stderr: proc.stderr() };
}

/** Every row of every table, in a stable order, for comparing two databases. */
async function dump(open: OpenDatabase): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of await listTables(open)) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(open.db);
    out[table] = rows.rows
      .map((r) => Object.fromEntries(Object.entries(r).sort(([a], [b]) => a.localeCompare(b))))
      .sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
  }
  return out;
}

describeOrSkip('tessera migrate-db (SQLite → PostgreSQL)', await postgresSkip(), () => {
  let source: TestServer;
  let dir: string;
  let configPath: string;
  let sqlitePath: string;
  const schema = uniqueSchemaName();
  const tokens: string[] = [];

  before(async () => {
    // A SQLite database with real data: users through the API, then every other table.
    source = await startServer({ backend: 'sqlite' });
    for (const user of ['alice', 'bob', 'Carol']) tokens.push((await registerUser(source, user, 'pw')).token);
    const { storage } = source.app;
    await storage.devices.upsert('@alice:localhost', 'SECOND', 'tablet', NOW);
    await source.app.storage.refreshTokens.create({
      id: 'rt1',
      tokenHash: 'rthash1',
      userId: '@alice:localhost',
      deviceId: 'SECOND',
      createdTs: NOW,
      expiresTs: null,
      used: 0,
    });
    const session = await makeUiaSession(storage, Number.MAX_SAFE_INTEGER);
    await storage.uiaSessions.addStage(session, 'm.login.recaptcha', { ok: true }, NOW, 1);
    sqlitePath = (source.config.database as { path: string }).path;
    await source.app.close();

    dir = mkdtempSync(join(tmpdir(), 'tessera-migrate-'));
    configPath = join(dir, 'tessera.yaml');
    writeFileSync(
      configPath,
      stringify({ server_name: 'localhost', database: { name: 'sqlite3', args: { database: sqlitePath } } }),
    );
  });

  after(async () => {
    await source.close();
    rmSync(dir, { recursive: true, force: true });
    await dropSchema(schema);
  });

  it('copies every table, prints matching counts, and the tokens work on PostgreSQL', async () => {
    const run = await cli(['migrate-db', '--config', configPath, '--to', POSTGRES_URL, '--schema', schema]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /users\s+3 → 3/);
    assert.match(run.stdout, /devices\s+4 → 4/);
    assert.match(run.stdout, /access_tokens\s+3 → 3/);
    assert.match(run.stdout, /refresh_tokens\s+1 → 1/);
    assert.match(run.stdout, /uia_sessions\s+1 → 1/);
    assert.match(run.stdout, /uia_stages\s+1 → 1/);
    assert.match(run.stdout, /every row count matches/);

    const [from, to] = await Promise.all([
      openDatabase({ kind: 'sqlite', path: sqlitePath }),
      openDatabase(postgresConfig(schema, 2)),
    ]);
    try {
      assert.deepEqual(await dump(to), await dump(from));
    } finally {
      await Promise.all([from.close(), to.close()]);
    }

    // A Tessera on the copy accepts the tokens issued by the SQLite one.
    const { config } = validateConfig(
      {
        server_name: 'localhost',
        listeners: [{ port: 0, bind_addresses: ['127.0.0.1'] }],
        database: { name: 'psycopg2', args: { url: POSTGRES_URL, schema } },
        log_level: 'silent',
      },
      dir,
    );
    const app = await createApp({ config });
    try {
      const [url] = await app.listen();
      const who = await fetch(`${url}/_matrix/client/v3/account/whoami`, {
        headers: { authorization: `Bearer ${tokens[2]}` },
      });
      assert.equal(who.status, 200);
      assert.equal(((await who.json()) as { user_id: string }).user_id, '@carol:localhost');
    } finally {
      await app.close();
    }
  });

  it('refuses a non-empty target and writes nothing', async () => {
    const run = await cli(['migrate-db', '--config', configPath, '--to', POSTGRES_URL, '--schema', schema]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /target database is not empty \(users: 3/);
    assert.match(run.stderr, /nothing was written/);
  });

  it('refuses a target that is not a postgres URL, and a PostgreSQL source (exit 2)', async () => {
    const bad = await cli(['migrate-db', '--config', configPath, '--to', 'mysql://x@y/z']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--to must be a postgres:\/\//);
    const pgSourcePath = join(dir, 'pg.yaml');
    writeFileSync(
      pgSourcePath,
      stringify({ server_name: 'localhost', database: { name: 'psycopg2', args: { url: POSTGRES_URL } } }),
    );
    const pgSource = await cli(['migrate-db', '--config', pgSourcePath, '--to', POSTGRES_URL]);
    assert.equal(pgSource.code, 2);
    assert.match(pgSource.stderr, /copies from SQLite/);
  });
});
