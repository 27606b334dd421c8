import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { admin, enc, registerAdmin } from '../helpers/admin.js';
import { assertError } from '../helpers/assert.js';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';
import { loginErrcode, newDevice, registerUser, type TestUser, whoami, whoamiStatus } from '../helpers/users.js';

await describeEachBackend('admin API: passwords, deactivation, login as a user, whois', (backend) => {
  let s: TestServer;
  let root: TestUser;
  before(async () => {
    s = await startServer({ backend });
    root = await registerAdmin(s, 'root');
  });
  after(() => s.close());

  it('reset_password: the new password logs in, every old token is dead', async () => {
    const a = await registerUser(s, 'anna');
    const second = await newDevice(s, a);
    const res = await admin(s, root.token, 'POST', `/v1/reset_password/${a.userId}`, { new_password: 'fresh one' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, {});
    assert.equal(await whoamiStatus(s, a.token), 401);
    assert.equal(await whoamiStatus(s, second.token), 401);
    assert.equal(await loginErrcode(s, a.userId, a.password), 'M_FORBIDDEN');
    assert.equal(await loginErrcode(s, a.userId, 'fresh one'), null);
  });

  it('reset_password with logout_devices false keeps the sessions', async () => {
    const b = await registerUser(s, 'bert');
    const res = await admin(s, root.token, 'POST', `/v1/reset_password/${enc(b.userId)}`, {
      new_password: 'kept',
      logout_devices: false,
    });
    assert.equal(res.status, 200);
    assert.equal(await whoamiStatus(s, b.token), 200);
    assert.equal(await loginErrcode(s, b.userId, 'kept'), null);
  });

  it('an admin resetting their own password keeps the device they use', async () => {
    const boss = await registerAdmin(s, 'boss');
    const other = await newDevice(s, boss);
    await admin(s, boss.token, 'POST', `/v1/reset_password/${boss.userId}`, { new_password: 'boss two' });
    assert.equal(await whoamiStatus(s, boss.token), 200);
    assert.equal(await whoamiStatus(s, other.token), 401);
  });

  it('reset_password: bad input', async () => {
    const c = await registerUser(s, 'cleo');
    const path = `/v1/reset_password/${c.userId}`;
    assertError(await admin(s, root.token, 'POST', path, {}), 400, 'M_MISSING_PARAM');
    assertError(await admin(s, root.token, 'POST', path, { new_password: 5 }), 400, 'M_INVALID_PARAM');
    assertError(await admin(s, root.token, 'POST', path, { new_password: 'p'.repeat(513) }), 400, 'M_INVALID_PARAM');
    assertError(
      await admin(s, root.token, 'POST', path, { new_password: 'x', logout_devices: 'no' }),
      400,
      'M_INVALID_PARAM',
    );
    const unknown = '/v1/reset_password/@nobody:localhost';
    assertError(await admin(s, root.token, 'POST', unknown, { new_password: 'x' }), 404, 'M_NOT_FOUND');
    const remote = '/v1/reset_password/@cleo:elsewhere.org';
    assertError(await admin(s, root.token, 'POST', remote, { new_password: 'x' }), 400, 'M_UNKNOWN');
    assert.equal(await loginErrcode(s, c.userId, c.password), null);
  });

  it('deactivate: tokens and devices gone, login refused, id never reused; erase clears the profile', async () => {
    const d = await registerUser(s, 'dora');
    await admin(s, root.token, 'PUT', `/v2/users/${d.userId}`, { displayname: 'Dora' });
    const res = await admin(s, root.token, 'POST', `/v1/deactivate/${d.userId}`, { erase: true });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, { id_server_unbind_result: 'success' });
    assert.equal(await whoamiStatus(s, d.token), 401);
    assert.deepEqual(await s.app.storage.devices.listByUser(d.userId), []);
    assert.equal(await loginErrcode(s, d.userId, d.password), 'M_USER_DEACTIVATED');
    const shown = (await admin(s, root.token, 'GET', `/v2/users/${d.userId}`)).body;
    assert.equal(shown.deactivated, true);
    assert.equal(shown.erased, true);
    assert.equal(shown.displayname, null);
    assertError(
      await s.request('POST', '/_matrix/client/api/v1/register', {
        type: 'm.login.password',
        user: 'dora',
        password: 'x',
      }),
      400,
      'M_USER_IN_USE',
    );
    // Again: still success. An empty body is allowed.
    const again = await s.request('POST', `/_synapse/admin/v1/deactivate/${d.userId}`, undefined, {
      token: root.token,
    });
    assert.equal(again.status, 200);
  });

  it('deactivate: bad input', async () => {
    const e = await registerUser(s, 'emil');
    assertError(await admin(s, root.token, 'POST', `/v1/deactivate/${e.userId}`, { erase: 'yes' }), 400, 'M_BAD_JSON');
    assertError(await admin(s, root.token, 'POST', '/v1/deactivate/@nobody:localhost', {}), 404, 'M_NOT_FOUND');
    const remote = await admin(s, root.token, 'POST', '/v1/deactivate/@emil:elsewhere.org', {});
    assertError(remote, 400, 'M_UNKNOWN');
    assert.equal(remote.body.error, 'Can only deactivate local users');
    assert.equal(await whoamiStatus(s, e.token), 200);
  });

  it('login as a user: a working token on a device named after the admin; it can expire', async () => {
    const f = await registerUser(s, 'fred');
    const res = await admin(s, root.token, 'POST', `/v1/users/${f.userId}/login`, {});
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const me = await whoami(s, res.body.access_token);
    assert.equal(me.body.user_id, f.userId);
    const device = await s.app.storage.devices.find(f.userId, me.body.device_id);
    assert.equal(device?.display_name, `Admin login by ${root.userId}`);
    const soon = await admin(s, root.token, 'POST', `/v1/users/${f.userId}/login`, { valid_until_ms: Date.now() - 1 });
    assertError(await whoami(s, soon.body.access_token), 401, 'M_UNKNOWN_TOKEN');
    const self = await admin(s, root.token, 'POST', `/v1/users/${root.userId}/login`, {});
    assertError(self, 400, 'M_UNKNOWN');
    assert.equal(self.body.error, 'Cannot use admin API to login as self');
    const bad = { valid_until_ms: 'tomorrow' };
    assertError(await admin(s, root.token, 'POST', `/v1/users/${f.userId}/login`, bad), 400, 'M_INVALID_PARAM');
    assertError(
      await admin(s, root.token, 'POST', `/v1/users/${f.userId}/login`, { valid_until_ms: 1.5 }),
      400,
      'M_INVALID_PARAM',
    );
    assertError(await admin(s, root.token, 'POST', '/v1/users/@nobody:localhost/login', {}), 404, 'M_NOT_FOUND');
    assertError(await admin(s, root.token, 'POST', '/v1/users/@fred:elsewhere.org/login', {}), 400, 'M_UNKNOWN');
  });

  it('whois: devices keyed by id with their last-seen connection; users may ask about themselves', async () => {
    const g = await registerUser(s, 'gus');
    const second = await newDevice(s, g);
    const res = await admin(s, root.token, 'GET', `/v1/whois/${g.userId}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.user_id, g.userId);
    assert.deepEqual(Object.keys(res.body.devices).sort(), [g.deviceId, second.deviceId].sort());
    const conn = res.body.devices[g.deviceId].sessions[0].connections[0];
    assert.deepEqual(Object.keys(conn).sort(), ['ip', 'last_seen', 'user_agent']);
    assert.equal(typeof conn.last_seen, 'number');
    assert.equal(conn.user_agent, null);
    const own = await s.request('GET', `/_matrix/client/v3/admin/whois/${g.userId}`, undefined, { token: g.token });
    assert.equal(own.status, 200);
    const other = await s.request('GET', `/_synapse/admin/v1/whois/${root.userId}`, undefined, { token: g.token });
    assertError(other, 403, 'M_FORBIDDEN');
    assertError(await s.request('GET', `/_synapse/admin/v1/whois/${g.userId}`), 401, 'M_MISSING_TOKEN');
    assertError(await admin(s, root.token, 'GET', '/v1/whois/@gus:elsewhere.org'), 400, 'M_UNKNOWN');
    assertError(await admin(s, root.token, 'GET', '/v1/whois/@nobody:localhost'), 404, 'M_NOT_FOUND');
    assertError(await admin(s, root.token, 'GET', '/v1/whois/nobody'), 400, 'M_INVALID_PARAM');
  });
});

await describeEachBackend('admin API: any user’s devices', (backend) => {
  let s: TestServer;
  let root: TestUser;
  let h: TestUser;
  before(async () => {
    s = await startServer({ backend });
    root = await registerAdmin(s, 'root');
    h = await registerUser(s, 'hana');
  });
  after(() => s.close());

  it('lists, shows and renames devices without re-authentication', async () => {
    const second = await newDevice(s, h);
    const list = await admin(s, root.token, 'GET', `/v2/users/${h.userId}/devices`);
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.equal(list.body.total, 2);
    assert.deepEqual(Object.keys(list.body.devices[0]).sort(), [
      'device_id',
      'display_name',
      'last_seen_ip',
      'last_seen_ts',
      'last_seen_user_agent',
      'user_id',
    ]);
    const path = `/v2/users/${h.userId}/devices/${second.deviceId}`;
    assert.equal((await admin(s, root.token, 'PUT', path, { display_name: 'Work phone' })).status, 200);
    const one = await admin(s, root.token, 'GET', path);
    assert.equal(one.body.display_name, 'Work phone');
    assert.equal(one.body.user_id, h.userId);
    const mine = await s.request('GET', `/_matrix/client/v3/devices/${second.deviceId}`, undefined, { token: h.token });
    assert.equal(mine.body.display_name, 'Work phone');
  });

  it('DELETE one device and POST delete_devices: their tokens die, the others live', async () => {
    const a = await newDevice(s, h);
    const b = await newDevice(s, h);
    const c = await newDevice(s, h);
    assert.equal((await admin(s, root.token, 'DELETE', `/v2/users/${h.userId}/devices/${a.deviceId}`)).status, 200);
    assert.equal(await whoamiStatus(s, a.token), 401);
    const res = await admin(s, root.token, 'POST', `/v2/users/${h.userId}/delete_devices`, {
      devices: [b.deviceId, c.deviceId, 'NOT-A-DEVICE'],
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(await whoamiStatus(s, b.token), 401);
    assert.equal(await whoamiStatus(s, c.token), 401);
    assert.equal(await whoamiStatus(s, h.token), 200);
    // Deleting an unknown device succeeds, as in Synapse.
    assert.equal((await admin(s, root.token, 'DELETE', `/v2/users/${h.userId}/devices/GONE`)).status, 200);
  });

  it('bad input: unknown user or device, remote user, wrong types, too many or too long ids', async () => {
    const u = await admin(s, root.token, 'GET', '/v2/users/@nobody:localhost/devices');
    assertError(u, 404, 'M_NOT_FOUND');
    assert.equal(u.body.error, 'Unknown user');
    assertError(await admin(s, root.token, 'GET', `/v2/users/${h.userId}/devices/NOPE`), 404, 'M_NOT_FOUND');
    assertError(await admin(s, root.token, 'PUT', `/v2/users/${h.userId}/devices/NOPE`, {}), 404, 'M_NOT_FOUND');
    assertError(await admin(s, root.token, 'GET', '/v2/users/@hana:elsewhere.org/devices'), 400, 'M_UNKNOWN');
    const long = 'D'.repeat(513);
    assertError(await admin(s, root.token, 'GET', `/v2/users/${h.userId}/devices/${long}`), 400, 'M_INVALID_PARAM');
    const path = `/v2/users/${h.userId}/devices/${h.deviceId}`;
    assertError(await admin(s, root.token, 'PUT', path, { display_name: 5 }), 400, 'M_BAD_JSON');
    assertError(await admin(s, root.token, 'PUT', path, { display_name: 'n'.repeat(101) }), 400, 'M_TOO_LARGE');
    const del = `/v2/users/${h.userId}/delete_devices`;
    assertError(await admin(s, root.token, 'POST', del, {}), 400, 'M_MISSING_PARAM');
    assertError(await admin(s, root.token, 'POST', del, { devices: 'x' }), 400, 'M_BAD_JSON');
    assertError(await admin(s, root.token, 'POST', del, { devices: Array(1001).fill('x') }), 400, 'M_BAD_JSON');
    assertError(await admin(s, root.token, 'POST', del, { devices: ['d'.repeat(513)] }), 400, 'M_BAD_JSON');
    assert.equal(await whoamiStatus(s, h.token), 200);
  });
});
