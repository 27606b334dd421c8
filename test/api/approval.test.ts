import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { admin, enc } from '../helpers/admin.js';
import { assertChallenge, assertError } from '../helpers/assert.js';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';
import { sharedSecretBody } from '../helpers/shared-secret.js';
import { passwordLogin, v1Password, whoami } from '../helpers/users.js';

// Approval of new accounts (MSC3866, as Synapse's `experimental_features.msc3866`): accounts
// of open registration (v1, v3) wait for an admin; operators' accounts are approved.

const V3 = '/_matrix/client/v3/register';
const V1 = '/_matrix/client/api/v1/register';
const LOGIN = '/_matrix/client/v3/login';
const AWAITING = 'ORG.MATRIX.MSC3866_USER_AWAITING_APPROVAL';
const SECRET = 'a shared secret';

function assertAwaiting(res: { status: number; body: any }): void {
  assertError(res, 403, AWAITING);
  assert.equal(res.body.approval_notice_medium, 'org.matrix.msc3866.none');
  assert.equal(res.body.access_token, undefined);
}

await describeEachBackend('approval of new accounts (MSC3866)', (backend) => {
  let s: TestServer;
  let adminToken: string;
  const loginAs = (user: string, password: string) => s.request('POST', LOGIN, passwordLogin(user, password));
  const approved = async (userId: string) => (await s.app.storage.users.findByUserId(userId))?.approved;
  const devices = async (userId: string) => (await s.app.storage.devices.listByUser(userId)).length;

  before(async () => {
    s = await startServer({
      backend,
      config: {
        experimental_features: { msc3866: { enabled: true, require_approval_for_new_accounts: true } },
        registration_shared_secret: SECRET,
        allow_guest_access: true,
      },
    });
    // The first admin is made by an operator (the admin API needs one).
    await s.app.services.users.register({
      localpart: 'root',
      password: { plain: 'pw-root' },
      isGuest: false,
      isAdmin: true,
      approved: true,
      login: null,
    });
    const res = await loginAs('root', 'pw-root');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    adminToken = res.body.access_token;
  });
  after(() => s.close());

  it('v3: registration completes with 403 and no token; the account exists, unapproved, without a device', async () => {
    const res = await s.request('POST', V3, {
      username: 'alice',
      password: 'pw-alice',
      auth: { type: 'm.login.dummy' },
    });
    assertAwaiting(res);
    assert.match(res.body.error, /approved by an administrator/);
    assert.equal(await approved('@alice:localhost'), 0);
    assert.equal(await devices('@alice:localhost'), 0);
  });

  it('v1: the same 403 instead of a login', async () => {
    const res = await s.request('POST', V1, v1Password('bob', 'pw-bob'));
    assertAwaiting(res);
    assert.equal(await approved('@bob:localhost'), 0);
    assert.equal(await devices('@bob:localhost'), 0);
  });

  it('login: the right password gets 403 awaiting approval, a wrong one 403 M_FORBIDDEN', async () => {
    const right = await loginAs('alice', 'pw-alice');
    assertAwaiting(right);
    assert.match(right.body.error, /pending approval/);
    assertError(await loginAs('alice', 'wrong'), 403, 'M_FORBIDDEN');
    assertAwaiting(await loginAs('@bob:localhost', 'pw-bob'));
    assert.equal(await devices('@alice:localhost'), 0);
  });

  it('a retry of the finished v3 session answers the same 403, never a token', async () => {
    const session = assertChallenge(await s.request('POST', V3, { username: 'carol', password: 'pw-carol' }));
    const body = { username: 'carol', password: 'pw-carol', auth: { type: 'm.login.dummy', session } };
    assertAwaiting(await s.request('POST', V3, body));
    assertAwaiting(await s.request('POST', V3, { auth: { type: 'm.login.dummy', session } }));
    assert.equal(await devices('@carol:localhost'), 0);
  });

  it('admin API: GET shows approved false; the list filters with approved=false', async () => {
    const one = await admin(s, adminToken, 'GET', `/v2/users/${enc('@alice:localhost')}`);
    assert.equal(one.status, 200, JSON.stringify(one.body));
    assert.equal(one.body.approved, false);
    const waiting = await admin(s, adminToken, 'GET', '/v2/users?approved=false');
    assert.equal(waiting.status, 200, JSON.stringify(waiting.body));
    assert.deepEqual(
      waiting.body.users.map((u: { name: string; approved: boolean }) => [u.name, u.approved]),
      [
        ['@alice:localhost', false],
        ['@bob:localhost', false],
        ['@carol:localhost', false],
      ],
    );
    const all = await admin(s, adminToken, 'GET', '/v2/users');
    assert.equal(all.body.total, 4);
    assert.equal(all.body.users.find((u: { name: string }) => u.name === '@root:localhost').approved, true);
  });

  it('admin API: PUT approved true lets the account log in; false makes it wait again', async () => {
    const put = await admin(s, adminToken, 'PUT', `/v2/users/${enc('@alice:localhost')}`, { approved: true });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.approved, true);
    const res = await loginAs('alice', 'pw-alice');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal((await whoami(s, res.body.access_token)).status, 200);

    const back = await admin(s, adminToken, 'PUT', `/v2/users/${enc('@alice:localhost')}`, { approved: false });
    assert.equal(back.body.approved, false);
    assertAwaiting(await loginAs('alice', 'pw-alice'));
    // As in Synapse, a token already given stays valid (lock or deactivate the account to end it).
    assert.equal((await whoami(s, res.body.access_token)).status, 200);
  });

  it('admin API: approved must be a boolean', async () => {
    const res = await admin(s, adminToken, 'PUT', `/v2/users/${enc('@bob:localhost')}`, { approved: 'yes' });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error, "'approved' parameter is not of type boolean");
    assert.equal(await approved('@bob:localhost'), 0);
  });

  it('operators make approved accounts: admin PUT (unless approved: false), shared secret; guests too', async () => {
    const made = await admin(s, adminToken, 'PUT', `/v2/users/${enc('@dave:localhost')}`, { password: 'pw-dave' });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body.approved, true);
    assert.equal((await loginAs('dave', 'pw-dave')).status, 200);

    const held = await admin(s, adminToken, 'PUT', `/v2/users/${enc('@erin:localhost')}`, {
      password: 'pw-erin',
      approved: false,
    });
    assert.equal(held.status, 201, JSON.stringify(held.body));
    assert.equal(held.body.approved, false);
    assertAwaiting(await loginAs('erin', 'pw-erin'));

    const nonce = (await s.request('GET', '/_synapse/admin/v1/register')).body.nonce;
    const shared = await s.request(
      'POST',
      '/_synapse/admin/v1/register',
      sharedSecretBody(SECRET, nonce, 'frank', 'pw-frank', false),
    );
    assert.equal(shared.status, 200, JSON.stringify(shared.body));
    assert.equal(typeof shared.body.access_token, 'string');
    assert.equal((await loginAs('frank', 'pw-frank')).status, 200);

    const guest = await s.request('POST', `${V3}?kind=guest`, {});
    assert.equal(guest.status, 200, JSON.stringify(guest.body));
    assert.equal((await whoami(s, guest.body.access_token)).status, 200);
    assert.equal(await approved(guest.body.user_id), 1);
  });
});

await describeEachBackend('approval: registration_requires_approval and enabled alone', (backend) => {
  let strict: TestServer;
  let lenient: TestServer;
  before(async () => {
    strict = await startServer({ backend, config: { registration_requires_approval: true } });
    lenient = await startServer({ backend, config: { experimental_features: { msc3866: { enabled: true } } } });
  });
  after(async () => {
    await strict.close();
    await lenient.close();
  });

  it("Tessera's registration_requires_approval: true is the same gate", async () => {
    assertAwaiting(await strict.request('POST', V1, v1Password('gina', 'pw-gina')));
    assert.equal((await strict.app.storage.users.findByUserId('@gina:localhost'))?.approved, 0);
  });

  it('msc3866.enabled without require_approval_for_new_accounts: accounts are approved at creation', async () => {
    const res = await lenient.request('POST', V3, {
      username: 'hank',
      password: 'pw-hank',
      auth: { type: 'm.login.dummy' },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal((await whoami(lenient, res.body.access_token)).status, 200);
    assert.equal((await lenient.app.storage.users.findByUserId('@hank:localhost'))?.approved, 1);
  });
});
