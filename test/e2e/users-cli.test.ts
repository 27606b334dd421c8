import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { backendRuns, describeOrSkip } from '../helpers/backends.js';
import {
  type CliRun,
  call,
  runTessera,
  type SharedDatabase,
  sharedDatabase,
  startTessera,
  type TesseraProcess,
  writeConfig,
} from '../helpers/processes.js';

/**
 * `tessera users …`: the admin API's account operations as commands on the database of a
 * config, run as real processes beside a running server on the same database, whose HTTP
 * answers show the effects (tokens and devices gone, passwords changed, admin rights).
 */

const V1_REGISTER = '/_matrix/client/api/v1/register';
const LOGIN = '/_matrix/client/v3/login';
const WHOAMI = '/_matrix/client/v3/account/whoami';
const ADMIN_USERS = '/_synapse/admin/v2/users';

const users = (args: string[], stdin?: string) => runTessera(['users', ...args], stdin === undefined ? {} : { stdin });

/**
 * `tessera users <args>` on a terminal: util-linux `script` gives it a pseudo-terminal, and
 * each answer is typed once its question (a prompt ending in ": ") has appeared.
 */
async function usersOnTerminal(args: string[], answers: string[]): Promise<CliRun> {
  const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
  const command = [process.execPath, '--import', import.meta.resolve('tsx'), main, 'users', ...args]
    .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
    .join(' ');
  const { NODE_TEST_CONTEXT: _ignored, ...env } = process.env;
  const child = spawn('script', ['-qec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let asked = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    // A question ends in ": " with nothing after it on its line (yet), cursor movements aside.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences.
    const text = out.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');
    const prompts = text.match(/: (?=\r|\n|$)/g)?.length ?? 0;
    if (prompts > asked && asked < answers.length) child.stdin.write(`${answers[asked++]}\r`);
  });
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  // A question never answered fails the test instead of hanging it.
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearTimeout(timer);
  child.stdin.end();
  return { code, out: out.split(/\r?\n/), err };
}

const HAVE_SCRIPT = spawnSync('script', ['--version'], { encoding: 'utf8' }).stdout?.includes('util-linux') ?? false;

const show = (r: CliRun) => `exit ${r.code}\nstdout:\n${r.out.join('\n')}\nstderr:\n${r.err}`;

/**
 * The condition, polled: a server caches a token's validation for up to 500 ms, so a change
 * made by another process reaches it within that (README "Admin API").
 */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 3_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not within 3 s: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

