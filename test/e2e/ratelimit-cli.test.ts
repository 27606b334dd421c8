import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { backendRuns, describeOrSkip } from '../helpers/backends.js';
import {
  call,
  runTessera,
  type SharedDatabase,
  sharedDatabase,
  spawnTessera,
  startTessera,
  type TesseraProcess,
  writeConfig,
} from '../helpers/processes.js';
import { v1Password } from '../helpers/users.js';

// `tessera ratelimit clear`: the buckets live in the database, so a command on the config's
// database empties them for a running server at once.

const LOGIN = '/_matrix/client/v3/login';
const login = (url: string, user: string, password: string) =>
  call(url, 'POST', LOGIN, { type: 'm.login.password', identifier: { type: 'm.id.user', user }, password });

for (const { backend, skip } of await backendRuns()) {
  describeOrSkip(`tessera ratelimit clear [${backend}]`, skip, () => {
    let db: SharedDatabase;
    let config: string;
    let server: TesseraProcess;

    before(async () => {
      db = sharedDatabase(backend);
      const tight = { per_second: 0.001, burst_count: 2 };
      const open = { per_second: 1000, burst_count: 1000 };
      config = writeConfig(db, { rc_login: { address: tight, account: open, failed_attempts: tight } });
      server = await startTessera(config);
      for (const user of ['ann', 'ben']) {
        assert.equal(
          (await call(server.url, 'POST', '/_matrix/client/api/v1/register', v1Password(user, 'pw'))).status,
          200,
        );
      }
    });
    after(async () => {
      await server?.stop();
      await db?.cleanup();
    });

    async function clear(...args: string[]): Promise<string> {
      const { code, out, err } = await runTessera(['ratelimit', 'clear', '-c', config, ...args]);
      assert.equal(code, 0, err);
      return out.join('\n');
    }

    it('--address empties one address: the next login gets through again', async () => {
      assert.equal((await login(server.url, 'ann', 'pw')).status, 200);
      assert.equal((await login(server.url, 'ann', 'pw')).status, 200);
      assert.equal((await login(server.url, 'ann', 'pw')).status, 429);
      assert.match(await clear('--address', '10.9.9.9'), /^cleared 0 rate-limit buckets of 10\.9\.9\.9$/);
      assert.equal((await login(server.url, 'ann', 'pw')).status, 429, 'another address changes nothing');
      assert.match(await clear('--address', '127.0.0.1'), /^cleared [1-9][0-9]* rate-limit buckets? of 127\.0\.0\.1$/);
      assert.equal((await login(server.url, 'ann', 'pw')).status, 200);
    });

    it('--user empties an account’s wrong-password bucket; without a filter, all go', async () => {
      await clear();
      assert.equal((await login(server.url, 'ben', 'wrong')).status, 403);
      assert.equal((await login(server.url, 'ben', 'wrong')).status, 403);
      await clear('--address', '127.0.0.1');
      assert.equal((await login(server.url, 'ben', 'pw')).status, 429, 'the wrong-password bucket of ben is full');
      assert.match(await clear('--user', 'ben'), /of @ben:localhost$/);
      assert.equal((await login(server.url, 'ben', 'pw')).status, 200);
      assert.match(await clear(), /^cleared [1-9][0-9]* rate-limit buckets?$/);
    });

    it('a database that cannot be opened is one line naming the key, exit 1', async () => {
      const unreachable = writeConfig(
        db,
        { database: { name: 'psycopg2', args: { host: '127.0.0.1', port: 1, connect_timeout: 2 } } },
        'unreachable.yaml',
      );
      const proc = spawnTessera(['ratelimit', 'clear', '-c', unreachable]);
      assert.equal((await proc.exited).code, 1);
      assert.match(proc.stderr(), /^tessera: PostgreSQL at 127\.0\.0\.1:1 refused the connection/);
      assert.equal(proc.stderr().trimEnd().split('\n').length, 1, proc.stderr());
    });

    it('--address and --user together is a usage error (exit 2)', async () => {
      const proc = spawnTessera(['ratelimit', 'clear', '-c', config, '--address', '1.2.3.4', '--user', 'ben']);
      assert.equal((await proc.exited).code, 2);
      assert.match(proc.stderr(), /give --address or --user, not both/);
    });
  });
}
