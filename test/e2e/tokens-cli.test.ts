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

// `tessera tokens …`: real processes acting on the config's database while a server runs on
// it; each effect is checked over the client API.

const V3 = '/_matrix/client/v3/register';
const STAGE = 'm.login.registration_token';

for (const { backend, skip } of await backendRuns()) {
  describeOrSkip(`tessera tokens [${backend}]`, skip, () => {
    let db: SharedDatabase;
    let config: string;
    let server: TesseraProcess;

    before(async () => {
      db = sharedDatabase(backend);
      config = writeConfig(db, { registration_requires_token: true });
      server = await startTessera(config);
    });
    after(async () => {
      await server?.stop();
      await db?.cleanup();
    });

    /** Run `tessera tokens <args> -c <config>`; returns the exit status, stdout and stderr. */
    async function tokens(...args: string[]) {
      const { code, out, err } = await runTessera(['tokens', ...args, '-c', config]);
      return { code, stdout: out.join('\n'), stderr: err };
    }

    async function json(...args: string[]) {
      const r = await tokens(...args, '--json');
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout);
    }

    /** Register `username` with `token` over v3; the last reply. */
    async function register(username: string, token: string) {
      const challenge = await call(server.url, 'POST', V3, { username });
      const session = challenge.body.session;
      const held = await call(server.url, 'POST', V3, { auth: { type: STAGE, token, session } });
      if (held.body.errcode !== undefined) return held;
      return call(server.url, 'POST', V3, { password: 'pw', auth: { type: 'm.login.dummy', session } });
    }

    it('create: a generated token and a named one; a duplicate exits 1 with the message', async () => {
      const generated = await json('create', '--length', '24', '--uses-allowed', '1');
      assert.match(generated.token, /^[A-Za-z0-9._~-]{24}$/);
      assert.equal(generated.uses_allowed, 1);
      const named = await json('create', '--token', 'cli-token', '--expiry-time', '2099-12-31T00:00:00Z');
      assert.deepEqual(named, {
        token: 'cli-token',
        uses_allowed: null,
        pending: 0,
        completed: 0,
        expiry_time: Date.parse('2099-12-31T00:00:00Z'),
      });
      const dup = await tokens('create', '--token', 'cli-token');
      assert.equal(dup.code, 1);
      assert.match(dup.stderr, /Token already exists: cli-token/);
      const bad = await tokens('create', '--uses-allowed', 'lots');
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--uses-allowed must be a non-negative integer/);
    });

    it('the running server takes a token the CLI made; show counts the use', async () => {
      const res = await register('clara', 'cli-token');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal((await json('show', 'cli-token')).completed, 1);
      const human = await tokens('show', 'cli-token');
      assert.match(human.stdout, /^cli-token {2}uses_allowed=unlimited pending=0 completed=1 expires=2099-12-31T/);
    });

    it('list, --valid and --invalid; update to used up refuses the next sign-up; delete', async () => {
      const all = (await json('list')).registration_tokens.map((t: { token: string }) => t.token);
      assert.equal(all.length, 2);
      const updated = await json('update', 'cli-token', '--uses-allowed', '1', '--expiry-time', 'never');
      assert.deepEqual(updated, { token: 'cli-token', uses_allowed: 1, pending: 0, completed: 1, expiry_time: null });
      const invalid = (await json('list', '--invalid')).registration_tokens.map((t: { token: string }) => t.token);
      assert.deepEqual(invalid, ['cli-token']);
      assert.equal((await json('list', '--valid')).registration_tokens.length, 1);
      const refused = await register('dora', 'cli-token');
      assert.equal(refused.body.errcode, 'M_UNAUTHORIZED', JSON.stringify(refused.body));
      assert.deepEqual(await json('update', 'cli-token', '--uses-allowed', 'unlimited'), {
        ...updated,
        uses_allowed: null,
      });
      assert.equal((await register('dora', 'cli-token')).status, 200);

      const deleted = await tokens('delete', 'cli-token');
      assert.equal(deleted.code, 0, deleted.stderr);
      const gone = await tokens('show', 'cli-token');
      assert.equal(gone.code, 1);
      assert.match(gone.stderr, /No such registration token: cli-token/);
      assert.equal((await register('erin', 'cli-token')).body.errcode, 'M_UNAUTHORIZED');
    });

    it('a mistake on the command line exits 2 (README: 2 for a bad config or flag)', async () => {
      const unknownFlag = await tokens('list', '--bogus');
      assert.equal(unknownFlag.code, 2, unknownFlag.stderr);
      assert.match(unknownFlag.stderr, /unknown option '--bogus'/);
      const badNumber = await tokens('create', '--uses-allowed', 'many');
      assert.equal(badNumber.code, 2, badNumber.stderr);
      const noConfig = spawnTessera(['tokens', 'list']);
      assert.equal((await noConfig.exited).code, 2, noConfig.stderr());
    });
  });
}
