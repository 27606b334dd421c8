import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';

const WHOAMI = '/_matrix/client/v3/account/whoami';

function assertError(res: { status: number; body: any }, status: number, errcode: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.errcode, errcode, JSON.stringify(res.body));
  assert.equal(typeof res.body.error, 'string');
}

async function login(s: TestServer, user: string, deviceId?: string): Promise<{ token: string; device: string }> {
  const res = await s.request('POST', '/_matrix/client/v3/login', {
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user },
    password: 'pw',
    ...(deviceId !== undefined && { device_id: deviceId }),
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { token: res.body.access_token, device: res.body.device_id };
}

async function whoami(s: TestServer, token: string) {
  return s.request('GET', WHOAMI, undefined, { token });
}

await describeEachBackend('POST /logout and /logout/all', (backend) => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ backend });
    for (const user of ['alice', 'bob', 'carol', 'dave']) {
      const res = await s.request('POST', '/_matrix/client/api/v1/register', {
        type: 'm.login.password',
        user,
        password: 'pw',
      });
      assert.equal(res.status, 200);
    }
  });
  after(() => s.close());

  it('logout kills only the calling token and deletes its device', async () => {
    const a = await login(s, 'alice');
    const b = await login(s, 'alice');
    const otherUser = await login(s, 'bob');
    // Validate first so the token is in the cache: logout must invalidate the cache too.
    assert.equal((await whoami(s, a.token)).status, 200);
    const res = await s.request('POST', '/_matrix/client/v3/logout', {}, { token: a.token });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, {});
    const dead = await whoami(s, a.token);
    assertError(dead, 401, 'M_UNKNOWN_TOKEN');
    assert.equal(dead.body.soft_logout, false);
    assert.equal((await whoami(s, b.token)).status, 200, 'another device of the same user still works');
    assert.equal((await whoami(s, otherUser.token)).status, 200);
    assert.equal(await s.app.storage.devices.find('@alice:localhost', a.device), null, 'device deleted');
    assert.notEqual(await s.app.storage.devices.find('@alice:localhost', b.device), null);
  });

  it('accepts an empty body, a token in the query, and the r0 and api/v1 aliases', async () => {
    for (const path of ['/_matrix/client/v3/logout', '/_matrix/client/r0/logout', '/_matrix/client/api/v1/logout']) {
      const t = await login(s, 'carol');
      const res = await s.request('POST', path, undefined, { token: t.token });
      assert.equal(res.status, 200, `${path}: ${JSON.stringify(res.body)}`);
      assert.deepEqual(res.body, {});
      assertError(await whoami(s, t.token), 401, 'M_UNKNOWN_TOKEN');
    }
    const t = await login(s, 'carol');
    const viaQuery = await s.request('POST', `/_matrix/client/v3/logout?access_token=${t.token}`);
    assert.equal(viaQuery.status, 200);
    assertError(await whoami(s, t.token), 401, 'M_UNKNOWN_TOKEN');
  });

  it('without a token → 401 M_MISSING_TOKEN; with a bad one → 401 M_UNKNOWN_TOKEN', async () => {
    for (const path of ['/_matrix/client/v3/logout', '/_matrix/client/v3/logout/all']) {
      assertError(await s.request('POST', path, {}), 401, 'M_MISSING_TOKEN');
      const bad = await s.request('POST', `${path}?access_token=an/invalid/token`, {});
      assertError(bad, 401, 'M_UNKNOWN_TOKEN');
      assert.equal(bad.body.soft_logout, false);
    }
  });

  it('a second logout with the same token is 401', async () => {
    const t = await login(s, 'carol');
    assert.equal((await s.request('POST', '/_matrix/client/v3/logout', {}, { token: t.token })).status, 200);
    assertError(await s.request('POST', '/_matrix/client/v3/logout', {}, { token: t.token }), 401, 'M_UNKNOWN_TOKEN');
  });

  it('malformed bodies never 5xx', async () => {
    const t = await login(s, 'carol');
    const res = await s.request('POST', '/_matrix/client/v3/logout', undefined, { token: t.token, raw: '{nope' });
    assertError(res, 400, 'M_NOT_JSON');
    assert.equal((await whoami(s, t.token)).status, 200, 'a refused logout logs nothing out');
  });

  it('logout/all kills every token and device of the user, and only theirs', async () => {
    const tokens = [await login(s, 'dave'), await login(s, 'dave', 'DAVE2'), await login(s, 'dave', 'DAVE3')];
    const bob = await login(s, 'bob');
    for (const t of tokens) assert.equal((await whoami(s, t.token)).status, 200);
    const res = await s.request('POST', '/_matrix/client/v3/logout/all', undefined, { token: tokens[0]!.token });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, {});
    for (const t of tokens) assertError(await whoami(s, t.token), 401, 'M_UNKNOWN_TOKEN');
    assert.deepEqual(await s.app.storage.devices.listByUser('@dave:localhost'), []);
    assert.equal((await whoami(s, bob.token)).status, 200, "another user's token still works");
    // The account itself still logs in.
    const again = await login(s, 'dave');
    assert.equal((await whoami(s, again.token)).status, 200);
  });

  it('logout/all is served under r0 and api/v1 too', async () => {
    for (const v of ['r0', 'api/v1']) {
      const t = await login(s, 'dave');
      const res = await s.request('POST', `/_matrix/client/${v}/logout/all`, {}, { token: t.token });
      assert.equal(res.status, 200, `${v}: ${JSON.stringify(res.body)}`);
      assertError(await whoami(s, t.token), 401, 'M_UNKNOWN_TOKEN');
    }
  });
});
