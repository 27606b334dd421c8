import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { assertError, assertLoggedOut } from '../helpers/assert.js';
import { startCaptchaServer } from '../helpers/captcha.js';
import type { FakeSiteverify } from '../helpers/fake-siteverify.js';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';
import { BAD_CHARACTER_USERNAMES } from '../helpers/usernames.js';
import { v1Password, whoami } from '../helpers/users.js';

const V1 = '/_matrix/client/api/v1/register';

await describeEachBackend('v1 register, open registration (client API v1)', (backend) => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ backend });
  });
  after(() => s.close());

  it('GET lists the single password flow with only `type`', async () => {
    const res = await s.request('GET', V1);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { flows: [{ type: 'm.login.password' }] });
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  });

  it('registers alice in one request and the token works on whoami', async () => {
    const res = await s.request('POST', V1, v1Password('alice', 'wonderland'));
    assert.equal(res.status, 200);
    assert.equal(res.body.user_id, '@alice:localhost');
    assert.equal(res.body.home_server, 'localhost');
    assert.equal(typeof res.body.device_id, 'string');
    assert.ok(res.body.access_token.length >= 22);
    assert.equal(res.body.session, undefined);
    assert.equal(res.body.next, undefined);
    const who = await whoami(s, res.body.access_token);
    assert.equal(who.status, 200);
    assert.deepEqual(who.body, {
      user_id: '@alice:localhost',
      device_id: res.body.device_id,
      is_guest: false,
    });
    const viaQuery = await s.request('GET', `/_matrix/client/r0/account/whoami?access_token=${res.body.access_token}`);
    assert.equal(viaQuery.status, 200);
    assert.equal(viaQuery.body.user_id, '@alice:localhost');
  });

  it('a taken name, in any case, is M_USER_IN_USE', async () => {
    await s.request('POST', V1, v1Password('bob', 'x1'));
    for (const user of ['bob', 'BOB', 'Bob']) {
      assertError(await s.request('POST', V1, v1Password(user, 'x2')), 400, 'M_USER_IN_USE');
    }
  });

  it('lower-cases the username; a full user id is M_INVALID_USERNAME, as the 2014 server answered', async () => {
    const res = await s.request('POST', V1, v1Password('Carol.Smith', 'pw'));
    assert.equal(res.status, 200);
    assert.equal(res.body.user_id, '@carol.smith:localhost');
    for (const user of ['@dave:localhost', '@dave:elsewhere']) {
      assertError(await s.request('POST', V1, v1Password(user, 'pw')), 400, 'M_INVALID_USERNAME');
    }
    assert.equal((await s.request('GET', '/_matrix/client/v3/register/available?username=dave')).status, 200);
  });

  it('accepts every allowed character', async () => {
    const res = await s.request('POST', V1, v1Password('a.b_c-d=e/f+g', 'pw'));
    assert.equal(res.status, 200);
    assert.equal(res.body.user_id, '@a.b_c-d=e/f+g:localhost');
  });

  it('a missing or empty user gets generated numeric ids, smallest unused first', async () => {
    const a = await s.request('POST', V1, { type: 'm.login.password', password: 'pw' });
    const b = await s.request('POST', V1, v1Password('', 'pw'));
    const c = await s.request('POST', V1, v1Password(null, 'pw'));
    assert.equal(a.status, 200);
    const ids = [a, b, c].map((r) => r.body.user_id as string);
    for (const id of ids) assert.match(id, /^@[0-9]+:localhost$/);
    const nums = ids.map((id) => Number(id.slice(1).split(':')[0]));
    assert.deepEqual(nums, [nums[0], nums[0]! + 1, nums[0]! + 2]);
  });

  it('rejects invalid usernames with M_INVALID_USERNAME', async () => {
    const bad = [...BAD_CHARACTER_USERNAMES, '_bot', '1234', '@eve:other.server', 'a'.repeat(245)];
    for (const user of bad) {
      assertError(await s.request('POST', V1, v1Password(user, 'pw')), 400, 'M_INVALID_USERNAME');
    }
    // 244 characters make a user id of exactly 255 on `localhost`: allowed.
    const longest = await s.request('POST', V1, v1Password('a'.repeat(244), 'pw'));
    assert.equal(longest.status, 200);
  });

  it('rejects an empty password and does not create the account', async () => {
    assertError(await s.request('POST', V1, v1Password('nopass', '')), 400, 'M_WEAK_PASSWORD');
    const again = await s.request('POST', V1, v1Password('nopass', 'now-ok'));
    assert.equal(again.status, 200);
  });

  it("answers malformed bodies with the v1 API's errors", async () => {
    assertError(await s.request('POST', V1, undefined, { raw: 'not json' }), 400, 'M_NOT_JSON');
    assertError(await s.request('POST', V1, undefined, { raw: '' }), 400, 'M_NOT_JSON');
    assertError(
      await s.request('POST', V1, undefined, {
        raw: Buffer.from([0x7b, 0x22, 0x75, 0xff, 0x22, 0x3a, 0x31, 0x7d]),
      }),
      400,
      'M_NOT_JSON',
    );
    for (const raw of ['[]', '"x"', '1', 'null', 'true']) {
      assertError(await s.request('POST', V1, undefined, { raw }), 400, 'M_BAD_JSON');
    }
    const missingType = await s.request('POST', V1, { user: 'x', password: 'y' });
    assertError(missingType, 400, 'M_MISSING_PARAM');
    assert.match(missingType.body.error, /type/);
    const missingPassword = await s.request('POST', V1, { type: 'm.login.password', user: 'x' });
    assertError(missingPassword, 400, 'M_MISSING_PARAM');
    assert.match(missingPassword.body.error, /password/);
    assertError(await s.request('POST', V1, { type: 'm.login.foo' }), 400, 'M_UNKNOWN');
    assertError(await s.request('POST', V1, { type: 'm.login.dummy' }), 400, 'M_UNKNOWN');
    assertError(await s.request('POST', V1, { type: 'm.login.recaptcha', response: 'x' }), 400, 'M_UNKNOWN');
    assertError(await s.request('POST', V1, { type: 5 }), 400, 'M_BAD_JSON');
    assertError(await s.request('POST', V1, { type: ['m.login.password'] }), 400, 'M_BAD_JSON');
    assertError(await s.request('POST', V1, v1Password(123, 'pw')), 400, 'M_BAD_JSON');
    assertError(await s.request('POST', V1, v1Password('x', 5)), 400, 'M_BAD_JSON');
    assertError(
      await s.request('POST', V1, { type: 'm.login.password', session: 5, password: 'p' }),
      400,
      'M_BAD_JSON',
    );
    assertError(
      await s.request('POST', V1, { type: 'm.login.password', session: 'nope', password: 'p' }),
      400,
      'M_UNKNOWN',
    );
  });

  it('parses JSON whatever the Content-Type says', async () => {
    const res = await s.request('POST', V1, undefined, {
      raw: JSON.stringify({ type: 'm.login.password', user: 'plain', password: 'pw' }),
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.user_id, '@plain:localhost');
  });

  it('never answers a 5xx to a loop of malformed bodies', async () => {
    const values: unknown[] = [null, true, 0, -1, 1.5, '', 'x', [], [1], {}, { a: 1 }, 'm.login.password', '\u0000'];
    const keys = ['type', 'user', 'password', 'session', 'response', 'challenge'];
    let count = 0;
    for (const key of keys) {
      for (const value of values) {
        const body: Record<string, unknown> = v1Password(`fuzz${count}`, 'pw');
        body[key] = value;
        const res = await s.request('POST', V1, body);
        assert.ok(res.status < 500, `${JSON.stringify(body)} → ${res.status}`);
        if (res.status !== 200) {
          assert.equal(typeof res.body.errcode, 'string', JSON.stringify(body));
          assert.equal(typeof res.body.error, 'string');
        }
        count++;
      }
    }
    const raws = [
      '{',
      '}',
      '{"type":',
      '{"type":"m.login.password",}',
      '\u00ff',
      'NaN',
      '{"type":"m.login.password","user":"\\ud800","password":"x"}',
      '1e999',
      '{"__proto__":{"x":1},"type":"m.login.password","password":"x"}',
    ];
    for (const raw of raws) {
      const res = await s.request('POST', V1, undefined, { raw });
      assert.ok(res.status < 500, `${raw} → ${res.status}`);
      if (res.status !== 200) assert.equal(typeof res.body.errcode, 'string');
    }
  });

  it('answers OPTIONS with CORS headers and without registering anyone', async () => {
    const res = await s.request('OPTIONS', V1, undefined, {
      raw: JSON.stringify({ type: 'm.login.password', user: 'opt', password: 'pw' }),
    });
    assert.ok(res.status === 204 || res.status === 200);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.match(res.headers.get('access-control-allow-headers') ?? '', /Authorization/);
    const free = await s.request('POST', V1, v1Password('opt', 'pw'));
    assert.equal(free.status, 200);
  });

  it('puts CORS headers on errors too', async () => {
    const res = await s.request('POST', V1, { type: 'nope' });
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
  });
});

