import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { backendRuns, describeOrSkip, POSTGRES_URL } from '../helpers/backends.js';
import {
  call,
  freePort,
  runTessera,
  type SharedDatabase,
  sharedDatabase,
  spawnTessera,
  startTessera,
  type TesseraProcess,
  writeConfig,
} from '../helpers/processes.js';

/**
 * `tessera register-user`, Synapse's register_new_matrix_user with the same flags and output,
 * against a real running server whose public registration is closed: how an operator creates
 * the first account.
 */

const SECRET = 'operator secret';
const LOGIN = '/_matrix/client/v3/login';

const run = (args: string[]) => runTessera(['register-user', ...args]);

async function isAdmin(db: SharedDatabase, userId: string): Promise<number | undefined> {
  if (db.sqlitePath !== null) {
    const conn = new SQLite(db.sqlitePath, { readonly: true });
    try {
      return (conn.prepare('select is_admin from users where user_id = ?').get(userId) as { is_admin: number })
        ?.is_admin;
    } finally {
      conn.close();
    }
  }
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    const res = await client.query(`select is_admin from "${db.schema}".users where user_id = $1`, [userId]);
    return res.rows[0]?.is_admin;
  } finally {
    await client.end();
  }
}

for (const { backend, skip } of await backendRuns()) {
  describeOrSkip(`tessera register-user [${backend}]`, skip, () => {
    let db: SharedDatabase;
    let server: TesseraProcess;
    let config: string;
    before(async () => {
      db = sharedDatabase(backend);
      const port = await freePort();
      config = writeConfig(db, {
        listeners: [{ port, type: 'http', bind_addresses: ['127.0.0.1'] }],
        enable_registration: false,
        registration_shared_secret: SECRET,
      });
      server = await startTessera(config);
    });
    after(async () => {
      await server?.stop();
      await db.cleanup();
    });

    it('-c CONFIG -u -p -a creates an admin who can log in, finding the server from the config', async () => {
      const { code, out, err } = await run(['-c', config, '-u', 'admin', '-p', 'first password', '-a']);
      assert.equal(code, 0, out.join('\n') + err);
      assert.deepEqual(out, ['Sending registration request...', 'Success!']);
      const res = await call(server.url, 'POST', LOGIN, {
        type: 'm.login.password',
        user: 'admin',
        password: 'first password',
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.user_id, '@admin:localhost');
      assert.equal(await isAdmin(db, '@admin:localhost'), 1);
    });

    it('-k SECRET URL --no-admin creates an ordinary user', async () => {
      const { code, out } = await run(['-k', SECRET, '-u', 'bob', '-p', 'pw', '--no-admin', server.url]);
      assert.equal(code, 0, out.join('\n'));
      const res = await call(server.url, 'POST', LOGIN, { type: 'm.login.password', user: 'bob', password: 'pw' });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(await isAdmin(db, '@bob:localhost'), 0);
    });

    it('an existing user is an error, unless --exists-ok', async () => {
      const taken = await run(['-k', SECRET, '-u', 'bob', '-p', 'pw', '--no-admin', server.url]);
      assert.equal(taken.code, 1);
      assert.deepEqual(taken.out.slice(1), ['ERROR! Received 400 Bad Request', 'User ID already taken.']);
      const ok = await run(['-k', SECRET, '-u', 'bob', '-p', 'pw', '--no-admin', '--exists-ok', server.url]);
      assert.equal(ok.code, 0);
      assert.deepEqual(ok.out, ['Sending registration request...', 'User already exists. Skipping.']);
    });

    it('a wrong secret is refused with the server error, exit 1, and creates nothing', async () => {
      const { code, out } = await run(['-k', 'not the secret', '-u', 'eve', '-p', 'pw', '-a', server.url]);
      assert.equal(code, 1);
      assert.deepEqual(out.slice(1), ['ERROR! Received 403 Forbidden', 'HMAC incorrect']);
      const res = await call(server.url, 'POST', LOGIN, { type: 'm.login.password', user: 'eve', password: 'pw' });
      assert.equal(res.status, 403);
    });

    it('a missing value without a terminal to ask on is an error, not a hang', async () => {
      const { code, err } = await run(['-k', SECRET, '-p', 'pw', '-a', server.url]);
      assert.equal(code, 2);
      assert.match(err, /New user localpart is required/);
      const both = await run(['-u', 'x', '-p', 'pw', '-a', server.url]);
      assert.equal(both.code, 2);
      assert.match(both.err, /-c\/--config and -k\/--shared-secret/);
    });
  });
}

describe('tessera command line', () => {
  it('an unknown command is an error that lists the commands; --version prints the version', async () => {
    const unknown = spawnTessera(['no-such-command']);
    const { code } = await unknown.exited;
    assert.notEqual(code, 0);
    assert.match(unknown.stderr(), /unknown command 'no-such-command'/);
    assert.match(unknown.stderr(), /register-user/);
    const version = spawnTessera(['--version']);
    assert.equal((await version.exited).code, 0);
    assert.match(version.lines[0] ?? '', /^[0-9]+\.[0-9]+\.[0-9]+$/);
  });
});
