// `synadm regtok list/new/details/update/delete` (Debian's synadm, unchanged) manages
// Tessera's registration tokens over Synapse's admin API; the effects are checked over the
// client API, with `registration_requires_token` on. See test/e2e/synadm.test.ts for the rest.
//
// In CI (CI=true) a missing synadm is a failure, never a skip; `.ci/run` installs it.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';
import { type Synadm, synadmFor, synadmSkip } from '../helpers/synadm.js';

const skip = synadmSkip();
const V3 = '/_matrix/client/v3/register';
const STAGE = 'm.login.registration_token';

await describeEachBackend('synadm regtok against Tessera', (backend) => {
  let s: TestServer;
  let tool: Synadm;

  before(async () => {
    s = await startServer({ backend, config: { registration_requires_token: true } });
    // Registration needs a token now: the admin is created as `register_new_matrix_user` would.
    const root = await s.app.services.users.register({
      localpart: 'root',
      password: { plain: 'pw-root' },
      isGuest: false,
      isAdmin: true,
      approved: true,
      login: { deviceId: null, initialDisplayName: null, refreshToken: false },
    });
    tool = synadmFor(s.url, { userId: root.userId, token: root.accessToken! });
  });
  after(async () => {
    await s?.close();
    tool?.cleanup();
  });

  const synadm = (...args: string[]) => tool.run(...args);

  /** Register `username` with `token` over v3; the last reply. */
  async function register(username: string, token: string) {
    const session = (await s.request('POST', V3, { username })).body.session;
    const held = await s.request('POST', V3, { auth: { type: STAGE, token, session } });
    if (held.body.errcode !== undefined) return held;
    return s.request('POST', V3, { password: 'pw', auth: { type: 'm.login.dummy', session } });
  }

  it('regtok new: a named one-use token, and a generated one of the length asked', { skip }, async () => {
    const named = await synadm('regtok', 'new', '--token', 'synadm-tok', '--uses-allowed', '1');
    assert.deepEqual(named.json, { token: 'synadm-tok', uses_allowed: 1, pending: 0, completed: 0, expiry_time: null });
    const generated = await synadm('regtok', 'new', '--length', '20', '--expiry-ts', String(Date.now() + 86_400_000));
    assert.match(generated.json.token, /^[A-Za-z0-9._~-]{20}$/);
    assert.equal(generated.json.uses_allowed, null);
    assert.equal(typeof generated.json.expiry_time, 'number');
  });

  it('regtok list (--valid/--invalid) and details; the token registers one account, then is used up', {
    skip,
  }, async () => {
    const all = await synadm('regtok', 'list', '--timestamp');
    assert.equal(all.json.registration_tokens.length, 2);
    assert.deepEqual((await synadm('regtok', 'list', '--invalid')).json.registration_tokens, []);

    const res = await register('sam', 'synadm-tok');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const details = await synadm('regtok', 'details', 'synadm-tok', '--timestamp');
    assert.deepEqual(details.json, {
      token: 'synadm-tok',
      uses_allowed: 1,
      pending: 0,
      completed: 1,
      expiry_time: null,
    });
    const invalid = await synadm('regtok', 'list', '--invalid');
    assert.deepEqual(
      invalid.json.registration_tokens.map((t: { token: string }) => t.token),
      ['synadm-tok'],
    );
    assert.equal((await synadm('regtok', 'list', '--valid')).json.registration_tokens.length, 1);
    assert.equal((await register('tim', 'synadm-tok')).body.errcode, 'M_UNAUTHORIZED');
  });

  it('regtok update: -1 uses means unlimited; the token works again; an expiry is set', { skip }, async () => {
    const expiry = Date.now() + 3_600_000;
    const { json } = await synadm(
      'regtok',
      'update',
      'synadm-tok',
      '--uses-allowed',
      '-1',
      '--expiry-ts',
      String(expiry),
    );
    assert.deepEqual(json, { token: 'synadm-tok', uses_allowed: null, pending: 0, completed: 1, expiry_time: expiry });
    assert.equal((await register('tim', 'synadm-tok')).status, 200);
  });

  it('regtok delete: the token is gone, and refused at registration', { skip }, async () => {
    const { stdout } = await synadm('regtok', 'delete', 'synadm-tok');
    assert.match(stdout, /Registration token successfully deleted/);
    const { json } = await synadm('regtok', 'details', 'synadm-tok');
    assert.equal(json.errcode, 'M_NOT_FOUND');
    assert.equal((await register('uma', 'synadm-tok')).body.errcode, 'M_UNAUTHORIZED');
  });
});
