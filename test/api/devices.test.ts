import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { assertError, assertLoggedOut, assertPasswordChallenge } from '../helpers/assert.js';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';
import { newDevice, passwordAuth, registerUser, type TestUser, whoami, whoamiStatus } from '../helpers/users.js';

const V3 = '/_matrix/client/v3';

await describeEachBackend('devices: list, get, rename', (backend) => {
  let s: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  before(async () => {
    s = await startServer({ backend });
    alice = await registerUser(s, 'alice');
    bob = await registerUser(s, 'bob');
  });
  after(() => s.close());

  it('GET /devices lists exactly the own devices with every field', async () => {
    const second = await newDevice(s, alice);
    const res = await s.request('GET', `${V3}/devices`, undefined, { token: alice.token });
    assert.equal(res.status, 200);
    const ids = res.body.devices.map((d: { device_id: string }) => d.device_id).sort();
    assert.deepEqual(ids, [alice.deviceId, second.deviceId].sort());
    for (const d of res.body.devices) {
      assert.deepEqual(Object.keys(d).sort(), ['device_id', 'display_name', 'last_seen_ip', 'last_seen_ts', 'user_id']);
      assert.equal(d.user_id, alice.userId);
    }
    assert.ok(!ids.includes(bob.deviceId));
    const r0 = await s.request('GET', '/_matrix/client/r0/devices', undefined, { token: alice.token });
    assert.equal(r0.status, 200);
    assert.equal(r0.body.devices.length, 2);
  });

  it('GET /devices needs a token', async () => {
    assertError(await s.request('GET', `${V3}/devices`), 401, 'M_MISSING_TOKEN');
    assertError(await s.request('GET', `${V3}/devices`, undefined, { token: 'tsa_nope' }), 401, 'M_UNKNOWN_TOKEN');
  });

  it('GET /devices/{id}: own device 200; unknown or another user’s 404 M_NOT_FOUND', async () => {
    const own = await s.request('GET', `${V3}/devices/${alice.deviceId}`, undefined, { token: alice.token });
    assert.equal(own.status, 200);
    assert.equal(own.body.device_id, alice.deviceId);
    assert.equal(own.body.user_id, alice.userId);
    assert.ok('display_name' in own.body);
    assertError(await s.request('GET', `${V3}/devices/NOPE`, undefined, { token: alice.token }), 404, 'M_NOT_FOUND');
    assertError(
      await s.request('GET', `${V3}/devices/${bob.deviceId}`, undefined, { token: alice.token }),
      404,
      'M_NOT_FOUND',
    );
  });

  it('PUT /devices/{id} renames; the name shows in GET; null keeps it', async () => {
    const put = await s.request(
      'PUT',
      `${V3}/devices/${alice.deviceId}`,
      { display_name: 'Laptop ✓' },
      {
        token: alice.token,
      },
    );
    assert.equal(put.status, 200);
    assert.deepEqual(put.body, {});
    const got = await s.request('GET', `${V3}/devices/${alice.deviceId}`, undefined, { token: alice.token });
    assert.equal(got.body.display_name, 'Laptop ✓');
    const keep = await s.request(
      'PUT',
      `/_matrix/client/r0/devices/${alice.deviceId}`,
      { display_name: null },
      {
        token: alice.token,
      },
    );
    assert.equal(keep.status, 200);
    const again = await s.request('GET', `${V3}/devices/${alice.deviceId}`, undefined, { token: alice.token });
    assert.equal(again.body.display_name, 'Laptop ✓');
  });

  it('PUT /devices/{id}: unknown or another user’s device is 404 and nothing changes', async () => {
    assertError(
      await s.request('PUT', `${V3}/devices/NOPE`, { display_name: 'x' }, { token: alice.token }),
      404,
      'M_NOT_FOUND',
    );
    assertError(
      await s.request('PUT', `${V3}/devices/${bob.deviceId}`, { display_name: 'stolen' }, { token: alice.token }),
      404,
      'M_NOT_FOUND',
    );
    const bobs = await s.request('GET', `${V3}/devices/${bob.deviceId}`, undefined, { token: bob.token });
    assert.equal(bobs.body.display_name, null);
    // No device is created by PUT either.
    const list = await s.request('GET', `${V3}/devices`, undefined, { token: alice.token });
    assert.ok(!list.body.devices.some((d: { device_id: string }) => d.device_id === 'NOPE'));
  });

  it('PUT /devices/{id}: bad bodies are 4xx, never 5xx', async () => {
    const path = `${V3}/devices/${alice.deviceId}`;
    assertError(await s.request('PUT', path, { display_name: 5 }, { token: alice.token }), 400, 'M_BAD_JSON');
    assertError(await s.request('PUT', path, [1], { token: alice.token }), 400, 'M_BAD_JSON');
    assertError(await s.request('PUT', path, undefined, { token: alice.token, raw: '{nope' }), 400, 'M_NOT_JSON');
    assertError(
      await s.request('PUT', path, { display_name: 'x'.repeat(101) }, { token: alice.token }),
      400,
      'M_TOO_LARGE',
    );
  });
});