await describeEachBackend('v1 register, captcha on (multi-stage)', (backend) => {
  let s: TestServer;
  let verifier: FakeSiteverify;
  let close: () => Promise<void>;
  before(async () => {
    ({ server: s, verifier, close } = await startCaptchaServer(backend));
  });
  after(() => close());

  it('GET lists recaptcha then password, with every stage', async () => {
    const res = await s.request('GET', V1);
    assert.deepEqual(res.body, {
      flows: [{ type: 'm.login.recaptcha', stages: ['m.login.recaptcha', 'm.login.password'] }],
    });
  });

  it('captcha stage answers next + session, password stage finishes', async () => {
    const first = await s.request('POST', V1, { type: 'm.login.recaptcha', response: 'good' });
    assert.equal(first.status, 200);
    assert.equal(first.body.next, 'm.login.password');
    assert.equal(typeof first.body.session, 'string');
    const form = verifier.received.at(-1)!;
    assert.equal(form.get('secret'), 'private');
    assert.equal(form.get('response'), 'good');
    assert.equal(form.get('remoteip'), '127.0.0.1');
    const second = await s.request('POST', V1, v1Password('captain', 'pw', { session: first.body.session }));
    assert.equal(second.status, 200);
    assert.equal(second.body.user_id, '@captain:localhost');
    assert.equal(second.body.session, undefined);
    // The session is gone once registration finished.
    const reuse = await s.request('POST', V1, v1Password('captain2', 'pw', { session: first.body.session }));
    assertError(reuse, 400, 'M_UNKNOWN');
  });

  it('accepts the 2014 challenge/response pair', async () => {
    const res = await s.request('POST', V1, { type: 'm.login.recaptcha', challenge: 'c', response: 'good' });
    assert.equal(res.status, 200);
    assert.equal(res.body.next, 'm.login.password');
  });

  it('refuses a wrong captcha with M_CAPTCHA_INVALID', async () => {
    assertError(await s.request('POST', V1, { type: 'm.login.recaptcha', response: 'bad' }), 400, 'M_CAPTCHA_INVALID');
  });

  it('a captcha without response is M_CAPTCHA_NEEDED, as the 2014 server answered', async () => {
    const res = await s.request('POST', V1, { type: 'm.login.recaptcha' });
    assertError(res, 400, 'M_CAPTCHA_NEEDED');
    assert.equal(res.body.error, 'Captcha response is required');
  });

  it('password before captcha is refused, and creates nothing', async () => {
    assertError(await s.request('POST', V1, v1Password('skipper', 'pw')), 400, 'M_UNKNOWN');
    const first = await s.request('POST', V1, { type: 'm.login.recaptcha', response: 'good' });
    const ok = await s.request('POST', V1, v1Password('skipper', 'pw', { session: first.body.session }));
    assert.equal(ok.status, 200);
  });

  it('an unknown session is a 400', async () => {
    assertError(await s.request('POST', V1, v1Password('x', 'pw', { session: 'nope' })), 400, 'M_UNKNOWN');
  });

  it('keeps the session across a restart between the stages', async () => {
    const first = await s.request('POST', V1, { type: 'm.login.recaptcha', response: 'good' });
    assert.equal(first.status, 200);
    await s.restart();
    const second = await s.request('POST', V1, v1Password('restarted', 'pw', { session: first.body.session }));
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(second.body.user_id, '@restarted:localhost');
  });
});

