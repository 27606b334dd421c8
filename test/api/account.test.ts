import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { assertError, assertPasswordChallenge } from '../helpers/assert.js';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';
import {
  loginErrcode,
  newDevice,
  passwordAuth,
  registerUser,
  type TestUser,
  whoami,
  whoamiStatus,
} from '../helpers/users.js';

const V3 = '/_matrix/client/v3';
const PASSWORD = `${V3}/account/password`;
const DEACTIVATE = `${V3}/account/deactivate`;

await describeEachBackend('account: password change', (backend) => {
  let s: TestServer;
  let bob: TestUser;
  before(async () => {
    s = await startServer({ backend });
    bob = await registerUser(s, 'bob');
  });
  after(() => s.close());

  it('without auth: 401 challenge offering m.login.password, no errcode', async () => {
    const alice = await registerUser(s, 'alice1');
    const res = await s.request('POST', PASSWORD, { new_password: 'new-pw-1' }, { token: alice.token });
    assertPasswordChallenge(res);
    assert.deepEqual(res.body.params, {});
    assert.equal(await loginErrcode(s, alice.userId, alice.password), null);
  });

  it('changes the password in two steps; other devices are logged out, the caller is not', async () => {
    const alice = await registerUser(s, 'alice2');
    const other = await newDevice(s, alice);
    assert.equal(await whoamiStatus(s, other.token), 200); // cached before the change
    const first = await s.request('POST', PASSWORD, { new_password: 'brand-new-1' }, { token: alice.token });
    assertPasswordChallenge(first);
    // A challenge hashes nothing: the session keeps neither the password nor a hash of it.
    const stored = await s.app.storage.uiaSessions.find(first.body.session, Date.now());
    assert.ok(stored !== null);
    assert.ok(!stored.request_body.includes('brand-new-1'), stored.request_body);
    assert.doesNotMatch(stored.request_body, /\$argon2id\$/);
    // So the request that completes the authentication carries the new password.
    const without = await s.request(
      'POST',
      PASSWORD,
      { auth: passwordAuth(alice.userId, alice.password, first.body.session) },
      { token: alice.token },
    );
    assertError(without, 400, 'M_MISSING_PARAM');
    const second = await s.request('POST', PASSWORD, {}, { token: alice.token });
    const res = await s.request(
      'POST',
      PASSWORD,
      { new_password: 'brand-new-1', auth: passwordAuth(alice.userId, alice.password, second.body.session) },
      { token: alice.token },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, {});
    assert.equal(await whoamiStatus(s, alice.token), 200);
    assert.equal(await whoamiStatus(s, other.token), 401);
    const list = await s.request('GET', `${V3}/devices`, undefined, { token: alice.token });
    assert.deepEqual(
      list.body.devices.map((d: { device_id: string }) => d.device_id),
      [alice.deviceId],
    );
    assert.equal(await loginErrcode(s, alice.userId, alice.password), 'M_FORBIDDEN');
    assert.equal(await loginErrcode(s, alice.userId, 'brand-new-1'), null);
    assert.equal(await whoamiStatus(s, bob.token), 200);
  });

  it('logout_devices: false keeps the other devices (r0, one-shot auth)', async () => {
    const alice = await registerUser(s, 'alice3');
    const other = await newDevice(s, alice);
    const res = await s.request(
      'POST',
      '/_matrix/client/r0/account/password',
      { new_password: 'kept-devices-1', logout_devices: false, auth: passwordAuth('alice3', alice.password) },
      { token: alice.token },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(await whoamiStatus(s, other.token), 200);
    assert.equal(await whoamiStatus(s, alice.token), 200);
    assert.equal(await loginErrcode(s, alice.userId, 'kept-devices-1'), null);
    assert.equal(await loginErrcode(s, alice.userId, alice.password), 'M_FORBIDDEN');
  });

  it('a wrong current password: 401 M_FORBIDDEN, no `completed`, nothing changes', async () => {
    const alice = await registerUser(s, 'alice4');
    const res = await s.request(
      'POST',
      PASSWORD,
      { new_password: 'never-set-1', auth: passwordAuth(alice.userId, 'wrong') },
      { token: alice.token },
    );
    // Without a session, a refused stage stores none: the challenge names none.
    assert.equal(res.status, 401, JSON.stringify(res.body));
    assert.equal(res.body.errcode, 'M_FORBIDDEN');
    assert.deepEqual(res.body.flows, [{ stages: ['m.login.password'] }]);
    assert.equal(res.body.session, undefined);
    assert.equal(res.body.completed, undefined);
    assert.equal(await loginErrcode(s, alice.userId, alice.password), null);
    assert.equal(await loginErrcode(s, alice.userId, 'never-set-1'), 'M_FORBIDDEN');
  });

  it('another user’s correct password is 403 M_FORBIDDEN, nothing changes', async () => {
    const alice = await registerUser(s, 'alice5');
    const res = await s.request(
      'POST',
      PASSWORD,
      { new_password: 'never-set-2', auth: passwordAuth(bob.userId, bob.password) },
      { token: alice.token },
    );
    assertError(res, 403, 'M_FORBIDDEN');
    assert.equal(await loginErrcode(s, alice.userId, alice.password), null);
    assert.equal(await loginErrcode(s, bob.userId, bob.password), null);
  });

  it('no new_password in any request: 400 M_MISSING_PARAM after auth; a client-sent hash is ignored', async () => {
    const alice = await registerUser(s, 'alice6');
    const first = await s.request('POST', PASSWORD, {}, { token: alice.token });
    assertPasswordChallenge(first);
    const evilHash = await s.app.services.users.hashNewPassword('evil-pw-1');
    const res = await s.request(
      'POST',
      PASSWORD,
      { new_password_hash: evilHash, auth: passwordAuth(alice.userId, alice.password, first.body.session) },
      { token: alice.token },
    );
    assertError(res, 400, 'M_MISSING_PARAM');
    assert.equal(await loginErrcode(s, alice.userId, 'evil-pw-1'), 'M_FORBIDDEN');
    assert.equal(await loginErrcode(s, alice.userId, alice.password), null);
  });

  it('a session opened here cannot deactivate the account (403), nor serve another user (403)', async () => {
    const alice = await registerUser(s, 'alice7');
    const first = await s.request('POST', PASSWORD, { new_password: 'x-pw-1' }, { token: alice.token });
    const cross = await s.request(
      'POST',
      DEACTIVATE,
      { auth: passwordAuth(alice.userId, alice.password, first.body.session) },
      { token: alice.token },
    );
    assertError(cross, 403, 'M_FORBIDDEN');
    assert.equal(await whoamiStatus(s, alice.token), 200);
    const stolen = await s.request(
      'POST',
      PASSWORD,
      { new_password: 'x-pw-2', auth: passwordAuth(bob.userId, bob.password, first.body.session) },
      { token: bob.token },
    );
    assertError(stolen, 403, 'M_FORBIDDEN');
    assert.equal(await loginErrcode(s, bob.userId, bob.password), null);
  });

  it('malformed bodies are 4xx, never 5xx', async () => {
    const alice = await registerUser(s, 'alice8');
    const o = { token: alice.token };
    assertError(await s.request('POST', PASSWORD, { new_password: 5 }, o), 400, 'M_BAD_JSON');
    assertError(await s.request('POST', PASSWORD, { logout_devices: 'no' }, o), 400, 'M_BAD_JSON');
    assertError(await s.request('POST', PASSWORD, ['x'], o), 400, 'M_BAD_JSON');
    assertError(await s.request('POST', PASSWORD, undefined, { ...o, raw: '{' }), 400, 'M_NOT_JSON');
    assertError(await s.request('POST', PASSWORD, { new_password: 'x', auth: [] }, o), 400, 'M_BAD_JSON');
    assertError(
      await s.request(
        'POST',
        PASSWORD,
        { new_password: 'x-pw-9', auth: { session: 'nope', type: 'm.login.password' } },
        o,
      ),
      400,
      'M_UNKNOWN',
    );
    assertError(await s.request('POST', PASSWORD, { new_password: 'x' }), 401, 'M_MISSING_TOKEN');
    assert.equal(await loginErrcode(s, alice.userId, alice.password), null);
  });
});

await describeEachBackend('account: password policy', (backend) => {
  let s: TestServer;
  before(async () => {
    s = await startServer({
      backend,
      config: { password_config: { policy: { enabled: true, minimum_length: 10, require_digit: true } } },
    });
  });
  after(() => s.close());

  it('a weak new password is 400 M_WEAK_PASSWORD before any challenge; a strong one passes', async () => {
    const alice = await registerUser(s, 'alice', 'long-enough-1');
    for (const weak of ['short1', 'no-digits-here', '']) {
      assertError(
        await s.request('POST', PASSWORD, { new_password: weak }, { token: alice.token }),
        400,
        'M_WEAK_PASSWORD',
      );
    }
    const ok = await s.request(
      'POST',
      PASSWORD,
      { new_password: 'strong-enough-2', auth: passwordAuth(alice.userId, alice.password) },
      { token: alice.token },
    );
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(await loginErrcode(s, alice.userId, 'strong-enough-2'), null);
  });
});

await describeEachBackend('account: deactivation', (backend) => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ backend });
  });
  after(() => s.close());

  it('{} with a token: 401 offering m.login.password', async () => {
    const alice = await registerUser(s, 'alice1');
    const res = await s.request('POST', DEACTIVATE, {}, { token: alice.token });
    assertPasswordChallenge(res);
    assertError(await s.request('POST', DEACTIVATE, {}), 401, 'M_MISSING_TOKEN');
  });

  it('a wrong password: 401 M_FORBIDDEN with the challenge; the account lives on', async () => {
    const alice = await registerUser(s, 'alice2');
    const res = await s.request(
      'POST',
      DEACTIVATE,
      { auth: passwordAuth(alice.userId, 'nope') },
      { token: alice.token },
    );
    assert.equal(res.status, 401, JSON.stringify(res.body));
    assert.equal(res.body.errcode, 'M_FORBIDDEN');
    assert.deepEqual(res.body.flows, [{ stages: ['m.login.password'] }]);
    assert.equal(res.body.completed, undefined);
    assert.equal(await whoamiStatus(s, alice.token), 200);
  });

  it('another user’s password is 403; the account lives on', async () => {
    const alice = await registerUser(s, 'alice3');
    const mallory = await registerUser(s, 'mallory');
    const res = await s.request(
      'POST',
      DEACTIVATE,
      { auth: passwordAuth(mallory.userId, mallory.password) },
      { token: alice.token },
    );
    assertError(res, 403, 'M_FORBIDDEN');
    assert.equal(await whoamiStatus(s, alice.token), 200);
    assert.equal(await whoamiStatus(s, mallory.token), 200);
  });

  it('deactivates: every token dies, no login, the id is never reused; others unaffected', async () => {
    const alice = await registerUser(s, 'alice4');
    const carol = await registerUser(s, 'carol');
    const other = await newDevice(s, alice);
    assert.equal(await whoamiStatus(s, other.token), 200); // cached before deactivation
    const first = await s.request('POST', DEACTIVATE, { erase: true }, { token: alice.token });
    assertPasswordChallenge(first);
    const res = await s.request(
      'POST',
      DEACTIVATE,
      { auth: passwordAuth(alice.userId, alice.password, first.body.session) },
      { token: alice.token },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, { id_server_unbind_result: 'success' });
    assertError(await whoami(s, alice.token), 401, 'M_UNKNOWN_TOKEN');
    assert.equal(await whoamiStatus(s, other.token), 401);
    assert.equal(await loginErrcode(s, alice.userId, alice.password), 'M_USER_DEACTIVATED');
    for (const user of ['alice4', 'ALICE4']) {
      assertError(
        await s.request('POST', '/_matrix/client/api/v1/register', {
          type: 'm.login.password',
          user,
          password: 'again-1',
        }),
        400,
        'M_USER_IN_USE',
      );
    }
    assert.equal(await whoamiStatus(s, carol.token), 200);
    const devices = await s.app.storage.devices.listByUser(alice.userId);
    assert.deepEqual(devices, []);
  });

  it('r0 alias, one-shot auth; erase and id_server are accepted', async () => {
    const alice = await registerUser(s, 'alice5');
    const res = await s.request(
      'POST',
      '/_matrix/client/r0/account/deactivate',
      { erase: false, id_server: 'id.example.org', auth: passwordAuth(alice.localpart, alice.password) },
      { token: alice.token },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.id_server_unbind_result, 'success');
    assert.equal(await whoamiStatus(s, alice.token), 401);
  });

  it('malformed bodies are 4xx, never 5xx', async () => {
    const alice = await registerUser(s, 'alice6');
    const o = { token: alice.token };
    assertError(await s.request('POST', DEACTIVATE, { erase: 'yes' }, o), 400, 'M_BAD_JSON');
    assertError(await s.request('POST', DEACTIVATE, { id_server: 1 }, o), 400, 'M_BAD_JSON');
    assertError(await s.request('POST', DEACTIVATE, 'x', o), 400, 'M_BAD_JSON');
    assertError(await s.request('POST', DEACTIVATE, undefined, { ...o, raw: '\xff' }), 400, 'M_NOT_JSON');
    assertError(
      await s.request('POST', DEACTIVATE, { auth: { type: 'm.login.password', identifier: [], password: 'x' } }, o),
      400,
      'M_BAD_JSON',
    );
    assert.equal(await whoamiStatus(s, alice.token), 200);
  });
});

await describeEachBackend('account: guests', (backend) => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ backend });
  });
  after(() => s.close());

  it('guests may not change a password or deactivate (403 M_GUEST_ACCESS_FORBIDDEN) but may list devices', async () => {
    const guest = await s.app.services.users.register({
      localpart: null,
      password: null,
      isGuest: true,
      isAdmin: false,
      approved: true,
      login: { deviceId: null, initialDisplayName: null, refreshToken: false },
    });
    const token = guest.accessToken!;
    assertError(
      await s.request('POST', PASSWORD, { new_password: 'guest-pw-1' }, { token }),
      403,
      'M_GUEST_ACCESS_FORBIDDEN',
    );
    assertError(await s.request('POST', DEACTIVATE, {}, { token }), 403, 'M_GUEST_ACCESS_FORBIDDEN');
    assertError(
      await s.request('DELETE', `${V3}/devices/${guest.deviceId}`, {}, { token }),
      403,
      'M_GUEST_ACCESS_FORBIDDEN',
    );
    const list = await s.request('GET', `${V3}/devices`, undefined, { token });
    assert.equal(list.status, 200);
    assert.equal(list.body.devices.length, 1);
    assert.equal(await whoamiStatus(s, token), 200);
  });
});
