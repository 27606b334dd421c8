import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, it } from 'node:test';
import { assertChallenge, assertError } from '../helpers/assert.js';
import { startCaptchaServer } from '../helpers/captcha.js';
import type { FakeSiteverify } from '../helpers/fake-siteverify.js';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';
import { BAD_CHARACTER_USERNAMES } from '../helpers/usernames.js';
import { whoami } from '../helpers/users.js';

const V3 = '/_matrix/client/v3/register';
const R0 = '/_matrix/client/r0/register';
const AVAILABLE = '/_matrix/client/v3/register/available';

await describeEachBackend('v3 register, open registration', (backend) => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ backend });
  });
  after(() => s.close());

  it('{} → 401 with the dummy flow, empty params, a session, no errcode or completed', async () => {
    const res = await s.request('POST', V3, {});
    assertChallenge(res);
    assert.deepEqual(res.body.flows, [{ stages: ['m.login.dummy'] }]);
    assert.deepEqual(res.body.params, {});
    assert.equal(res.body.completed, undefined);
    assert.equal(res.body.error, undefined);
    // Credentials without auth are never enough (spec UIA); `auth: {}` neither.
    assertChallenge(await s.request('POST', V3, { username: 'noauth', password: 'pw' }));
    assertChallenge(await s.request('POST', V3, { username: 'noauth', password: 'pw', auth: {} }));
    assertChallenge(await s.request('POST', R0, {}));
    const free = await s.request('GET', `${AVAILABLE}?username=noauth`);
    assert.deepEqual(free.body, { available: true });
  });

  it('one-shot dummy registration without a session succeeds and the token works', async () => {
    const res = await s.request('POST', V3, { auth: { type: 'm.login.dummy' }, username: 'alice', password: 'pw' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.user_id, '@alice:localhost');
    assert.equal(res.body.home_server, 'localhost');
    assert.match(res.body.device_id, /^[A-Z]{10}$/);
    assert.equal(typeof res.body.access_token, 'string');
    assert.equal(res.body.refresh_token, undefined);
    assert.equal(res.body.expires_in_ms, undefined);
    const who = await whoami(s, res.body.access_token);
    assert.deepEqual(who.body, { user_id: '@alice:localhost', device_id: res.body.device_id, is_guest: false });
    const row = await s.app.services.passwordAuth.verify('alice', 'pw');
    assert.equal(row.user_id, '@alice:localhost');
  });

  it('two steps: the second request may carry only auth and the password; the parameters are remembered', async () => {
    const first = await s.request('POST', V3, {
      username: 'Remember',
      password: 'sekrit-pw',
      device_id: 'xyzzy',
      initial_device_display_name: 'My phone',
    });
    const session = assertChallenge(first);
    const second = await s.request('POST', V3, { password: 'sekrit-pw', auth: { type: 'm.login.dummy', session } });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(second.body.user_id, '@remember:localhost');
    assert.equal(second.body.device_id, 'xyzzy');
    const device = await s.app.storage.devices.find('@remember:localhost', 'xyzzy');
    assert.equal(device?.display_name, 'My phone');
    // The stored hash is the password's: it verifies.
    await s.app.services.passwordAuth.verify('@remember:localhost', 'sekrit-pw');
  });

  it('never stores the plaintext password; a bare challenge stores no hash either', async () => {
    const password = 'PlainTextCanary-93517';
    const session = assertChallenge(await s.request('POST', V3, { username: 'canary', password }));
    const row = await s.app.storage.uiaSessions.find(session, Date.now());
    assert.ok(row !== null);
    assert.ok(!row.request_body.includes(password), row.request_body);
    const stored = JSON.parse(row.request_body);
    assert.equal(stored.password, undefined);
    assert.equal(stored.password_hash, undefined);
    // A client cannot smuggle in its own hash.
    const smuggle = assertChallenge(await s.request('POST', V3, { username: 'smuggler', password_hash: 'x' }));
    const smuggled = await s.app.storage.uiaSessions.find(smuggle, Date.now());
    assert.equal(JSON.parse(smuggled!.request_body).password_hash, undefined);
    const done = await s.request('POST', V3, { password, auth: { type: 'm.login.dummy', session } });
    assert.equal(done.status, 200);
    if (s.backend === 'sqlite' && s.app.config.database.kind === 'sqlite') {
      for (const file of [s.app.config.database.path, `${s.app.config.database.path}-wal`]) {
        if (existsSync(file)) assert.ok(!readFileSync(file).includes(password), `plaintext in ${file}`);
      }
    }
  });

  it('a completed session retried returns the same account with a new device and token', async () => {
    const session = assertChallenge(await s.request('POST', V3, { username: 'retry', password: 'pw' }));
    const body = { auth: { type: 'm.login.dummy', session }, username: 'retry', password: 'pw' };
    const first = await s.request('POST', V3, body);
    assert.equal(first.status, 200);
    const again = await s.request('POST', V3, body);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.user_id, '@retry:localhost');
    assert.notEqual(again.body.device_id, first.body.device_id);
    assert.notEqual(again.body.access_token, first.body.access_token);
    assert.deepEqual((await whoami(s, again.body.access_token)).body, {
      user_id: '@retry:localhost',
      device_id: again.body.device_id,
      is_guest: false,
    });
    // Session only, no type: the flow is complete, so it is the result again.
    const bare = await s.request('POST', V3, { auth: { session } });
    assert.equal(bare.status, 200);
    assert.equal(bare.body.user_id, '@retry:localhost');
    // Another name in the same session is refused (Synapse).
    assertError(
      await s.request('POST', V3, { auth: { type: 'm.login.dummy', session }, username: 'other' }),
      400,
      'M_UNKNOWN',
    );
    // Without the session the name is simply taken.
    assertError(
      await s.request('POST', V3, { auth: { type: 'm.login.dummy' }, username: 'retry', password: 'pw' }),
      400,
      'M_USER_IN_USE',
    );
  });

  it('concurrent duplicates of one session create exactly one account', async () => {
    for (const username of [undefined, 'racer']) {
      const session = assertChallenge(await s.request('POST', V3, { ...(username && { username }), password: 'pw' }));
      const before = await s.app.storage.users.nextNumericId();
      const results = await Promise.all(
        Array.from({ length: 6 }, () =>
          s.request('POST', V3, { password: 'pw', auth: { type: 'm.login.dummy', session } }),
        ),
      );
      for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body));
      const ids = new Set(results.map((r) => r.body.user_id));
      assert.equal(ids.size, 1, [...ids].join(', '));
      assert.equal(new Set(results.map((r) => r.body.access_token)).size, 6);
      const after = await s.app.storage.users.nextNumericId();
      if (username === undefined) {
        assert.match([...ids][0], /^@[0-9]+:localhost$/);
        assert.equal(after, before + 1, 'exactly one generated id was used');
      } else {
        assert.equal([...ids][0], '@racer:localhost');
        assert.equal(after, before);
      }
    }
  });

  it('username checks come before the challenge', async () => {
    await s.request('POST', V3, { auth: { type: 'm.login.dummy' }, username: 'taken', password: 'pw' });
    for (const username of ['taken', 'TAKEN']) {
      const res = await s.request('POST', V3, { username, password: 'pw' });
      assertError(res, 400, 'M_USER_IN_USE');
      assert.equal(res.body.session, undefined);
    }
    const bad = [...BAD_CHARACTER_USERNAMES, '_bot', '1234', '', 'a'.repeat(245)];
    for (const username of bad) {
      assertError(await s.request('POST', V3, { username, password: 'pw' }), 400, 'M_INVALID_USERNAME');
      assertError(
        await s.request('POST', V3, { auth: { type: 'm.login.dummy' }, username, password: 'pw' }),
        400,
        'M_INVALID_USERNAME',
      );
    }
    const upper = await s.request('POST', V3, {
      auth: { type: 'm.login.dummy' },
      username: 'user-UPPER',
      password: 'p',
    });
    assert.equal(upper.body.user_id, '@user-upper:localhost');
    const allowed = await s.request('POST', V3, {
      auth: { type: 'm.login.dummy' },
      username: 'q3._=-/+',
      password: 'p',
    });
    assert.equal(allowed.body.user_id, '@q3._=-/+:localhost');
    // No username: the server generates one; an empty password fails before the challenge.
    const generated = await s.request('POST', V3, { auth: { type: 'm.login.dummy' }, password: 'pw' });
    assert.match(generated.body.user_id, /^@[0-9]+:localhost$/);
    assertError(await s.request('POST', V3, { username: 'empty', password: '' }), 400, 'M_WEAK_PASSWORD');
  });

  it('inhibit_login returns only user_id and home_server', async () => {
    const res = await s.request('POST', V3, {
      auth: { type: 'm.login.dummy' },
      username: 'inhibited',
      password: 'pw',
      inhibit_login: true,
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { user_id: '@inhibited:localhost', home_server: 'localhost' });
    assert.deepEqual(await s.app.storage.devices.listByUser('@inhibited:localhost'), []);
  });

  it('honours device_id and initial_device_display_name, and the r0 alias', async () => {
    const res = await s.request('POST', R0, {
      auth: { type: 'm.login.dummy' },
      username: 'devicer',
      password: 'pw',
      device_id: 'MYDEVICE',
      initial_device_display_name: 'Laptop',
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.device_id, 'MYDEVICE');
    assert.equal((await whoami(s, res.body.access_token)).body.device_id, 'MYDEVICE');
    assert.equal((await s.app.storage.devices.find('@devicer:localhost', 'MYDEVICE'))?.display_name, 'Laptop');
  });

  it('refresh_token: true is passed on; without it no refresh token', async () => {
    const res = await s.request('POST', V3, {
      auth: { type: 'm.login.dummy' },
      username: 'refresher',
      password: 'pw',
      refresh_token: true,
    });
    assert.equal(res.status, 200);
    assert.equal(typeof res.body.refresh_token, 'string');
    assert.notEqual(res.body.refresh_token, res.body.access_token);
    assert.equal(res.body.expires_in_ms, 300_000, 'the default refreshable access token lifetime');
    assert.equal((await whoami(s, res.body.access_token)).status, 200);
    const refreshed = await s.request('POST', '/_matrix/client/v3/refresh', { refresh_token: res.body.refresh_token });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    // The flag is remembered with the session, like the other parameters.
    const session = assertChallenge(await s.request('POST', V3, { username: 'refresher2', refresh_token: true }));
    const later = await s.request('POST', V3, { auth: { type: 'm.login.dummy', session } });
    assert.equal(typeof later.body.refresh_token, 'string');
    const plain = await s.request('POST', V3, { auth: { type: 'm.login.dummy' }, username: 'plain', password: 'p' });
    assert.equal(plain.body.refresh_token, undefined);
    assert.equal(plain.body.expires_in_ms, undefined);
  });

  it('answers malformed requests with 4xx Matrix errors, never a 5xx', async () => {
    assertError(await s.request('POST', V3, undefined, { raw: 'not json' }), 400, 'M_NOT_JSON');
    assertError(await s.request('POST', V3, undefined, { raw: '' }), 400, 'M_NOT_JSON');
    for (const raw of ['[]', '"x"', '1', 'null']) {
      assertError(await s.request('POST', V3, undefined, { raw }), 400, 'M_BAD_JSON');
    }
    const wrong: Record<string, unknown>[] = [
      { username: 5 },
      { password: ['x'] },
      { device_id: 1 },
      { initial_device_display_name: {} },
      { inhibit_login: 'yes' },
      { refresh_token: 'true' },
      { auth: 'm.login.dummy' },
      { auth: { type: 5 } },
      { auth: { type: 'm.login.dummy', session: 5 } },
    ];
    for (const body of wrong) assertError(await s.request('POST', V3, body), 400, 'M_BAD_JSON');
    assertError(await s.request('POST', V3, { auth: { type: 'm.login.dummy', session: 'nope' } }), 400, 'M_UNKNOWN');
    assertError(await s.request('POST', `${V3}?kind=admin`, {}), 400, 'M_INVALID_PARAM');
    assertError(await s.request('POST', `${V3}?kind=guest`, {}), 403, 'M_GUEST_ACCESS_FORBIDDEN');
    assertError(await s.request('GET', V3), 405, 'M_UNRECOGNIZED');
    // An unknown stage type: Synapse answers 400, a 401 challenge is also allowed (B1.8).
    const foo = await s.request('POST', V3, { auth: { type: 'm.login.foo' }, username: 'foo', password: 'pw' });
    assert.ok(foo.status === 400 || foo.status === 401, String(foo.status));
    assert.equal(typeof foo.body.errcode, 'string');

    const values: unknown[] = [null, true, 0, 1.5, '', 'x', [], [1], {}, { type: 'm.login.dummy' }, '\u0000'];
    const keys = ['username', 'password', 'device_id', 'initial_device_display_name', 'inhibit_login', 'auth'];
    let n = 0;
    for (const key of keys) {
      for (const value of values) {
        const body: Record<string, unknown> = {
          auth: { type: 'm.login.dummy' },
          username: `fuzz${n++}`,
          password: 'pw',
        };
        body[key] = value;
        const res = await s.request('POST', V3, body);
        assert.ok(res.status < 500, `${JSON.stringify(body)} → ${res.status}`);
        // auth: null / {} are "no auth": a plain challenge, which has no errcode.
        if (res.status === 401) assert.equal(typeof res.body.session, 'string');
        else if (res.status !== 200) assert.equal(typeof res.body.errcode, 'string', JSON.stringify(res.body));
      }
    }
  });

  it('GET /register/available', async () => {
    await s.request('POST', V3, { auth: { type: 'm.login.dummy' }, username: 'occupied', password: 'pw' });
    const free = await s.request('GET', `${AVAILABLE}?username=vacant`);
    assert.equal(free.status, 200);
    assert.deepEqual(free.body, { available: true });
    assert.deepEqual((await s.request('GET', '/_matrix/client/r0/register/available?username=vacant')).body, {
      available: true,
    });
    assertError(await s.request('GET', `${AVAILABLE}?username=occupied`), 400, 'M_USER_IN_USE');
    for (const bad of ['username,should_not_be_valid', 'Occupied', '_x', '1234', 'a%3Ab']) {
      assertError(await s.request('GET', `${AVAILABLE}?username=${bad}`), 400, 'M_INVALID_USERNAME');
    }
    assertError(await s.request('GET', AVAILABLE), 400, 'M_MISSING_PARAM');
    assertError(await s.request('GET', `${AVAILABLE}?username=a&username=b`), 400, 'M_INVALID_PARAM');
  });
});

