import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { assertChallenge, assertError } from '../helpers/assert.js';
import { type CaptchaServer, startCaptchaServer } from '../helpers/captcha.js';
import { EMAIL_STAGE, validatedSid } from '../helpers/email.js';
import { describeEachBackend } from '../helpers/server.js';
import { emailConfig, type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';
import { consentConfig, type PolicyDir, policyDir } from '../helpers/terms.js';
import { passwordLogin, v1Password } from '../helpers/users.js';

// Every registration gate at once (README "Controlling who can register"): captcha, token,
// terms, email, then approval. Each gate is a stage of every flow, in that order, over v3 and
// the v1 API; skipping one never registers; the finished account carries what each gate
// proved (the terms' version, the address) and waits for an admin.

const V3 = '/_matrix/client/v3/register';
const V1 = '/_matrix/client/api/v1/register';
const LOGIN = '/_matrix/client/v3/login';
const AWAITING = 'ORG.MATRIX.MSC3866_USER_AWAITING_APPROVAL';
const GATES = ['m.login.recaptcha', 'm.login.registration_token', 'm.login.terms', EMAIL_STAGE];

await describeEachBackend('every registration gate at once', (backend) => {
  let cs: CaptchaServer;
  let sink: SmtpSink;
  let policies: PolicyDir;

  before(async () => {
    sink = await startSmtpSink();
    policies = policyDir('2.0', ['en']);
    cs = await startCaptchaServer(backend, {
      config: {
        registration_requires_token: true,
        ...consentConfig(policies.dir, '2.0'),
        registrations_require_3pid: ['email'],
        email: emailConfig(sink),
        experimental_features: { msc3866: { enabled: true, require_approval_for_new_accounts: true } },
      },
    });
    await cs.server.app.services.registrationTokens.create({ token: 'invite', usesAllowed: 10, expiryTime: null });
  });
  after(async () => {
    await cs?.close();
    await sink?.close();
    policies?.cleanup();
  });

  /** The credentials of each gate, as a client sends them after the user passed it. */
  async function proofs(email: string, secret: string): Promise<Record<string, Record<string, unknown>>> {
    const sid = await validatedSid(cs.server, sink, email, secret);
    return {
      'm.login.recaptcha': { response: 'good' },
      'm.login.registration_token': { token: 'invite' },
      'm.login.terms': {},
      [EMAIL_STAGE]: { threepid_creds: { sid, client_secret: secret } },
    };
  }

  it('v3: one flow with every gate in order; skipping any never registers; all of them, then approval', async () => {
    const s = cs.server;
    const first = await s.request('POST', V3, { username: 'gina', password: 'pw-gina' });
    const session = assertChallenge(first);
    assert.deepEqual(first.body.flows, [{ stages: [...GATES, 'm.login.dummy'] }]);
    assert.deepEqual(Object.keys(first.body.params).sort(), ['m.login.recaptcha', 'm.login.terms']);

    const proof = await proofs('gina@example.org', 'secret-gina');
    // Out of order (the token before the captcha, or the dummy at once): refused, nothing stored.
    for (const type of ['m.login.registration_token', 'm.login.dummy', EMAIL_STAGE]) {
      const skipped = await s.request('POST', V3, { auth: { type, session, ...(proof[type] ?? {}) } });
      assertChallenge(skipped, 'M_UNKNOWN');
      assert.deepEqual(skipped.body.completed ?? [], []);
    }
    for (const [i, type] of GATES.entries()) {
      const step = await s.request('POST', V3, { auth: { type, session, ...proof[type] } });
      assertChallenge(step);
      assert.deepEqual(step.body.completed, GATES.slice(0, i + 1), JSON.stringify(step.body));
    }
    assert.equal(await s.app.storage.users.findByUserId('@gina:localhost'), null, 'no account before the last stage');
    const done = await s.request('POST', V3, {
      username: 'gina',
      password: 'pw-gina',
      auth: { type: 'm.login.dummy', session },
    });
    assertError(done, 403, AWAITING);
    assert.equal(done.body.access_token, undefined);

    const account = await s.app.storage.users.findByUserId('@gina:localhost');
    assert.equal(account?.approved, 0);
    assert.equal(account?.consent_version, '2.0');
    // The address is bound: login by email is refused only for want of approval.
    const byEmail = {
      type: 'm.login.password',
      identifier: { type: 'm.id.thirdparty', medium: 'email', address: 'gina@example.org' },
      password: 'pw-gina',
    };
    assertError(await s.request('POST', LOGIN, byEmail), 403, AWAITING);
    await s.app.services.adminUsers.setApproved('@gina:localhost', true);
    const login = await s.request('POST', LOGIN, byEmail);
    assert.equal(login.status, 200, JSON.stringify(login.body));
    assert.equal(login.body.user_id, '@gina:localhost');
  });

  it('v1: GET lists every gate; one stage per request in order; the password last; then approval', async () => {
    const s = cs.server;
    const flows = await s.request('GET', V1);
    assert.deepEqual(flows.body.flows, [{ type: GATES[0], stages: [...GATES, 'm.login.password'] }]);
    // Not the password first, nor a later gate first.
    assertError(await s.request('POST', V1, v1Password('hank', 'pw-hank')), 400, 'M_UNKNOWN');
    assertError(await s.request('POST', V1, { type: 'm.login.terms' }), 400, 'M_UNKNOWN');

    const proof = await proofs('hank@example.org', 'secret-hank');
    let session: string | undefined;
    for (const [i, type] of GATES.entries()) {
      const step = await s.request('POST', V1, { type, ...(session && { session }), ...proof[type] });
      assert.equal(step.status, 200, `${type}: ${JSON.stringify(step.body)}`);
      assert.equal(step.body.next, i + 1 < GATES.length ? GATES[i + 1] : 'm.login.password');
      session = step.body.session;
    }
    const done = await s.request('POST', V1, v1Password('hank', 'pw-hank', { session }));
    assertError(done, 403, AWAITING);
    const account = await s.app.storage.users.findByUserId('@hank:localhost');
    assert.equal(account?.consent_version, '2.0');
    assert.equal(account?.approved, 0);
    assertError(await s.request('POST', LOGIN, passwordLogin('hank', 'pw-hank')), 403, AWAITING);
  });
});
