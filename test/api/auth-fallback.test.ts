import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { assertChallenge, assertError } from '../helpers/assert.js';
import { startCaptchaServer } from '../helpers/captcha.js';
import type { FakeSiteverify } from '../helpers/fake-siteverify.js';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';

const V3 = '/_matrix/client/v3/register';
const FALLBACK = '/_matrix/client/v3/auth/m.login.recaptcha/fallback/web';

await describeEachBackend('UIA fallback page for m.login.recaptcha', (backend) => {
  let s: TestServer;
  let verifier: FakeSiteverify;
  let close: () => Promise<void>;
  before(async () => {
    ({ server: s, verifier, close } = await startCaptchaServer(backend, { publicKey: 'pub"<key>' }));
  });
  after(() => close());

  it('serves an HTML page with the escaped site key and the done callbacks', async () => {
    const session = assertChallenge(await s.request('POST', V3, { username: 'fallback', password: 'pw' }));
    const res = await s.request('GET', `${FALLBACK}?session=${session}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('content-security-policy'), "frame-ancestors 'none'");
    assert.ok(typeof res.body === 'string');
    assert.ok(res.body.includes('data-sitekey="pub&#34;&#60;key&#62;"'), 'site key escaped');
    assert.ok(!res.body.includes('pub"<key>'));
    assert.ok(res.body.includes(`data-session="${session}"`));
    assert.ok(res.body.includes('window.onAuthDone()'));
    assert.ok(res.body.includes("window.opener.postMessage('authDone', '*')"));
    const r0 = await s.request('GET', `/_matrix/client/r0/auth/m.login.recaptcha/fallback/web?session=${session}`);
    assert.equal(r0.status, 200);
  });

  it('the page answer completes the stage; the client then continues with the session', async () => {
    const session = assertChallenge(await s.request('POST', V3, { username: 'viaweb', password: 'pw' }));
    assertError(await s.request('POST', FALLBACK, { session, response: 'bad' }), 401, 'M_UNAUTHORIZED');
    const ok = await s.request('POST', FALLBACK, { session, response: 'good' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(ok.body, {});
    assert.equal(verifier.received.at(-1)?.get('response'), 'good');
    // `{"auth":{"session":S}}` picks the completed stage up; the dummy stage finishes.
    const check = await s.request('POST', V3, { auth: { session } });
    assertChallenge(check);
    assert.deepEqual(check.body.completed, ['m.login.recaptcha']);
    // The password hashed only with the last request (a challenge hashes nothing), so it comes again.
    const done = await s.request('POST', V3, { password: 'pw', auth: { type: 'm.login.dummy', session } });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.user_id, '@viaweb:localhost');
  });

  it('refuses missing or unknown sessions, other stage types and malformed answers', async () => {
    assertError(await s.request('GET', FALLBACK), 400, 'M_UNKNOWN');
    assertError(await s.request('GET', `${FALLBACK}?session=nope`), 400, 'M_UNKNOWN');
    assertError(await s.request('GET', '/_matrix/client/v3/auth/m.login.foo/fallback/web?session=x'), 404, 'M_UNKNOWN');
    assertError(await s.request('POST', FALLBACK, { session: 'nope', response: 'good' }), 400, 'M_UNKNOWN');
    assertError(await s.request('POST', FALLBACK, { session: 'x' }), 400, 'M_MISSING_PARAM');
    assertError(await s.request('POST', FALLBACK, { session: 'x', response: 5 }), 400, 'M_BAD_JSON');
    assertError(await s.request('POST', FALLBACK, undefined, { raw: 'session=x' }), 400, 'M_NOT_JSON');
  });
});

await describeEachBackend('UIA fallback page without a captcha', (backend) => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ backend });
  });
  after(() => s.close());

  it('answers 404 M_UNKNOWN', async () => {
    const session = assertChallenge(await s.request('POST', V3, {}));
    assertError(await s.request('GET', `${FALLBACK}?session=${session}`), 404, 'M_UNKNOWN');
  });
});