await describeEachBackend('devices: delete with UIA', (backend) => {
  let s: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  before(async () => {
    s = await startServer({ backend });
    alice = await registerUser(s, 'alice');
    bob = await registerUser(s, 'bob');
  });
  after(() => s.close());

  it('DELETE with no body gets exactly the challenge: flows, params, session', async () => {
    const d = await newDevice(s, alice);
    const res = await s.request('DELETE', `${V3}/devices/${d.deviceId}`, undefined, { token: alice.token });
    assertPasswordChallenge(res);
    assert.deepEqual(Object.keys(res.body).sort(), ['flows', 'params', 'session']);
    assert.deepEqual(res.body.params, {});
    assertPasswordChallenge(await s.request('DELETE', `${V3}/devices/${d.deviceId}`, {}, { token: alice.token }));
    assert.equal(await whoamiStatus(s, d.token), 200);
  });

  it('a wrong password is 401 M_FORBIDDEN with the challenge and no `completed`', async () => {
    const d = await newDevice(s, alice);
    const first = await s.request('DELETE', `${V3}/devices/${d.deviceId}`, undefined, { token: alice.token });
    const res = await s.request(
      'DELETE',
      `${V3}/devices/${d.deviceId}`,
      { auth: passwordAuth(alice.userId, 'wrong', first.body.session) },
      { token: alice.token },
    );
    assertPasswordChallenge(res, 'M_FORBIDDEN');
    assert.equal(res.body.session, first.body.session);
    assert.equal(res.body.completed, undefined);
    assert.equal(await whoamiStatus(s, d.token), 200);
  });

  it('another user’s correct password is 403 and the device remains', async () => {
    const d = await newDevice(s, alice);
    const res = await s.request(
      'DELETE',
      `${V3}/devices/${d.deviceId}`,
      { auth: passwordAuth(bob.userId, bob.password) },
      { token: alice.token },
    );
    assertError(res, 403, 'M_FORBIDDEN');
    assert.equal(res.body.flows, undefined);
    assert.equal(await whoamiStatus(s, d.token), 200);
  });

  it('the right password deletes exactly that device and its token', async () => {
    const d = await newDevice(s, alice);
    const keep = await newDevice(s, alice);
    // Validate both tokens first, so they sit in the token cache.
    assert.equal(await whoamiStatus(s, d.token), 200);
    assert.equal(await whoamiStatus(s, keep.token), 200);
    const first = await s.request('DELETE', `${V3}/devices/${d.deviceId}`, {}, { token: keep.token });
    const res = await s.request(
      'DELETE',
      `${V3}/devices/${d.deviceId}`,
      { auth: passwordAuth(alice.localpart, alice.password, first.body.session) },
      { token: keep.token },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, {});
    assertLoggedOut(await whoami(s, d.token));
    assert.equal(await whoamiStatus(s, keep.token), 200);
    assert.equal(await whoamiStatus(s, alice.token), 200);
    assertError(
      await s.request('GET', `${V3}/devices/${d.deviceId}`, undefined, { token: keep.token }),
      404,
      'M_NOT_FOUND',
    );
  });

  it('the legacy top-level `user` works, on r0 too; a deleted device deletes again with 200', async () => {
    const d = await newDevice(s, alice);
    const auth = { type: 'm.login.password', user: alice.localpart, password: alice.password };
    const path = `/_matrix/client/r0/devices/${d.deviceId}`;
    const res = await s.request('DELETE', path, { auth }, { token: alice.token });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(await whoamiStatus(s, d.token), 401);
    const again = await s.request('DELETE', path, { auth }, { token: alice.token });
    assert.equal(again.status, 200, JSON.stringify(again.body));
  });

  it('a session opened to delete device A cannot delete device B (403, B remains)', async () => {
    const a = await newDevice(s, alice);
    const b = await newDevice(s, alice);
    const first = await s.request('DELETE', `${V3}/devices/${a.deviceId}`, {}, { token: alice.token });
    const res = await s.request(
      'DELETE',
      `${V3}/devices/${b.deviceId}`,
      { auth: passwordAuth(alice.userId, alice.password, first.body.session) },
      { token: alice.token },
    );
    assertError(res, 403, 'M_FORBIDDEN');
    assert.equal(await whoamiStatus(s, b.token), 200);
    assert.equal(await whoamiStatus(s, a.token), 200);
  });

  it('another user cannot continue my session (403)', async () => {
    const d = await newDevice(s, alice);
    const first = await s.request('DELETE', `${V3}/devices/${d.deviceId}`, {}, { token: alice.token });
    const res = await s.request(
      'DELETE',
      `${V3}/devices/${d.deviceId}`,
      { auth: passwordAuth(bob.userId, bob.password, first.body.session) },
      { token: bob.token },
    );
    assertError(res, 403, 'M_FORBIDDEN');
    assert.equal(await whoamiStatus(s, d.token), 200);
  });

  it('a finished session cannot be replayed', async () => {
    const a = await newDevice(s, alice);
    const first = await s.request('DELETE', `${V3}/devices/${a.deviceId}`, {}, { token: alice.token });
    const auth = passwordAuth(alice.userId, alice.password, first.body.session);
    assert.equal(
      (await s.request('DELETE', `${V3}/devices/${a.deviceId}`, { auth }, { token: alice.token })).status,
      200,
    );
    assertError(
      await s.request(
        'DELETE',
        `${V3}/devices/${a.deviceId}`,
        { auth: { session: first.body.session } },
        {
          token: alice.token,
        },
      ),
      400,
      'M_UNKNOWN',
    );
  });

  it('POST /delete_devices deletes the listed devices, skips unknown ids, keeps the rest', async () => {
    const a = await newDevice(s, alice);
    const b = await newDevice(s, alice);
    const c = await newDevice(s, alice);
    for (const t of [a.token, b.token, c.token]) assert.equal(await whoamiStatus(s, t), 200);
    const body = { devices: [a.deviceId, b.deviceId, 'NEVER_EXISTED'] };
    const first = await s.request('POST', `${V3}/delete_devices`, body, { token: alice.token });
    assertPasswordChallenge(first);
    const res = await s.request(
      'POST',
      `${V3}/delete_devices`,
      { ...body, auth: passwordAuth(alice.userId, alice.password, first.body.session) },
      { token: alice.token },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, {});
    assert.equal(await whoamiStatus(s, a.token), 401);
    assert.equal(await whoamiStatus(s, b.token), 401);
    assert.equal(await whoamiStatus(s, c.token), 200);
    assert.equal(await whoamiStatus(s, alice.token), 200);
    const list = await s.request('GET', `${V3}/devices`, undefined, { token: alice.token });
    const ids = list.body.devices.map((d: { device_id: string }) => d.device_id);
    assert.ok(!ids.includes(a.deviceId) && !ids.includes(b.deviceId) && ids.includes(c.deviceId));
  });

  it('POST /delete_devices cannot delete another user’s device', async () => {
    const res = await s.request(
      'POST',
      `/_matrix/client/r0/delete_devices`,
      { devices: [bob.deviceId], auth: passwordAuth(alice.userId, alice.password) },
      { token: alice.token },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(await whoamiStatus(s, bob.token), 200);
  });

  it('POST /delete_devices: body checks come before UIA', async () => {
    const path = `${V3}/delete_devices`;
    assertError(await s.request('POST', path, {}, { token: alice.token }), 400, 'M_MISSING_PARAM');
    assertError(await s.request('POST', path, undefined, { token: alice.token }), 400, 'M_MISSING_PARAM');
    assertError(await s.request('POST', path, { devices: 'A' }, { token: alice.token }), 400, 'M_BAD_JSON');
    assertError(await s.request('POST', path, { devices: [1] }, { token: alice.token }), 400, 'M_BAD_JSON');
    assertError(await s.request('POST', path, { devices: [] }), 401, 'M_MISSING_TOKEN');
  });

  it('malformed auth dicts and bodies are 4xx, never 5xx', async () => {
    const d = await newDevice(s, alice);
    const path = `${V3}/devices/${d.deviceId}`;
    const opts = { token: alice.token };
    assertError(await s.request('DELETE', path, [], opts), 400, 'M_BAD_JSON');
    assertError(await s.request('DELETE', path, undefined, { ...opts, raw: 'nope' }), 400, 'M_NOT_JSON');
    assertError(await s.request('DELETE', path, { auth: 'x' }, opts), 400, 'M_BAD_JSON');
    assertError(await s.request('DELETE', path, { auth: { type: 5 } }, opts), 400, 'M_BAD_JSON');
    assertError(await s.request('DELETE', path, { auth: { session: 'unknown' } }, opts), 400, 'M_UNKNOWN');
    const cases: [Record<string, unknown>, string][] = [
      [{ type: 'm.login.password', password: 'x' }, 'M_MISSING_PARAM'],
      [{ type: 'm.login.password', identifier: 'alice', password: 'x' }, 'M_BAD_JSON'],
      [{ type: 'm.login.password', identifier: { type: 'm.id.user' }, password: 'x' }, 'M_MISSING_PARAM'],
      [{ type: 'm.login.password', identifier: { type: 'm.id.thirdparty' }, password: 'x' }, 'M_MISSING_PARAM'],
      [
        {
          type: 'm.login.password',
          identifier: { type: 'm.id.thirdparty', medium: 'email', address: 'a@b.c' },
          password: 'x',
        },
        'M_UNKNOWN',
      ],
      [{ type: 'm.login.password', user: 7, password: 'x' }, 'M_BAD_JSON'],
      [{ type: 'm.login.password', user: alice.userId }, 'M_MISSING_PARAM'],
      [{ type: 'm.login.password', user: alice.userId, password: 12 }, 'M_BAD_JSON'],
    ];
    for (const [auth, errcode] of cases) {
      const res = await s.request('DELETE', path, { auth }, opts);
      assert.ok(res.status >= 400 && res.status < 500, `${JSON.stringify(auth)} → ${res.status}`);
      assert.equal(res.body.errcode, errcode, `${JSON.stringify(auth)} → ${JSON.stringify(res.body)}`);
    }
    // An unknown stage type is a challenge with an error, not an operation.
    const other = await s.request('DELETE', path, { auth: { type: 'm.login.dummy' } }, opts);
    assert.equal(other.status, 401);
    assert.equal(typeof other.body.errcode, 'string');
    assert.equal(await whoamiStatus(s, d.token), 200);
  });
});
