import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import SQLite from 'better-sqlite3';
import { stringify } from 'yaml';
import { POSTGRES_URL, postgresSkip } from '../helpers/backends.js';
import { freePort, spawnTessera } from '../helpers/processes.js';

/**
 * `tessera start` against a world that is not as its config says: one line on standard error
 * that names the config key and what to do, no stack trace, exit status 1 (2 is for the config
 * itself), and never a hang.
 */

const pgSkip = await postgresSkip();
const STACK_LINE = /^\s+at /m;

describe('start-up errors an operator can act on', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-startup-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Run `tessera start` with `config` (plus a free port) and return its exit and standard error. */
  async function start(name: string, config: Record<string, unknown>, args: string[] = []) {
    const file = join(dir, `${name}.yaml`);
    const port = await freePort();
    writeFileSync(
      file,
      stringify({
        server_name: 'localhost',
        listeners: [{ port, bind_addresses: ['127.0.0.1'] }],
        log_format: 'json',
        ...config,
      }),
    );
    const proc = spawnTessera(['start', '--config', file, ...args], dir);
    const exit = await proc.exited;
    return { exit, stderr: proc.stderr(), listening: proc.logs.some((l) => l.msg === 'Tessera is listening') };
  }

  function assertOneLine(r: { exit: { code: number | null }; stderr: string; listening: boolean }, expected: RegExp) {
    assert.equal(r.exit.code, 1, r.stderr);
    assert.equal(r.listening, false);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `one line, no stack trace:\n${r.stderr}`);
    assert.match(lines[0]!, /^tessera: /);
    assert.match(lines[0]!, expected);
  }

  const postgres = (args: Record<string, unknown>) => ({ database: { name: 'psycopg2', args } });

  it('PostgreSQL refuses the connection', async () => {
    const closed = await freePort();
    assertOneLine(
      await start('pg-refused', postgres({ host: '127.0.0.1', port: closed })),
      new RegExp(`PostgreSQL at 127\\.0\\.0\\.1:${closed} refused the connection.*database\\.args\\.host`),
    );
  });

  it('PostgreSQL host unknown', async () => {
    assertOneLine(
      await start('pg-host', postgres({ host: 'no-such-host.invalid' })),
      /PostgreSQL host no-such-host\.invalid is unknown \(database\.args\.host\)/,
    );
  });

  it('PostgreSQL accepts the connection but never answers: stops after connect_timeout', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as { port: number };
    try {
      const began = Date.now();
      const r = await start('pg-silent', postgres({ host: '127.0.0.1', port, connect_timeout: 1 }));
      assertOneLine(r, /did not answer within 1 s \(database\.args\.connect_timeout\)/);
      assert.ok(Date.now() - began < 30_000);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('PostgreSQL database missing', { skip: pgSkip }, async () => {
    const url = new URL(POSTGRES_URL);
    url.pathname = '/tessera_no_such_database';
    assertOneLine(
      await start('pg-nodb', postgres({ url: url.toString() })),
      /database "tessera_no_such_database" does not exist \(database\.args\.database\)\. Create it/,
    );
  });

  it('PostgreSQL role missing', { skip: pgSkip }, async () => {
    const url = new URL(POSTGRES_URL);
    url.username = 'tessera_no_such_role';
    assertOneLine(
      await start('pg-norole', postgres({ url: url.toString() })),
      /role "tessera_no_such_role" does not exist \(database\.args\.user\)/,
    );
  });

  it('PostgreSQL refuses the password: names the user and password keys', async () => {
    // A server that speaks just enough of PostgreSQL's protocol to refuse the login (an
    // ErrorResponse with SQLSTATE 28P01 after the startup message): the test database trusts
    // every local connection, so a real refusal cannot be had from it.
    const refusing: Server = createServer((socket) => {
      socket.once('data', () => {
        const fields = ['SFATAL', 'C28P01', 'Mpassword authentication failed for user "tessera"'];
        const body = Buffer.concat([...fields.map((f) => Buffer.from(`${f}\0`)), Buffer.from([0])]);
        const header = Buffer.alloc(5);
        header.write('E', 0);
        header.writeInt32BE(body.length + 4, 1);
        socket.end(Buffer.concat([header, body]));
      });
    });
    await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', r));
    const { port } = refusing.address() as { port: number };
    try {
      assertOneLine(
        await start('pg-password', postgres({ host: '127.0.0.1', port, user: 'tessera', password: 'wrong' })),
        /PostgreSQL at 127\.0\.0\.1:\d+: password authentication failed for user "tessera" \(database\.args\.user, database\.args\.password\)/,
      );
    } finally {
      refusing.close();
    }
  });

  it('the port is in use: names the listener', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const { port } = busy.address() as { port: number };
    try {
      const file = join(dir, 'busy.yaml');
      writeFileSync(
        file,
        stringify({
          server_name: 'localhost',
          listeners: [{ port, bind_addresses: ['127.0.0.1'] }],
          database: { name: 'sqlite3', args: { database: join(dir, 'busy.db') } },
        }),
      );
      const proc = spawnTessera(['start', '--config', file], dir);
      const exit = await proc.exited;
      assertOneLine(
        { exit, stderr: proc.stderr(), listening: false },
        new RegExp(`listeners\\[0\\]: 127\\.0\\.0\\.1:${port} is already in use`),
      );
    } finally {
      busy.close();
    }
  });

  it("Synapse's own SQLite database is refused, untouched", async () => {
    const path = join(dir, 'homeserver.db');
    const db = new SQLite(path);
    db.exec(
      'CREATE TABLE schema_version (version INTEGER); CREATE TABLE events (event_id TEXT); CREATE TABLE users (name TEXT)',
    );
    db.close();
    assertOneLine(
      await start('synapse-db', { database: { name: 'sqlite3', args: { database: path } } }),
      /tables that are not Tessera's \(events, schema_version, users\): it looks like a Synapse database\. Tessera needs a database .* of its own \(database\.args\.database\)/,
    );
    const after = new SQLite(path);
    const tables = after.prepare("select name from sqlite_master where type = 'table' order by name").pluck().all();
    after.close();
    assert.deepEqual(tables, ['events', 'schema_version', 'users'], 'nothing was created in it');
  });

  it('a SQLite path whose folder cannot be created', async () => {
    const notADir = join(dir, 'plain-file');
    writeFileSync(notADir, '');
    assertOneLine(
      await start('sqlite-path', { database: { name: 'sqlite3', args: { database: join(notADir, 'data', 't.db') } } }),
      /cannot create or open the SQLite database .*plain-file\/data\/t\.db \(database\.args\.database\)/,
    );
  });

  it('--debug adds the stack trace', async () => {
    const closed = await freePort();
    const r = await start('pg-debug', postgres({ host: '127.0.0.1', port: closed }), ['--debug']);
    assert.equal(r.exit.code, 1);
    assert.match(r.stderr, /^tessera: PostgreSQL at .* refused the connection/);
    assert.match(r.stderr, STACK_LINE);
  });
});