await describeEachBackend('v3 register, captcha on', (backend) => {
  let s: TestServer;
  let verifier: FakeSiteverify;
  let close: () => Promise<void>;
  before(async () => {
    ({ server: s, verifier, close } = await startCaptchaServer(backend));
  });
  after(() => close());

  it('offers recaptcha then dummy, with the public key in params', async () => {
    const res = await s.request('POST', V3, { username: 'capt', password: 'pw' });
    assertChallenge(res);
    assert.deepEqual(res.body.flows, [{ stages: ['m.login.recaptcha', 'm.login.dummy'] }]);
    assert.deepEqual(res.body.params, { 'm.login.recaptcha': { public_key: 'public' } });
  });

  it('refused, missing and good captchas, then dummy finishes', async () => {
    const session = assertChallenge(await s.request('POST', V3, { username: 'captain', password: 'pw' }));
    const refused = await s.request('POST', V3, { auth: { type: 'm.login.recaptcha', response: 'bad', session } });
    assertChallenge(refused, 'M_UNAUTHORIZED');
    assert.equal(refused.body.session, session);
    assert.equal(refused.body.completed, undefined);
    assert.equal(typeof refused.body.error, 'string');
    assertChallenge(await s.request('POST', V3, { auth: { type: 'm.login.recaptcha', session } }), 'M_CAPTCHA_NEEDED');
    // The dummy stage cannot skip the captcha.
    assert.equal((await s.request('POST', V3, { auth: { type: 'm.login.dummy', session } })).status, 401);
    // A stage passed and a password came with it: its hash (only) is kept for the last stage.
    const good = await s.request('POST', V3, {
      password: 'pw',
      auth: { type: 'm.login.recaptcha', response: 'good', session },
    });
    assertChallenge(good);
    assert.deepEqual(good.body.completed, ['m.login.recaptcha']);
    const row = await s.app.storage.uiaSessions.find(session, Date.now());
    assert.match(JSON.parse(row!.request_body).password_hash, /^\$argon2id\$/);
    const form = verifier.received.at(-1)!;
    assert.equal(form.get('response'), 'good');
    assert.equal(form.get('remoteip'), '127.0.0.1');
    const done = await s.request('POST', V3, { auth: { type: 'm.login.dummy', session } });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.user_id, '@captain:localhost');
    assert.equal((await s.app.services.passwordAuth.verify('captain', 'pw')).user_id, '@captain:localhost');
  });

  it('a one-shot dummy is not enough, and a v1 session cannot be used on v3', async () => {
    const res = await s.request('POST', V3, { auth: { type: 'm.login.dummy' }, username: 'sneaky', password: 'pw' });
    // A refused stage without a session stores none, so the challenge names none.
    assert.equal(res.status, 401, JSON.stringify(res.body));
    assert.equal(res.body.errcode, 'M_UNKNOWN');
    assert.equal(res.body.session, undefined);
    const v1 = await s.request('POST', '/_matrix/client/api/v1/register', {
      type: 'm.login.recaptcha',
      response: 'good',
    });
    assertError(
      await s.request('POST', V3, { auth: { type: 'm.login.dummy', session: v1.body.session } }),
      403,
      'M_FORBIDDEN',
    );
  });
});

