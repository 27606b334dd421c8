import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { userJson } from '../../src/service/admin-user-json.js';
import { assertChallenge, assertError } from '../helpers/assert.js';
import { captchaConfig, startCaptchaVerifier } from '../helpers/captcha.js';
import type { FakeSiteverify } from '../helpers/fake-siteverify.js';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';
import { consentConfig, type PolicyDir, policyDir } from '../helpers/terms.js';
import { v1Password, whoami } from '../helpers/users.js';

// Terms of service at registration (spec "Terms of service at registration", `m.login.terms`)
// from Synapse's `user_consent`: every flow of v3 and of the seed's v1 API carries the stage,
// the params link the policy pages Tessera serves, and the account stores the version accepted.

const V3 = '/_matrix/client/v3/register';
const V1 = '/_matrix/client/api/v1/register';
const TERMS = 'm.login.terms';
const FALLBACK = '/_matrix/client/v3/auth/m.login.terms/fallback/web';

/** The path and query of a policy URL of the params, to fetch from the test server. */
function pathOf(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

await describeEachBackend('terms of service at registration (m.login.terms)', (backend) => {
  let s: TestServer;
  let policies: PolicyDir;
  const stored = async (userId: string) => s.app.storage.users.findByUserId(userId);

  before(async () => {
    policies = policyDir('1.0');
    s = await startServer({
      backend,
      config: { public_baseurl: 'https://matrix.example.org', ...consentConfig(policies.dir) },
    });
  });
  after(async () => {
    await s.close();
    policies.cleanup();
  });

  it('v3 offers [terms, dummy] with the policy in every language of the template directory', async () => {
    const res = await s.request('POST', V3, {});
    assertChallenge(res);
    assert.deepEqual(res.body.flows, [{ stages: [TERMS, 'm.login.dummy'] }]);
    assert.deepEqual(res.body.params, {
      [TERMS]: {
        policies: {
          privacy_policy: {
            version: '1.0',
            en: { name: 'Terms of Service', url: 'https://matrix.example.org/_matrix/consent?v=1.0&lang=en' },
            fr: { name: 'Terms of Service', url: 'https://matrix.example.org/_matrix/consent?v=1.0&lang=fr' },
          },
        },
      },
    });
  });

  it('the policy URLs serve the pages; other versions and languages are 404', async () => {
    const policy = (await s.request('POST', V3, {})).body.params[TERMS].policies.privacy_policy;
    for (const lang of ['en', 'fr']) {
      const res = await s.request('GET', pathOf(policy[lang].url));
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      assert.equal(res.body, policies.html(lang));
    }
    // Synapse's own link (no lang) is the English page; no v is the version in force.
    assert.equal((await s.request('GET', '/_matrix/consent?v=1.0')).body, policies.html('en'));
    assert.equal((await s.request('GET', '/_matrix/consent')).body, policies.html('en'));
    // Synapse's signed user links are accepted; the page is the same.
    assert.equal((await s.request('GET', '/_matrix/consent?v=1.0&u=alice&h=abc')).body, policies.html('en'));
    assertError(await s.request('GET', '/_matrix/consent?v=2.0'), 404, 'M_NOT_FOUND');
    assertError(await s.request('GET', '/_matrix/consent?v=1.0&lang=de'), 404, 'M_NOT_FOUND');
    assertError(await s.request('GET', '/_matrix/consent?lang=__proto__'), 404, 'M_NOT_FOUND');
    assertError(await s.request('GET', '/_matrix/consent?v=../en/1.0'), 404, 'M_NOT_FOUND');
  });

  it('v3: without the terms stage there is no account', async () => {
    const one = await s.request('POST', V3, { username: 'skip', password: 'pw', auth: { type: 'm.login.dummy' } });
    assert.equal(one.status, 401, JSON.stringify(one.body));
    assert.equal(one.body.errcode, 'M_UNKNOWN');
    const session = assertChallenge(await s.request('POST', V3, { username: 'skip' }));
    assertChallenge(
      await s.request('POST', V3, { password: 'pw', auth: { type: 'm.login.dummy', session } }),
      'M_UNKNOWN',
    );
    assert.equal(await stored('@skip:localhost'), null);
  });

  it('v3: terms, then dummy, registers; the account stores the version accepted', async () => {
    const session = assertChallenge(await s.request('POST', V3, { username: 'alice', password: 'pw' }));
    const accepted = await s.request('POST', V3, { auth: { type: TERMS, session } });
    assertChallenge(accepted);
    assert.deepEqual(accepted.body.completed, [TERMS]);
    const res = await s.request('POST', V3, {
      username: 'alice',
      password: 'pw',
      auth: { type: 'm.login.dummy', session },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal((await whoami(s, res.body.access_token)).status, 200);
    const row = await stored('@alice:localhost');
    assert.equal(row?.consent_version, '1.0');
    assert.equal(Number(row?.consent_ts), Number(row?.created_ts));
    // The admin API shows it, as Synapse's `consent_version` and `consent_ts`.
    const json = userJson(await s.app.services.adminUsers.get('@alice:localhost'));
    assert.equal(json.consent_version, '1.0');
    assert.equal(json.consent_ts, Number(row?.created_ts));
  });

  it('v1 lists the terms stage before the password; the password alone is refused', async () => {
    const flows = await s.request('GET', V1);
    assert.equal(flows.status, 200);
    assert.deepEqual(flows.body.flows, [{ type: TERMS, stages: [TERMS, 'm.login.password'] }]);
    const alone = await s.request('POST', V1, v1Password('sneaky', 'pw'));
    assertError(alone, 400, 'M_UNKNOWN');
    assert.equal(await stored('@sneaky:localhost'), null);
  });

  it('v1: terms, then the password, registers and stores the version', async () => {
    const first = await s.request('POST', V1, { type: TERMS });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.next, 'm.login.password');
    const res = await s.request('POST', V1, v1Password('bob', 'pw-bob', { session: first.body.session }));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal((await stored('@bob:localhost'))?.consent_version, '1.0');
  });

  it('the fallback page (spec "Fallback") shows the policy links; its POST completes the stage', async () => {
    const session = assertChallenge(await s.request('POST', V3, { username: 'web' }));
    const page = await s.request('GET', `${FALLBACK}?session=${session}`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.body, /href="https:\/\/matrix\.example\.org\/_matrix\/consent\?v=1\.0&#38;lang=fr"/);
    assertError(await s.request('GET', `${FALLBACK}?session=nope`), 400, 'M_UNKNOWN');
    assertError(await s.request('GET', FALLBACK), 400, 'M_UNKNOWN');
    // This server has no token stage: its page is 404, as an unknown stage's.
    assertError(
      await s.request('GET', `/_matrix/client/v3/auth/m.login.registration_token/fallback/web?session=${session}`),
      404,
      'M_UNKNOWN',
    );
    assert.equal((await s.request('POST', FALLBACK, { session })).status, 200);
    const check = await s.request('POST', V3, { auth: { session } });
    assert.deepEqual(check.body.completed, [TERMS]);
  });

  it('accounts made otherwise accepted no terms', async () => {
    await s.app.services.users.register({
      localpart: 'operator',
      password: { plain: 'pw' },
      isGuest: false,
      isAdmin: false,
      approved: true,
      login: null,
    });
    const row = await stored('@operator:localhost');
    assert.equal(row?.consent_version, null);
    assert.equal(row?.consent_ts, null);
  });
});

await describeEachBackend('terms with the captcha and a registration token', (backend) => {
  let s: TestServer;
  let lenient: TestServer;
  let verifier: FakeSiteverify;
  let policies: PolicyDir;
  before(async () => {
    policies = policyDir('2025-01', ['en']);
    verifier = await startCaptchaVerifier();
    s = await startServer({
      backend,
      config: {
        ...captchaConfig(verifier),
        registration_requires_token: true,
        ...consentConfig(policies.dir, '2025-01'),
      },
    });
    lenient = await startServer({
      backend,
      config: consentConfig(policies.dir, '2025-01', { require_at_registration: false }),
    });
  });
  after(async () => {
    await s.close();
    await lenient.close();
    await verifier.close();
    policies.cleanup();
  });

  it('the order is captcha, token, terms, then the last stage (v3 and v1)', async () => {
    const res = await s.request('POST', V3, {});
    assertChallenge(res);
    assert.deepEqual(res.body.flows, [
      { stages: ['m.login.recaptcha', 'm.login.registration_token', TERMS, 'm.login.dummy'] },
    ]);
    assert.deepEqual(Object.keys(res.body.params).sort(), ['m.login.recaptcha', TERMS]);
    assert.equal(res.body.params[TERMS].policies.privacy_policy.version, '2025-01');
    const v1 = await s.request('GET', V1);
    assert.deepEqual(v1.body.flows, [
      {
        type: 'm.login.recaptcha',
        stages: ['m.login.recaptcha', 'm.login.registration_token', TERMS, 'm.login.password'],
      },
    ]);
    // The terms may not come before the gates ahead of them.
    const early = await s.request('POST', V3, { auth: { type: TERMS } });
    assert.equal(early.status, 401);
    assert.equal(early.body.errcode, 'M_UNKNOWN');
  });

  it('without require_at_registration the flows have no terms stage, and the page is served', async () => {
    const res = await lenient.request('POST', V3, {});
    assertChallenge(res);
    assert.deepEqual(res.body.flows, [{ stages: ['m.login.dummy'] }]);
    assert.deepEqual(res.body.params, {});
    assert.equal((await lenient.request('GET', '/_matrix/consent?v=2025-01')).body, policies.html('en'));
  });
});

await describeEachBackend('without user_consent', (backend) => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ backend });
  });
  after(() => s.close());

  it('GET /_matrix/consent is 404; a registered account stores no version', async () => {
    assertError(await s.request('GET', '/_matrix/consent'), 404, 'M_NOT_FOUND');
    const session = assertChallenge(await s.request('POST', V3, {}));
    assertError(await s.request('GET', `${FALLBACK}?session=${session}`), 404, 'M_UNKNOWN');
    assertError(await s.request('POST', FALLBACK, { session }), 404, 'M_UNKNOWN');
    const res = await s.request('POST', V3, { username: 'carol', password: 'pw', auth: { type: 'm.login.dummy' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal((await s.app.storage.users.findByUserId('@carol:localhost'))?.consent_version, null);
  });
});
