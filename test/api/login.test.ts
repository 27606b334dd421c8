import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { assertError } from '../helpers/assert.js';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';
import { passwordLogin as pw, registerUser, whoami } from '../helpers/users.js';

const LOGIN = '/_matrix/client/v3/login';

await describeEachBackend('POST /login (password)', (backend) => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ backend });
    await registerUser(s, 'alice', 'wonderland');
  });
  after(() => s.close());

  it('GET /login lists only m.login.password, on v3, r0 and api/v1', async () => {
    for (const v of ['v3', 'r0', 'api/v1']) {
      const res = await s.request('GET', `/_matrix/client/${v}/login`);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { flows: [{ type: 'm.login.password' }] });
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    }
  });

  it('logs in with a full user id; the token works and a new device is made', async () => {
    const res = await s.request('POST', LOGIN, pw('@alice:localhost', 'wonderland'));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.user_id, '@alice:localhost');
    assert.equal(res.body.home_server, 'localhost');
    assert.equal(typeof res.body.device_id, 'string');
    assert.ok(res.body.access_token.length >= 22);
    assert.equal(res.body.refresh_token, undefined);
    assert.equal(res.body.expires_in_ms, undefined);
    const who = await whoami(s, res.body.access_token);
    assert.deepEqual(who.body, { user_id: '@alice:localhost', device_id: res.body.device_id, is_guest: false });
  });

  it('logs in with the localpart, another case, and the legacy top-level user', async () => {
    const bodies = [
      pw('alice', 'wonderland'),
      pw('ALICE', 'wonderland'),
      pw('@Alice:localhost', 'wonderland'),
      { type: 'm.login.password', user: 'alice', password: 'wonderland' },
      { type: 'm.login.password', user: '@ALICE:localhost', password: 'wonderland' },
    ];
    const devices = new Set<string>();
    for (const body of bodies) {
      const res = await s.request('POST', LOGIN, body);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.user_id, '@alice:localhost', 'the stored id, not the typed case');
      devices.add(res.body.device_id);
      const who = await whoami(s, res.body.access_token);
      assert.equal(who.body.user_id, '@alice:localhost');
    }
    assert.equal(devices.size, bodies.length, 'each login without device_id makes a new device');
  });

  it('serves r0 and api/v1 aliases', async () => {
    for (const v of ['r0', 'api/v1']) {
      const res = await s.request('POST', `/_matrix/client/${v}/login`, {
        type: 'm.login.password',
        user: 'alice',
        password: 'wonderland',
      });
      assert.equal(res.status, 200, `${v}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.user_id, '@alice:localhost');
    }
  });

  it('a wrong password and an unknown user both get 403 M_FORBIDDEN', async () => {
    const wrong = await s.request('POST', LOGIN, pw('alice', 'nope'));
    const unknown = await s.request('POST', LOGIN, pw('nobody', 'wonderland'));
    const otherServer = await s.request('POST', LOGIN, pw('@alice:elsewhere', 'wonderland'));
    for (const res of [wrong, unknown, otherServer]) assertError(res, 403, 'M_FORBIDDEN');
    assert.equal(wrong.body.error, unknown.body.error, 'no hint which part was wrong');
  });

  it('a deactivated account gets 403 M_USER_DEACTIVATED and its tokens die', async () => {
    await registerUser(s, 'gone', 'pw-gone');
    const first = await s.request('POST', LOGIN, pw('gone', 'pw-gone'));
    assert.equal(first.status, 200);
    await s.app.storage.users.deactivate('@gone:localhost');
    assertError(await s.request('POST', LOGIN, pw('gone', 'pw-gone')), 403, 'M_USER_DEACTIVATED');
    const who = await whoami(s, first.body.access_token);
    assertError(who, 401, 'M_UNKNOWN_TOKEN');
  });

  it('device_id is echoed; reuse replaces that device token only, and keeps its name', async () => {
    const a = await s.request(
      'POST',
      LOGIN,
      pw('alice', 'wonderland', { device_id: 'PHONE', initial_device_display_name: 'Phone' }),
    );
    assert.equal(a.status, 200);
    assert.equal(a.body.device_id, 'PHONE');
    const other = await s.request('POST', LOGIN, pw('alice', 'wonderland', { device_id: 'LAPTOP' }));
    const b = await s.request(
      'POST',
      LOGIN,
      pw('alice', 'wonderland', { device_id: 'PHONE', initial_device_display_name: 'Renamed' }),
    );
    assert.equal(b.status, 200);
    assert.equal(b.body.device_id, 'PHONE');
    assert.notEqual(b.body.access_token, a.body.access_token);
    assertError(await whoami(s, a.body.access_token), 401, 'M_UNKNOWN_TOKEN');
    const whoB = await whoami(s, b.body.access_token);
    assert.equal(whoB.body.device_id, 'PHONE');
    const whoOther = await whoami(s, other.body.access_token);
    assert.equal(whoOther.status, 200);
    assert.equal(whoOther.body.device_id, 'LAPTOP');
    const device = await s.app.storage.devices.find('@alice:localhost', 'PHONE');
    assert.equal(device?.display_name, 'Phone', 'initial_device_display_name names new devices only');
  });

  it('refresh_token: true returns a refresh token and expires_in_ms', async () => {
    const res = await s.request('POST', LOGIN, pw('alice', 'wonderland', { refresh_token: true }));
    assert.equal(res.status, 200);
    assert.equal(typeof res.body.refresh_token, 'string');
    assert.notEqual(res.body.refresh_token, res.body.access_token);
    assert.equal(res.body.expires_in_ms, 300_000, "Synapse's default refreshable lifetime");
    const off = await s.request('POST', LOGIN, pw('alice', 'wonderland', { refresh_token: false }));
    assert.equal(off.body.refresh_token, undefined);
    assert.equal(off.body.expires_in_ms, undefined);
  });

  it('malformed requests get clear 4xx errors, never 5xx', async () => {
    const cases: [unknown, number, string][] = [
      [{ type: 'm.login.token', token: 'x' }, 400, 'M_UNKNOWN'],
      [{ type: 'm.login.bogus', user: 'alice', password: 'wonderland' }, 400, 'M_UNKNOWN'],
      [{ user: 'alice', password: 'wonderland' }, 400, 'M_MISSING_PARAM'],
      [{ type: 5, user: 'alice', password: 'wonderland' }, 400, 'M_BAD_JSON'],
      [{ type: 'm.login.password', user: 'alice' }, 400, 'M_MISSING_PARAM'],
      [{ type: 'm.login.password', password: 'wonderland' }, 400, 'M_MISSING_PARAM'],
      [{ type: 'm.login.password', user: 'alice', password: 5 }, 400, 'M_BAD_JSON'],
      [{ type: 'm.login.password', user: 5, password: 'wonderland' }, 400, 'M_BAD_JSON'],
      [{ type: 'm.login.password', identifier: 'alice', password: 'wonderland' }, 400, 'M_BAD_JSON'],
      [{ type: 'm.login.password', identifier: { user: 'alice' }, password: 'wonderland' }, 400, 'M_MISSING_PARAM'],
      [
        {
          type: 'm.login.password',
          // Email login is test/api/email-registration.test.ts; phone numbers are not supported.
          identifier: { type: 'm.id.phone', country: 'GB', phone: '123' },
          password: 'x',
        },
        400,
        'M_UNKNOWN',
      ],
      [{ type: 'm.login.password', identifier: { type: 'm.id.user' }, password: 'wonderland' }, 400, 'M_MISSING_PARAM'],
      [pw('alice', 'wonderland', { refresh_token: 'yes' }), 400, 'M_BAD_JSON'],
      [pw('alice', 'wonderland', { device_id: 7 }), 400, 'M_BAD_JSON'],
      [pw('alice', 'wonderland', { device_id: 'D'.repeat(513) }), 400, 'M_INVALID_PARAM'],
      [pw('alice', 'wonderland', { initial_device_display_name: 'n'.repeat(101) }), 400, 'M_TOO_LARGE'],
      [[], 400, 'M_BAD_JSON'],
      ['login', 400, 'M_BAD_JSON'],
    ];
    for (const [body, status, errcode] of cases) {
      const res = await s.request('POST', LOGIN, body);
      assert.equal(res.status, status, `${JSON.stringify(body).slice(0, 80)} → ${JSON.stringify(res.body)}`);
      assert.equal(res.body.errcode, errcode, `${JSON.stringify(body).slice(0, 80)} → ${JSON.stringify(res.body)}`);
    }
    assertError(await s.request('POST', LOGIN, undefined, { raw: '{"type":' }), 400, 'M_NOT_JSON');
    assertError(await s.request('POST', LOGIN, undefined, { raw: '' }), 400, 'M_NOT_JSON');
  });

  it('null device_id and display name are treated as absent', async () => {
    const res = await s.request(
      'POST',
      LOGIN,
      pw('alice', 'wonderland', { device_id: null, initial_device_display_name: null }),
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.match(res.body.device_id, /^[A-Z]{10}$/);
  });
});

await describeEachBackend('POST /login with password_config.enabled: false', (backend) => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ backend, config: { password_config: { enabled: false } } });
    await registerUser(s, 'alice', 'wonderland');
  });
  after(() => s.close());

  it('offers no password flow and refuses password login with 400 M_UNKNOWN', async () => {
    const flows = await s.request('GET', LOGIN);
    assert.equal(flows.status, 200);
    assert.deepEqual(flows.body, { flows: [] });
    assertError(await s.request('POST', LOGIN, pw('alice', 'wonderland')), 400, 'M_UNKNOWN');
  });
});