await describeEachBackend('v3 register, registration disabled, guests allowed', (backend) => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ backend, config: { enable_registration: false, allow_guest_access: true } });
  });
  after(() => s.close());

  it('refuses with 403 M_FORBIDDEN before any challenge', async () => {
    assertError(await s.request('POST', V3, {}), 403, 'M_FORBIDDEN');
    assertError(
      await s.request('POST', V3, { auth: { type: 'm.login.dummy' }, username: 'x', password: 'pw' }),
      403,
      'M_FORBIDDEN',
    );
    assertError(await s.request('GET', `${AVAILABLE}?username=free`), 403, 'M_FORBIDDEN');
  });

  it('guests register without UIA and get a numeric id, no password', async () => {
    const res = await s.request('POST', `${V3}?kind=guest`, {
      username: 'ignored',
      password: 'ignored',
      device_id: 'IGNORED',
      initial_device_display_name: 'Guest phone',
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.match(res.body.user_id, /^@[0-9]+:localhost$/);
    assert.equal(res.body.home_server, 'localhost');
    assert.notEqual(res.body.device_id, 'IGNORED');
    assert.deepEqual((await whoami(s, res.body.access_token)).body, {
      user_id: res.body.user_id,
      device_id: res.body.device_id,
      is_guest: true,
    });
    const user = await s.app.storage.users.findByUserId(res.body.user_id);
    assert.equal(user?.password_hash, null);
    assert.equal(user?.is_guest, 1);
    assert.equal((await s.app.storage.devices.find(res.body.user_id, res.body.device_id))?.display_name, 'Guest phone');
    const second = await s.request('POST', `${R0}?kind=guest`, {});
    assert.notEqual(second.body.user_id, res.body.user_id);
    assertError(await s.request('POST', `${V3}?kind=guest`, undefined, { raw: '' }), 400, 'M_NOT_JSON');
  });
});

await describeEachBackend('v3 register, password policy', (backend) => {
  let s: TestServer;
  before(async () => {
    s = await startServer({
      backend,
      config: { password_config: { policy: { enabled: true, minimum_length: 8, require_digit: true } } },
    });
  });
  after(() => s.close());

  it('a weak password is M_WEAK_PASSWORD before the challenge; a strong one passes', async () => {
    for (const password of ['short1', 'longenough']) {
      const res = await s.request('POST', V3, { username: 'weak', password });
      assertError(res, 400, 'M_WEAK_PASSWORD');
      assert.equal(res.body.session, undefined);
    }
    assertChallenge(await s.request('POST', V3, { username: 'weak', password: 'longenough1' }));
    const ok = await s.request('POST', V3, {
      auth: { type: 'm.login.dummy' },
      username: 'weak',
      password: 'longenough1',
    });
    assert.equal(ok.status, 200);
  });
});
