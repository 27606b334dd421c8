import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { admin, enc, registerAdmin } from '../helpers/admin.js';
import { assertError } from '../helpers/assert.js';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';
import { loginErrcode, passwordLogin, registerUser, type TestUser, whoami, whoamiStatus } from '../helpers/users.js';

await describeEachBackend('admin API: query, create and modify accounts', (backend) => {
  let s: TestServer;
  let root: TestUser;
  let alice: TestUser;
  before(async () => {
    s = await startServer({ backend });
    root = await registerAdmin(s, 'root');
    alice = await registerUser(s, 'alice');
  });
  after(() => s.close());

  it('GET /v2/users/<id> gives Synapse’s fields; creation_ts in seconds', async () => {
    const res = await admin(s, root.token, 'GET', `/v2/users/${alice.userId}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.name, alice.userId);
    assert.equal(res.body.admin, false);
    assert.equal(res.body.deactivated, false);
    assert.equal(res.body.locked, false);
    assert.equal(res.body.is_guest, false);
    assert.deepEqual(res.body.threepids, []);
    assert.equal(res.body.user_type, null);
    const now = Date.now() / 1000;
    assert.ok(Math.abs(res.body.creation_ts - now) < 120, String(res.body.creation_ts));
    assert.equal(typeof res.body.last_seen_ts, 'number');
    // Percent-encoded ids work too.
    assert.equal((await admin(s, root.token, 'GET', `/v2/users/${enc(alice.userId)}`)).status, 200);
  });

  it('GET: unknown 404 "User not found", remote 400, malformed 400 M_INVALID_PARAM', async () => {
    const missing = await admin(s, root.token, 'GET', '/v2/users/@nobody:localhost');
    assertError(missing, 404, 'M_NOT_FOUND');
    assert.equal(missing.body.error, 'User not found');
    const remote = await admin(s, root.token, 'GET', '/v2/users/@alice:elsewhere.org');
    assertError(remote, 400, 'M_UNKNOWN');
    assert.equal(remote.body.error, 'Can only look up local users');
    assertError(await admin(s, root.token, 'GET', '/v2/users/alice'), 400, 'M_INVALID_PARAM');
    assertError(await admin(s, root.token, 'GET', '/v2/users/@alice'), 400, 'M_INVALID_PARAM');
    assertError(await admin(s, root.token, 'GET', `/v2/users/@${'a'.repeat(1400)}:localhost`), 404, 'M_NOT_FOUND');
  });

  it('PUT creates an account (201) that logs in with its password; no device is made', async () => {
    const res = await admin(s, root.token, 'PUT', '/v2/users/@carol:localhost', {
      password: 'carol pw',
      displayname: 'Carol',
      avatar_url: 'mxc://localhost/abc',
      user_type: 'bot',
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.name, '@carol:localhost');
    assert.equal(res.body.displayname, 'Carol');
    assert.equal(res.body.avatar_url, 'mxc://localhost/abc');
    assert.equal(res.body.user_type, 'bot');
    assert.equal(res.body.admin, false);
    assert.deepEqual(await s.app.storage.devices.listByUser('@carol:localhost'), []);
    assert.equal(await loginErrcode(s, '@carol:localhost', 'carol pw'), null);
  });

  it('PUT create follows the username grammar and refuses taken names in any case', async () => {
    assertError(await admin(s, root.token, 'PUT', '/v2/users/@Bad Name:localhost', {}), 400, 'M_INVALID_USERNAME');
    assertError(await admin(s, root.token, 'PUT', '/v2/users/@Carol:localhost', {}), 400, 'M_INVALID_USERNAME');
    assertError(await admin(s, root.token, 'PUT', '/v2/users/@12345:localhost', {}), 400, 'M_INVALID_USERNAME');
    assertError(await admin(s, root.token, 'PUT', '/v2/users/@_x:localhost', {}), 400, 'M_INVALID_USERNAME');
    const long = `@${'a'.repeat(250)}:localhost`;
    assertError(await admin(s, root.token, 'PUT', `/v2/users/${long}`, {}), 400, 'M_INVALID_USERNAME');
    const remote = await admin(s, root.token, 'PUT', '/v2/users/@dave:elsewhere.org', {});
    assertError(remote, 400, 'M_UNKNOWN');
    assert.equal(remote.body.error, 'This endpoint can only be used with local users');
  });

  it('PUT modifies (200): password with logout_devices false keeps tokens; default logs out', async () => {
    const bob = await registerUser(s, 'bob');
    const keep = await admin(s, root.token, 'PUT', `/v2/users/${bob.userId}`, {
      password: 'bob two',
      logout_devices: false,
    });
    assert.equal(keep.status, 200, JSON.stringify(keep.body));
    assert.equal(await whoamiStatus(s, bob.token), 200);
    assert.equal(await loginErrcode(s, bob.userId, 'bob two'), null);
    assert.equal(await loginErrcode(s, bob.userId, bob.password), 'M_FORBIDDEN');
    assert.equal((await admin(s, root.token, 'PUT', `/v2/users/${bob.userId}`, { password: 'bob three' })).status, 200);
    assert.equal(await whoamiStatus(s, bob.token), 401);
    assert.deepEqual(await s.app.storage.devices.listByUser(bob.userId), []);
    assert.equal(await loginErrcode(s, bob.userId, 'bob three'), null);
  });

  it('PUT admin: true lets the user use the admin API; false takes it away at once', async () => {
    const eve = await registerUser(s, 'eve');
    assertError(await admin(s, eve.token, 'GET', '/v2/users'), 403, 'M_FORBIDDEN');
    const up = await admin(s, root.token, 'PUT', `/v2/users/${eve.userId}`, { admin: true });
    assert.equal(up.body.admin, true);
    assert.equal((await admin(s, eve.token, 'GET', '/v2/users')).status, 200);
    const down = await admin(s, root.token, 'PUT', `/v2/users/${eve.userId}`, { admin: false });
    assert.equal(down.body.admin, false);
    assertError(await admin(s, eve.token, 'GET', '/v2/users'), 403, 'M_FORBIDDEN');
  });

  it('PUT deactivated: true ends every session; re-activation needs a password', async () => {
    const frank = await registerUser(s, 'frank');
    const res = await admin(s, root.token, 'PUT', `/v2/users/${frank.userId}`, { deactivated: true });
    assert.equal(res.status, 200);
    assert.equal(res.body.deactivated, true);
    assert.equal(await whoamiStatus(s, frank.token), 401);
    assert.equal(await loginErrcode(s, frank.userId, frank.password), 'M_USER_DEACTIVATED');
    // A password alone does not touch a deactivated account (it needs deactivated: false).
    const pwOnly = await admin(s, root.token, 'PUT', `/v2/users/${frank.userId}`, { password: 'sneaky' });
    assertError(pwOnly, 400, 'M_UNKNOWN');
    assert.equal((await s.app.storage.users.findByUserId(frank.userId))?.password_hash, null);
    const noPw = await admin(s, root.token, 'PUT', `/v2/users/${frank.userId}`, { deactivated: false });
    assertError(noPw, 400, 'M_UNKNOWN');
    assert.equal(noPw.body.error, 'Must provide a password to re-activate an account.');
    const back = await admin(s, root.token, 'PUT', `/v2/users/${frank.userId}`, {
      deactivated: false,
      password: 'new',
    });
    assert.equal(back.body.deactivated, false);
    assert.equal(await loginErrcode(s, frank.userId, 'new'), null);
  });

  it('PUT locked: true refuses the tokens with 401 M_USER_LOCKED; unlocking restores them', async () => {
    const gina = await registerUser(s, 'gina');
    assert.equal((await admin(s, root.token, 'PUT', `/v2/users/${gina.userId}`, { locked: true })).body.locked, true);
    const res = await whoami(s, gina.token);
    assertError(res, 401, 'M_USER_LOCKED');
    assert.equal(res.body.soft_logout, true);
    // No new token either: the right password gets 401 M_USER_LOCKED, a wrong one 403 as ever.
    const locked = await s.request('POST', '/_matrix/client/v3/login', passwordLogin(gina.userId, 'pw-gina-1'));
    assertError(locked, 401, 'M_USER_LOCKED');
    assert.equal(locked.body.access_token, undefined);
    assert.equal(await loginErrcode(s, gina.userId, 'wrong'), 'M_FORBIDDEN');
    await admin(s, root.token, 'PUT', `/v2/users/${gina.userId}`, { locked: false });
    assert.equal(await whoamiStatus(s, gina.token), 200);
    assert.equal(await loginErrcode(s, gina.userId, 'pw-gina-1'), null);
  });

  it('an admin may not demote themselves; displayname "" removes it', async () => {
    const res = await admin(s, root.token, 'PUT', `/v2/users/${root.userId}`, { admin: false });
    assertError(res, 400, 'M_UNKNOWN');
    assert.equal(res.body.error, 'You may not demote yourself.');
    await admin(s, root.token, 'PUT', `/v2/users/${alice.userId}`, { displayname: 'Alice' });
    const cleared = await admin(s, root.token, 'PUT', `/v2/users/${alice.userId}`, { displayname: '' });
    assert.equal(cleared.body.displayname, null);
  });

  it('PUT: wrong types, overlong values and 3PIDs are 400 Matrix errors, and change nothing', async () => {
    const path = `/v2/users/${alice.userId}`;
    const cases: [unknown, string][] = [
      [{ admin: 'yes' }, 'M_BAD_JSON'],
      [{ password: 5 }, 'M_INVALID_PARAM'],
      [{ password: 'x'.repeat(513) }, 'M_INVALID_PARAM'],
      [{ password: '' }, 'M_INVALID_PARAM'],
      [{ logout_devices: 'no' }, 'M_INVALID_PARAM'],
      [{ deactivated: 1 }, 'M_INVALID_PARAM'],
      [{ locked: 'true' }, 'M_INVALID_PARAM'],
      [{ locked: true, deactivated: true }, 'M_UNKNOWN'],
      [{ displayname: 7 }, 'M_INVALID_PARAM'],
      [{ displayname: 'd'.repeat(257) }, 'M_INVALID_PARAM'],
      [{ avatar_url: 'm'.repeat(1001) }, 'M_INVALID_PARAM'],
      [{ user_type: 'wizard' }, 'M_UNKNOWN'],
      [{ user_type: 3 }, 'M_UNKNOWN'],
      [{ threepids: [{ medium: 'email', address: 'a@example.org' }] }, 'M_INVALID_PARAM'],
      [{ threepids: [{ medium: 'email' }] }, 'M_MISSING_PARAM'],
      [{ threepids: 'x' }, 'M_INVALID_PARAM'],
      [{ external_ids: [{ auth_provider: 'x', external_id: 'y' }] }, 'M_INVALID_PARAM'],
      [[1], 'M_BAD_JSON'],
    ];
    for (const [body, errcode] of cases) {
      assertError(await admin(s, root.token, 'PUT', path, body), 400, errcode);
    }
    assertError(
      await s.request('PUT', `/_synapse/admin${path}`, undefined, { token: root.token, raw: 'x' }),
      400,
      'M_NOT_JSON',
    );
    assert.equal(await whoamiStatus(s, alice.token), 200);
    assert.equal((await s.app.storage.users.findByUserId(alice.userId))?.is_admin, 0);
    // An empty list of 3PIDs is accepted (synadm never sends one, other tools may).
    assert.equal((await admin(s, root.token, 'PUT', path, { threepids: [] })).status, 200);
  });

  it('GET/PUT /v1/users/<id>/admin', async () => {
    const harry = await registerUser(s, 'harry');
    assert.deepEqual((await admin(s, root.token, 'GET', `/v1/users/${harry.userId}/admin`)).body, { admin: false });
    const put = await admin(s, root.token, 'PUT', `/v1/users/${harry.userId}/admin`, { admin: true });
    assert.equal(put.status, 200);
    assert.deepEqual(put.body, {});
    assert.deepEqual((await admin(s, harry.token, 'GET', `/v1/users/${harry.userId}/admin`)).body, { admin: true });
    const self = await admin(s, root.token, 'PUT', `/v1/users/${root.userId}/admin`, { admin: false });
    assertError(self, 400, 'M_UNKNOWN');
    assert.equal(self.body.error, 'You may not demote yourself.');
    assertError(await admin(s, root.token, 'PUT', `/v1/users/${harry.userId}/admin`, {}), 400, 'M_MISSING_PARAM');
    assertError(
      await admin(s, root.token, 'PUT', `/v1/users/${harry.userId}/admin`, { admin: 'false' }),
      400,
      'M_INVALID_PARAM',
    );
    assertError(await admin(s, root.token, 'GET', '/v1/users/@x:elsewhere.org/admin'), 400, 'M_UNKNOWN');
    assertError(await admin(s, root.token, 'GET', '/v1/users/@nobody:localhost/admin'), 404, 'M_NOT_FOUND');
    await admin(s, root.token, 'PUT', `/v1/users/${harry.userId}/admin`, { admin: false });
    assertError(await admin(s, harry.token, 'GET', '/v2/users'), 403, 'M_FORBIDDEN');
  });

  it('username_available: 200 available, 400 M_USER_IN_USE or M_INVALID_USERNAME', async () => {
    assert.deepEqual((await admin(s, root.token, 'GET', '/v1/username_available?username=zoe')).body, {
      available: true,
    });
    assertError(await admin(s, root.token, 'GET', '/v1/username_available?username=alice'), 400, 'M_USER_IN_USE');
    assertError(await admin(s, root.token, 'GET', '/v1/username_available?username=a%20b'), 400, 'M_INVALID_USERNAME');
    assertError(await admin(s, root.token, 'GET', '/v1/username_available?username=Zoe'), 400, 'M_INVALID_USERNAME');
    assertError(await admin(s, root.token, 'GET', '/v1/username_available'), 400, 'M_MISSING_PARAM');
  });

  it('shadow_ban is recorded and shown', async () => {
    assert.equal((await admin(s, root.token, 'POST', `/v1/users/${alice.userId}/shadow_ban`, {})).status, 200);
    assert.equal((await admin(s, root.token, 'GET', `/v2/users/${alice.userId}`)).body.shadow_banned, true);
    assert.equal((await admin(s, root.token, 'DELETE', `/v1/users/${alice.userId}/shadow_ban`)).status, 200);
    assert.equal((await admin(s, root.token, 'GET', `/v2/users/${alice.userId}`)).body.shadow_banned, false);
  });
});

await describeEachBackend('admin API: list accounts', (backend) => {
  let s: TestServer;
  let root: TestUser;
  const names = ['ann', 'ben', 'cat', 'dan', 'eva'];
  before(async () => {
    s = await startServer({ backend, config: { allow_guest_access: true } });
    root = await registerAdmin(s, 'root');
    for (const n of names) await registerUser(s, n);
    await admin(s, root.token, 'PUT', '/v2/users/@ben:localhost', { displayname: 'Benjamin 100%' });
    await admin(s, root.token, 'POST', '/v1/deactivate/@dan:localhost', {});
    await s.request('POST', '/_matrix/client/v3/register?kind=guest', {});
  });
  after(() => s.close());

  const list = (qs = '') => admin(s, root.token, 'GET', `/v2/users${qs}`);
  const userNames = (body: { users: { name: string }[] }) => body.users.map((u) => u.name);

  it('lists active accounts by name with total; creation_ts in ms; guests included', async () => {
    const res = await list();
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const ids = userNames(res.body);
    assert.equal(res.body.total, ids.length);
    assert.ok(!ids.includes('@dan:localhost'));
    assert.ok(ids.includes('@ann:localhost') && ids.includes('@root:localhost'));
    assert.deepEqual(ids, [...ids].sort());
    assert.ok(res.body.users.some((u: { is_guest: boolean }) => u.is_guest));
    assert.equal(res.body.next_token, undefined);
    const ann = res.body.users.find((u: { name: string }) => u.name === '@ann:localhost');
    assert.deepEqual(Object.keys(ann).sort(), [
      'admin',
      'approved',
      'avatar_url',
      'creation_ts',
      'deactivated',
      'displayname',
      'erased',
      'is_guest',
      'last_seen_ts',
      'locked',
      'name',
      'shadow_banned',
      'user_type',
    ]);
    assert.ok(Math.abs(ann.creation_ts - Date.now()) < 120_000, String(ann.creation_ts));
  });

  it('paginates with from/limit and next_token', async () => {
    const all = userNames((await list('?guests=false')).body);
    const first = await list('?guests=false&limit=2');
    assert.deepEqual(userNames(first.body), all.slice(0, 2));
    assert.equal(first.body.next_token, '2');
    assert.equal(first.body.total, all.length);
    const second = await list(`?guests=false&limit=2&from=${first.body.next_token}`);
    assert.deepEqual(userNames(second.body), all.slice(2, 4));
    const last = await list(`?guests=false&limit=100&from=${all.length - 1}`);
    assert.deepEqual(userNames(last.body), all.slice(-1));
    assert.equal(last.body.next_token, undefined);
  });

  it('filters: deactivated, guests, name (localpart or display name), user_id, admins', async () => {
    assert.ok(userNames((await list('?deactivated=true')).body).includes('@dan:localhost'));
    assert.ok((await list('?guests=false')).body.users.every((u: { is_guest: boolean }) => !u.is_guest));
    assert.deepEqual(userNames((await list('?name=AN')).body), ['@ann:localhost']);
    assert.deepEqual(userNames((await list('?name=jamin')).body), ['@ben:localhost']);
    // LIKE wildcards in the search are literal.
    assert.deepEqual(userNames((await list('?name=100%25')).body), ['@ben:localhost']);
    assert.deepEqual(userNames((await list('?name=_')).body), []);
    assert.deepEqual(userNames((await list('?user_id=%40cat')).body), ['@cat:localhost']);
    assert.deepEqual(userNames((await list('?admins=true')).body), ['@root:localhost']);
  });

  it('order_by and dir', async () => {
    const back = userNames((await list('?guests=false&dir=b')).body);
    assert.deepEqual(back, [...back].sort().reverse());
    const byAdmin = userNames((await list('?guests=false&order_by=admin&dir=b')).body);
    assert.equal(byAdmin[0], '@root:localhost');
    const byName = (await list('?guests=false&order_by=displayname')).body.users;
    assert.equal(byName[0].displayname, 'Benjamin 100%');
    for (const o of ['creation_ts', 'last_seen_ts', 'user_type', 'locked', 'shadow_banned', 'avatar_url', 'is_guest']) {
      assert.equal((await list(`?order_by=${o}`)).status, 200, o);
    }
  });

  it('bad query parameters are 400 M_INVALID_PARAM', async () => {
    for (const qs of [
      '?from=-1',
      '?limit=-5',
      '?limit=abc',
      '?from=1e3',
      '?from=99999999999999999999',
      '?guests=yes',
      '?deactivated=1',
      '?order_by=password_hash',
      '?dir=up',
      '?admins=maybe',
    ]) {
      assertError(await list(qs), 400, 'M_INVALID_PARAM');
    }
  });
});
