import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { backendRuns, describeOrSkip } from '../helpers/backends.js';
import {
  call,
  runTessera,
  type SharedDatabase,
  sharedDatabase,
  startTessera,
  type TesseraProcess,
  writeConfig,
} from '../helpers/processes.js';

/**
 * `tessera users approve` (MSC3866) as a real process beside a running server that requires
 * approval of new accounts, on the same database: the server's login answers show the effect.
 */

const V1_REGISTER = '/_matrix/client/api/v1/register';
const V3_REGISTER = '/_matrix/client/v3/register';
const LOGIN = '/_matrix/client/v3/login';
const AWAITING = 'ORG.MATRIX.MSC3866_USER_AWAITING_APPROVAL';

const users = (args: string[]) => runTessera(['users', ...args]);

for (const { backend, skip } of await backendRuns()) {
  describeOrSkip(`tessera users approve [${backend}]`, skip, () => {
    let db: SharedDatabase;
    let server: TesseraProcess;
    let config: string;
    const login = (user: string, password: string) =>
      call(server.url, 'POST', LOGIN, { type: 'm.login.password', user, password });

    before(async () => {
      db = sharedDatabase(backend);
      config = writeConfig(db, {
        experimental_features: { msc3866: { enabled: true, require_approval_for_new_accounts: true } },
      });
      server = await startTessera(config);
      const v1 = await call(server.url, 'POST', V1_REGISTER, {
        type: 'm.login.password',
        user: 'ann',
        password: 'pw-ann',
      });
      assert.equal(v1.status, 403, JSON.stringify(v1.body));
      assert.equal(v1.body.errcode, AWAITING);
      const v3 = await call(server.url, 'POST', V3_REGISTER, {
        username: 'ben',
        password: 'pw-ben',
        auth: { type: 'm.login.dummy' },
      });
      assert.equal(v3.status, 403, JSON.stringify(v3.body));
      assert.equal(v3.body.errcode, AWAITING);
    });
    after(async () => {
      await server?.stop();
      await db?.cleanup();
    });

    it('list --unapproved shows the accounts waiting; show says approved: no', async () => {
      const r = await users(['list', '-c', config, '--unapproved', '--json']);
      assert.equal(r.code, 0, r.err);
      const body = JSON.parse(r.out.join('\n'));
      assert.deepEqual(
        body.users.map((u: { name: string; approved: boolean }) => [u.name, u.approved]),
        [
          ['@ann:localhost', false],
          ['@ben:localhost', false],
        ],
      );
      const shown = await users(['show', '-c', config, 'ann']);
      assert.equal(shown.code, 0, shown.err);
      assert.ok(
        shown.out.some((l) => /^approved:\s+no$/.test(l)),
        shown.out.join('\n'),
      );
    });

    it('approve: the account logs in (v1 and v3 accounts alike)', async () => {
      assert.equal((await login('ann', 'pw-ann')).body.errcode, AWAITING);
      for (const name of ['ann', '@ben:localhost']) {
        const r = await users(['approve', '-c', config, name]);
        assert.equal(r.code, 0, r.err);
      }
      const ann = await login('ann', 'pw-ann');
      assert.equal(ann.status, 200, JSON.stringify(ann.body));
      assert.equal((await login('ben', 'pw-ben')).status, 200);
      const r = await users(['list', '-c', config, '--unapproved']);
      assert.deepEqual(r.out, ['no accounts']);
    });

    it('approve --revoke: the account waits again; an unknown user is exit 1', async () => {
      const r = await users(['approve', '-c', config, 'ben', '--revoke']);
      assert.equal(r.code, 0, r.err);
      assert.deepEqual(r.out, ['@ben:localhost is awaiting approval: it cannot log in']);
      const res = await login('ben', 'pw-ben');
      assert.equal(res.status, 403, JSON.stringify(res.body));
      assert.equal(res.body.errcode, AWAITING);
      const unknown = await users(['approve', '-c', config, 'nobody']);
      assert.equal(unknown.code, 1);
      assert.match(unknown.err, /^tessera: no such user @nobody:localhost/);
    });
  });
}