await describeEachBackend('v1 register, registration disabled', (backend) => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ backend, config: { enable_registration: false } });
  });
  after(() => s.close());

  it('refuses with 403 M_FORBIDDEN', async () => {
    assertError(await s.request('POST', V1, v1Password('nobody', 'pw')), 403, 'M_FORBIDDEN');
  });
});

await describeEachBackend('general protocol', (backend) => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ backend, config: { max_request_body_size: 2048 } });
  });
  after(() => s.close());

  it('unknown path → 404 M_UNRECOGNIZED, wrong method → 405 M_UNRECOGNIZED', async () => {
    assertError(await s.request('GET', '/_matrix/client/v3/nonexistent'), 404, 'M_UNRECOGNIZED');
    assertError(await s.request('GET', '/elsewhere'), 404, 'M_UNRECOGNIZED');
    assertError(await s.request('PUT', V1, {}), 405, 'M_UNRECOGNIZED');
    assertError(await s.request('DELETE', '/_matrix/client/v3/account/whoami'), 405, 'M_UNRECOGNIZED');
  });

  it('a body over the limit → 413 M_TOO_LARGE', async () => {
    assertError(await s.request('POST', V1, v1Password('big', 'x'.repeat(4096))), 413, 'M_TOO_LARGE');
  });

  it('whoami without a token → 401 M_MISSING_TOKEN, bad token → 401 M_UNKNOWN_TOKEN', async () => {
    assertError(await s.request('GET', '/_matrix/client/v3/account/whoami'), 401, 'M_MISSING_TOKEN');
    assertLoggedOut(await s.request('GET', '/_matrix/client/v3/account/whoami', undefined, { token: 'tsa_nope' }));
    assertError(await s.request('GET', '/_matrix/client/v3/account/whoami?access_token=nope'), 401, 'M_UNKNOWN_TOKEN');
  });

  it('GET /versions lists spec versions', async () => {
    const res = await s.request('GET', '/_matrix/client/versions');
    assert.equal(res.status, 200);
    for (const v of res.body.versions) assert.match(v, /^(r0\.\d+\.\d+|v[1-9]\d*\.\d+(-\S+)?)$/);
    assert.ok(res.body.versions.includes('v1.12'));
  });
});
