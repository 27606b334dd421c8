import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { assertError, assertLoggedOut } from '../helpers/assert.js';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';
import { login, registerUser, whoami } from '../helpers/users.js';

await describeEachBackend('POST /logout and /logout/all', (backend) => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ backend });
    for (const user of ['alice', 'bob', 'carol', 'dave']) await registerUser(s, user, 'pw');
  });
  after(() => s.close());

  it('logout kills only the calling token and deletes its device', async () => {
    const a = await login(s, 'alice', 'pw');
    const b = await login(s, 'alice', 'pw');
    const otherUser = await login(s, 'bob', 'pw');
    // Validate first so the token is in the cache: logout must invalidate the cache too.
    assert.equal((await whoami(s, a.token)).status, 200);
    const res = await s.request('POST', '/_matrix/client/v3/logout', {}, { token: a.token });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, {});
    assertLoggedOut(await whoami(s, a.token));
    assert.equal((await whoami(s, b.token)).status, 200, 'another device of the same user still works');
    assert.equal((await whoami(s, otherUser.token)).status, 200);
    assert.equal(await s.app.storage.devices.find('@alice:localhost', a.deviceId), null, 'device deleted');
    assert.notEqual(await s.app.storage.devices.find('@alice:localhost', b.deviceId), null);
  });

  it('accepts an empty body, a token in the query, and the r0 and api/v1 aliases', async () => {
    for (const path of ['/_matrix/client/v3/logout', '/_matrix/client/r0/logout', '/_matrix/client/api/v1/logout']) {
      const t = await login(s, 'carol', 'pw');
      const res = await s.request('POST', path, undefined, { token: t.token });
      assert.equal(res.status, 200, `${path}: ${JSON.stringify(res.body)}`);
      assert.deepEqual(res.body, {});
      assertError(await whoami(s, t.token), 401, 'M_UNKNOWN_TOKEN');
    }
    const t = await login(s, 'carol', 'pw');
    const viaQuery = await s.request('POST', `/_matrix/client/v3/logout?access_token=${t.token}`);
    assert.equal(viaQuery.status, 200);
    assertError(await whoami(s, t.token), 401, 'M_UNKNOWN_TOKEN');
  });

  it('without a token → 401 M_MISSING_TOKEN; with a bad one → 401 M_UNKNOWN_TOKEN', async () => {
    for (const path of ['/_matrix/client/v3/logout', '/_matrix/client/v3/logout/all']) {
      assertError(await s.request('POST', path, {}), 401, 'M_MISSING_TOKEN');
      assertLoggedOut(await s.request('POST', `${path}?access_token=an/invalid/token`, {}));
    }
  });

  it('a second logout with the same token is 401', async () => {
    const t = await login(s, 'carol', 'pw');
    assert.equal((await s.request('POST', '/_matrix/client/v3/logout', {}, { token: t.token })).status, 200);
    assertError(await s.request('POST', '/_matrix/client/v3/logout', {}, { token: t.token }), 401, 'M_UNKNOWN_TOKEN');
  });

  it('malformed bodies never 5xx', async () => {
    const t = await login(s, 'carol', 'pw');
    const res = await s.request('POST', '/_matrix/client/v3/logout', undefined, { token: t.token, raw: '{nope' });
    assertError(res, 400, 'M_NOT_JSON');
    assert.equal((await whoami(s, t.token)).status, 200, 'a refused logout logs nothing out');
  });

  it('logout/all kills every token and device of the user, and only theirs', async () => {
    const tokens = [
      await login(s, 'dave', 'pw'),
      await login(s, 'dave', 'pw', { device_id: 'DAVE2' }),
      await login(s, 'dave', 'pw', { device_id: 'DAVE3' }),
    ];
    const bob = await login(s, 'bob', 'pw');
    for (const t of tokens) assert.equal((await whoami(s, t.token)).status, 200);
    const res = await s.request('POST', '/_matrix/client/v3/logout/all', undefined, { token: tokens[0]!.token });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, {});
    for (const t of tokens) assertError(await whoami(s, t.token), 401, 'M_UNKNOWN_TOKEN');
    assert.deepEqual(await s.app.storage.devices.listByUser('@dave:localhost'), []);
    assert.equal((await whoami(s, bob.token)).status, 200, "another user's token still works");
    // The account itself still logs in.
    const again = await login(s, 'dave', 'pw');
    assert.equal((await whoami(s, again.token)).status, 200);
  });

  it('logout/all is served under r0 and api/v1 too', async () => {
    for (const v of ['r0', 'api/v1']) {
      const t = await login(s, 'dave', 'pw');
      const res = await s.request('POST', `/_matrix/client/${v}/logout/all`, {}, { token: t.token });
      assert.equal(res.status, 200, `${v}: ${JSON.stringify(res.body)}`);
      assertError(await whoami(s, t.token), 401, 'M_UNKNOWN_TOKEN');
    }
  });
});
