// A real admin client: Debian's `synadm` (an admin CLI made for Synapse's admin API) drives
// Tessera unchanged, and every effect is checked over the client API. synadm prints what the
// server answered and exits 0 even on an API error, so the effects are what the tests judge.
//
// In CI (CI=true) a missing synadm is a failure, never a skip; `.ci/run` installs it.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { admin, registerAdmin } from '../helpers/admin.js';
import { assertError, assertLoggedOut } from '../helpers/assert.js';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';
import { type Synadm, synadmFor, synadmSkip } from '../helpers/synadm.js';
import { login, loginErrcode, registerUser, type TestUser, whoami } from '../helpers/users.js';

const skip = synadmSkip();

await describeEachBackend('synadm against Tessera', (backend) => {
  let s: TestServer;
  let tool: Synadm;
  let root: TestUser;
  let alice: TestUser;

  before(async () => {
    s = await startServer({ backend });
    root = await registerAdmin(s, 'root');
    alice = await registerUser(s, 'alice');
    tool = synadmFor(s.url, { userId: root.userId, token: root.token });
  });
  after(async () => {
    await s?.close();
    tool?.cleanup();
  });

  const synadm = (...args: string[]) => tool.run(...args);

  it('version: the server_version endpoint', { skip }, async () => {
    const { json } = await synadm('version');
    assert.match(json.server_version, /^tessera /);
  });

  it('user list: every account with Synapse’s fields, and the total', { skip }, async () => {
    const { json } = await synadm('user', 'list');
    assert.equal(json.total, 2);
    const names = json.users.map((u: { name: string }) => u.name).sort();
    assert.deepEqual(names, ['@alice:localhost', '@root:localhost']);
    const r = json.users.find((u: { name: string }) => u.name === '@root:localhost');
    assert.equal(r.admin, true);
    assert.equal(r.deactivated, false);
  });

  it('user details: one account, found from its localpart', { skip }, async () => {
    const { json } = await synadm('user', 'details', 'alice');
    assert.equal(json.name, '@alice:localhost');
    assert.equal(json.admin, false);
    assert.equal(json.deactivated, false);
  });

  it('user modify: display name and the admin flag; the admin API then answers alice', { skip }, async () => {
    const before = await admin(s, alice.token, 'GET', '/v2/users');
    assertError(before, 403, 'M_FORBIDDEN');
    await synadm('user', 'modify', 'alice', '--display-name', 'Alice A', '--admin');
    const { json } = await synadm('user', 'details', '@alice:localhost');
    assert.equal(json.displayname, 'Alice A');
    assert.equal(json.admin, true);
    assert.equal((await admin(s, alice.token, 'GET', '/v2/users')).status, 200);
    // synadm cannot send admin: false (it drops falsy values): the admin API takes it back.
    assert.equal((await admin(s, root.token, 'PUT', '/v2/users/@alice:localhost', { admin: false })).status, 200);
    assertError(await admin(s, alice.token, 'GET', '/v2/users'), 403, 'M_FORBIDDEN');
  });

  it('user password: the new password logs in, the old one and the old token are dead', { skip }, async () => {
    const other = await login(s, 'alice', 'pw-alice-1');
    await synadm('user', 'password', 'alice', '-p', 'new-pw-alice-2');
    assertLoggedOut(await whoami(s, alice.token));
    assertLoggedOut(await whoami(s, other.token));
    assert.equal(await loginErrcode(s, 'alice', 'pw-alice-1'), 'M_FORBIDDEN');
    assert.equal(await loginErrcode(s, 'alice', 'new-pw-alice-2'), null);
  });

  it('user password --no-logout keeps the sessions', { skip }, async () => {
    const kept = await login(s, 'alice', 'new-pw-alice-2');
    await synadm('user', 'password', 'alice', '--no-logout', '-p', 'new-pw-alice-3');
    assert.equal((await whoami(s, kept.token)).status, 200);
    assert.equal(await loginErrcode(s, 'alice', 'new-pw-alice-3'), null);
  });

  it('user whois: the devices of the account, where and with what each was last seen', { skip }, async () => {
    const session = await login(s, 'alice', 'new-pw-alice-3');
    const used = await s.request('GET', '/_matrix/client/v3/account/whoami', undefined, {
      token: session.token,
      headers: { 'user-agent': 'Tessera-test/1.0' },
    });
    assert.equal(used.status, 200);
    await s.app.services.deviceActivity.flush(); // what the 5 s timer does
    const { json } = await synadm('user', 'whois', 'alice');
    assert.equal(json.user_id, '@alice:localhost');
    assert.ok(session.deviceId in json.devices, JSON.stringify(json));
    const [connection] = json.devices[session.deviceId].sessions[0].connections;
    assert.equal(connection.ip, '127.0.0.1');
    assert.equal(connection.user_agent, 'Tessera-test/1.0');
    assert.ok(Math.abs(connection.last_seen - Date.now()) < 60_000, JSON.stringify(connection));
  });

  it('user prune-devices --device-id: that device goes and its token dies, the other stays', { skip }, async () => {
    // A clean slate: the password reset above logs every device out.
    await synadm('user', 'password', 'alice', '-p', 'new-pw-alice-4');
    const gone = await login(s, 'alice', 'new-pw-alice-4');
    const kept = await login(s, 'alice', 'new-pw-alice-4');
    // Without --device-id, synadm prunes only devices unseen for --min-days days. It sends the
    // delete for the user id as typed, so (against Synapse too) it must be a full user id.
    const { json } = await synadm(
      'user',
      'prune-devices',
      '@alice:localhost',
      '--device-id',
      gone.deviceId,
      '--min-days',
      '0',
    );
    assert.deepEqual(
      json.map((d: { device_id: string }) => d.device_id),
      [gone.deviceId],
    );
    assertLoggedOut(await whoami(s, gone.token));
    assert.equal((await whoami(s, kept.token)).status, 200);
    const devices = await s.request('GET', '/_matrix/client/v3/devices', undefined, { token: kept.token });
    assert.deepEqual(
      devices.body.devices.map((d: { device_id: string }) => d.device_id),
      [kept.deviceId],
    );
  });

  it('user deactivate: login refused, tokens dead, the account shows deactivated', { skip }, async () => {
    const session = await login(s, 'alice', 'new-pw-alice-4');
    await synadm('user', 'deactivate', 'alice');
    assertLoggedOut(await whoami(s, session.token));
    assert.equal(await loginErrcode(s, 'alice', 'new-pw-alice-4'), 'M_USER_DEACTIVATED');
    const { json } = await synadm('user', 'details', 'alice');
    assert.equal(json.deactivated, true);
    const list = await synadm('user', 'list', '--deactivated');
    assert.ok(
      list.json.users.some(
        (u: { name: string; deactivated: boolean }) => u.name === '@alice:localhost' && u.deactivated,
      ),
    );
  });
});
