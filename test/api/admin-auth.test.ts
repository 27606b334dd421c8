import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { allRoutes } from '../../src/api/routes.js';
import { ADMIN, admin, registerAdmin } from '../helpers/admin.js';
import { assertError } from '../helpers/assert.js';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';
import { loginErrcode, registerUser, type TestUser, whoamiStatus } from '../helpers/users.js';

/** A concrete path for a route pattern: every `:userId` names `victim`, every `:deviceId` its device. */
function fill(path: string, victim: TestUser): string {
  return path
    .replace(':userId', encodeURIComponent(victim.userId))
    .replace(':deviceId', encodeURIComponent(victim.deviceId));
}

/** Bodies that would succeed for an admin, so only the auth mode can refuse them. */
const BODIES: Record<string, unknown> = {
  'PUT /_synapse/admin/v2/users/:userId': { password: 'taken over', admin: true, displayname: 'Mallory' },
  'PUT /_synapse/admin/v1/users/:userId/admin': { admin: true },
  'POST /_synapse/admin/v1/reset_password/:userId': { new_password: 'taken over' },
  'POST /_synapse/admin/v1/deactivate/:userId': { erase: true },
  'POST /_synapse/admin/v2/users/:userId/delete_devices': { devices: [] },
  'PUT /_synapse/admin/v2/users/:userId/devices/:deviceId': { display_name: 'renamed' },
};

await describeEachBackend('admin API: only server admins', (backend) => {
  let s: TestServer;
  let root: TestUser;
  let victim: TestUser;
  before(async () => {
    s = await startServer({ backend });
    root = await registerAdmin(s, 'root');
    victim = await registerUser(s, 'victim');
  });
  after(() => s.close());

  const adminRoutes = allRoutes.filter((r) => r.auth === 'admin');

  it('serves a good number of admin routes, all under /_synapse/admin', () => {
    assert.ok(adminRoutes.length >= 15, `${adminRoutes.length} admin routes`);
    for (const r of adminRoutes) for (const p of r.paths) assert.ok(p.startsWith(`${ADMIN}/`), p);
  });

  it('every admin route: no token 401 M_MISSING_TOKEN, unknown token 401, a non-admin token 403 M_FORBIDDEN', async () => {
    for (const route of adminRoutes) {
      for (const pattern of route.paths) {
        const key = `${route.method} ${pattern}`;
        const path = fill(pattern, victim) + (pattern.endsWith('username_available') ? '?username=free' : '');
        const body = BODIES[key] ?? (route.method === 'GET' ? undefined : {});
        assertError(await s.request(route.method, path, body), 401, 'M_MISSING_TOKEN');
        assertError(await s.request(route.method, path, body, { token: 'tsa_unknown' }), 401, 'M_UNKNOWN_TOKEN');
        const res = await s.request(route.method, path, body, { token: victim.token });
        assertError(res, 403, 'M_FORBIDDEN');
        assert.equal(res.body.error, 'You are not a server admin', key);
      }
    }
  });

  it('nothing changed: the password, the admin flag, the devices and the account are as before', async () => {
    assert.equal(await whoamiStatus(s, victim.token), 200);
    assert.equal(await loginErrcode(s, victim.userId, victim.password), null);
    assert.equal(await loginErrcode(s, victim.userId, 'taken over'), 'M_FORBIDDEN');
    const row = await s.app.storage.users.findByUserId(victim.userId);
    assert.equal(row?.is_admin, 0);
    assert.equal(row?.deactivated, 0);
    assert.equal(row?.displayname, null);
    assert.notEqual(await s.app.storage.devices.find(victim.userId, victim.deviceId), null);
  });

  it('the same requests with an admin token get past the check', async () => {
    const res = await admin(s, root.token, 'GET', `/v2/users/${encodeURIComponent(victim.userId)}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });

  it('server_version answers without a token, as Synapse', async () => {
    const res = await s.request('GET', `${ADMIN}/v1/server_version`);
    assert.equal(res.status, 200);
    assert.match(res.body.server_version, /^tessera \d+\.\d+\.\d+/);
  });
});