for (const { backend, skip } of await backendRuns()) {
  describeOrSkip(`tessera users [${backend}]`, skip, () => {
    let db: SharedDatabase;
    let server: TesseraProcess;
    let config: string;
    const tokens: Record<string, { token: string; deviceId: string }> = {};

    const login = (user: string, password: string) =>
      call(server.url, 'POST', LOGIN, { type: 'm.login.password', user, password });
    const tokenWorks = async (token: string) =>
      (await call(server.url, 'GET', WHOAMI, undefined, token)).status === 200;

    before(async () => {
      db = sharedDatabase(backend);
      config = writeConfig(db);
      server = await startTessera(config);
      for (const name of ['alice', 'bob', 'carol', 'dave']) {
        const res = await call(server.url, 'POST', V1_REGISTER, {
          type: 'm.login.password',
          user: name,
          password: `old-${name}`,
        });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        tokens[name] = { token: res.body.access_token, deviceId: res.body.device_id };
      }
    });
    after(async () => {
      await server?.stop();
      await db?.cleanup();
    });

    it('deactivate without --yes and without a terminal is exit 2 and changes nothing', async () => {
      const r = await users(['deactivate', '-c', config, 'dave']);
      assert.equal(r.code, 2, show(r));
      assert.match(r.err, /^tessera: deactivating @dave:localhost needs --yes/);
      assert.equal((await login('dave', 'old-dave')).status, 200);
      assert.ok(await tokenWorks(tokens.dave!.token));
    });

    it('deactivate --yes: login refused, token dead', async () => {
      const r = await users(['deactivate', '-c', config, '@dave:localhost', '--yes']);
      assert.equal(r.code, 0, show(r));
      assert.deepEqual(r.out, ['deactivated @dave:localhost: its devices and access tokens are deleted']);
      await eventually(async () => !(await tokenWorks(tokens.dave!.token)), "dave's token is refused");
      const res = await login('dave', 'old-dave');
      assert.equal(res.status, 403, JSON.stringify(res.body));
    });

    it('list: a table of the active accounts, a page at a time, saying how to get the next page', async () => {
      const r = await users(['list', '-c', config, '--limit', '2']);
      assert.equal(r.code, 0, show(r));
      assert.match(r.out[0]!, /^USER ID\s+ADMIN\s+DEACTIVATED\s+LOCKED\s+GUEST\s+APPROVED\s+DISPLAY NAME\s+CREATED$/);
      assert.deepEqual(
        r.out.slice(1, 3).map((l) => l.split(/\s+/).slice(0, 6)),
        [
          ['@alice:localhost', 'no', 'no', 'no', 'no', 'yes'],
          ['@bob:localhost', 'no', 'no', 'no', 'no', 'yes'],
        ],
      );
      assert.equal(r.out[3], 'accounts 1–2 of 3');
      assert.equal(r.out[4], `next page: tessera users list -c ${config} --limit 2 --from 2`);
    });

    it('list --deactivated --json: the admin API answer, with the deactivated accounts', async () => {
      const r = await users(['list', '-c', config, '--deactivated', '--json']);
      assert.equal(r.code, 0, show(r));
      const body = JSON.parse(r.out.join('\n'));
      assert.equal(body.total, 4);
      assert.equal(body.next_token, undefined);
      assert.deepEqual(
        body.users.map((u: { name: string; deactivated: boolean }) => [u.name, u.deactivated]),
        [
          ['@alice:localhost', false],
          ['@bob:localhost', false],
          ['@carol:localhost', false],
          ['@dave:localhost', true],
        ],
      );
    });

    it('show: the account and its devices, as text and as JSON', async () => {
      const text = await users(['show', '-c', config, 'alice']);
      assert.equal(text.code, 0, show(text));
      assert.ok(text.out.includes('user id:        @alice:localhost'), show(text));
      assert.ok(text.out.includes('devices: 1'), show(text));
      assert.ok(
        text.out.some((l) => l.trim().startsWith(tokens.alice!.deviceId)),
        show(text),
      );
      const json = await users(['show', '-c', config, '@alice:localhost', '--json']);
      assert.equal(json.code, 0, show(json));
      const body = JSON.parse(json.out.join('\n'));
      assert.equal(body.user.name, '@alice:localhost');
      assert.equal(body.user.admin, false);
      assert.deepEqual(
        body.devices.map((d: { device_id: string }) => d.device_id),
        [tokens.alice!.deviceId],
      );
    });

    it("make-admin: the user's token can use the admin API; --revoke takes it back", async () => {
      const bob = tokens.bob!.token;
      assert.equal((await call(server.url, 'GET', ADMIN_USERS, undefined, bob)).status, 403);
      const r = await users(['make-admin', '-c', config, 'bob']);
      assert.equal(r.code, 0, show(r));
      assert.deepEqual(r.out, ['@bob:localhost is now a server admin']);
      await eventually(
        async () => (await call(server.url, 'GET', ADMIN_USERS, undefined, bob)).status === 200,
        'bob is an admin',
      );
      const revoked = await users(['make-admin', '-c', config, '@bob:localhost', '--revoke']);
      assert.equal(revoked.code, 0, show(revoked));
      await eventually(
        async () => (await call(server.url, 'GET', ADMIN_USERS, undefined, bob)).status === 403,
        'bob is no admin',
      );
    });

    it('reset-password -p: the new password logs in, the old one fails, the old token is dead', async () => {
      const r = await users(['reset-password', '-c', config, 'alice', '-p', 'new alice password']);
      assert.equal(r.code, 0, show(r));
      assert.deepEqual(r.out, ['password of @alice:localhost changed; every device is logged out']);
      assert.doesNotMatch(show(r), /new alice password|\$argon2/);
      await eventually(async () => !(await tokenWorks(tokens.alice!.token)), "alice's old token is refused");
      assert.equal((await login('alice', 'old-alice')).status, 403);
      assert.equal((await login('alice', 'new alice password')).status, 200);
    });

    it('reset-password --keep-devices, the password read from standard input: the old token still works', async () => {
      const r = await users(['reset-password', '-c', config, 'carol', '--keep-devices'], 'new carol password\n');
      assert.equal(r.code, 0, show(r));
      assert.doesNotMatch(show(r), /new carol password|\$argon2/);
      assert.equal((await login('carol', 'new carol password')).status, 200);
      assert.equal((await login('carol', 'old-carol')).status, 403);
      assert.ok(await tokenWorks(tokens.carol!.token));
    });

    it('on a terminal: reset-password asks twice without echo, deactivate asks first', {
      skip: !HAVE_SCRIPT && 'needs util-linux script',
    }, async () => {
      const reset = await usersOnTerminal(['reset-password', '-c', config, 'bob'], ['typed pw 1', 'typed pw 1']);
      assert.equal(reset.code, 0, show(reset));
      assert.doesNotMatch(reset.out.join('\n'), /typed pw/);
      assert.ok(
        reset.out.some((l) => l.startsWith('New password: ')),
        show(reset),
      );
      assert.ok(
        reset.out.some((l) => l.startsWith('Confirm password: ')),
        show(reset),
      );
      assert.equal((await login('bob', 'typed pw 1')).status, 200);
      const no = await usersOnTerminal(['deactivate', '-c', config, 'bob'], ['n']);
      assert.equal(no.code, 1, show(no));
      assert.ok(no.out.includes('nothing changed'), show(no));
      assert.equal((await login('bob', 'typed pw 1')).status, 200);
    });

    it('an unknown user is one line and exit 1', async () => {
      const r = await users(['make-admin', '-c', config, 'nobody']);
      assert.equal(r.code, 1, show(r));
      assert.equal(r.err, 'tessera: no such user @nobody:localhost\n');
      assert.deepEqual(r.out, []);
    });
  });
}

describe('tessera users: the command line', () => {
  it('bad arguments are exit 2 with the reason, before any database is opened', async () => {
    const limit = await users(['list', '-c', 'no-such-config.yaml', '--limit', 'ten']);
    assert.equal(limit.code, 2, show(limit));
    assert.match(limit.err, /--limit must be a whole number/);
    const noUser = await users(['reset-password', '-c', 'no-such-config.yaml']);
    assert.equal(noUser.code, 2, show(noUser));
    assert.match(noUser.err, /missing required argument 'user'/);
  });
});
