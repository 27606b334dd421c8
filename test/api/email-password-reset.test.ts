import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { assertChallenge, assertError, assertLoggedOut } from '../helpers/assert.js';
import {
  EMAIL_STAGE,
  openLink,
  RESET_REQUEST_TOKEN,
  registerWithEmail,
  requestToken,
  validatedSid,
} from '../helpers/email.js';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';
import { emailConfig, type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';
import { loginErrcode, whoami } from '../helpers/users.js';

// The forgotten password (spec password_management.yaml): `/account/password/email/requestToken`
// then `POST /account/password` without an access token, authenticated by m.login.email.identity.
// Email is configured but not required here: registration offers it as a second flow.

const PASSWORD = '/_matrix/client/v3/account/password';

await describeEachBackend('email: forgotten password', (backend) => {
  let s: TestServer;
  let sink: SmtpSink;
  let aliceToken: string;
  before(async () => {
    sink = await startSmtpSink();
    s = await startServer({ backend, config: { email: emailConfig(sink) } });
    const sid = await validatedSid(s, sink, 'alice@example.org', 'reg-secret');
    const reg = await registerWithEmail(s, 'alice', 'old password', { sid, client_secret: 'reg-secret' });
    assert.equal(reg.status, 200, JSON.stringify(reg.body));
    aliceToken = reg.body.access_token;
  });
  after(async () => {
    await s.close();
    await sink.close();
  });

  it('registration offers the email flow beside the dummy one', async () => {
    const res = await s.request('POST', '/_matrix/client/v3/register', {});
    assert.deepEqual(res.body.flows, [{ stages: ['m.login.dummy'] }, { stages: [EMAIL_STAGE, 'm.login.dummy'] }]);
  });

  it('an address bound to no account is M_THREEPID_NOT_FOUND, and gets no mail', async () => {
    assertError(
      await requestToken(s, 'nobody@example.org', 'x', 1, {}, RESET_REQUEST_TOKEN),
      400,
      'M_THREEPID_NOT_FOUND',
    );
    assert.equal(sink.count('nobody@example.org'), 0);
  });

  it('without the link opened, or with a registration session, the reset is refused', async () => {
    const res = await requestToken(s, 'alice@example.org', 'early', 1, {}, RESET_REQUEST_TOKEN);
    assert.equal(res.status, 200);
    await sink.next('alice@example.org');
    const refused = await s.request('POST', PASSWORD, {
      new_password: 'new password',
      auth: { type: EMAIL_STAGE, threepid_creds: { sid: res.body.sid, client_secret: 'early' } },
    });
    assert.equal(refused.status, 401);
    assert.equal(refused.body.errcode, 'M_UNAUTHORIZED');
    assert.deepEqual(refused.body.flows, [{ stages: [EMAIL_STAGE] }]);
    assert.equal(await loginErrcode(s, 'alice', 'old password'), null);
  });

  it('requestToken → mail → link → new password; the old one and every old token are dead', async () => {
    const sid = await validatedSid(s, sink, 'ALICE@example.org', 'reset-secret', RESET_REQUEST_TOKEN);
    const mail = sink.mails.at(-1)!;
    assert.match(mail.subject, /Password reset/);
    assert.ok(mail.link?.includes('/_synapse/client/password_reset/email/submit_token?'), mail.body);
    const creds = { sid, client_secret: 'reset-secret' };
    // The policy and the missing password come first; nothing is used up.
    const missing = await s.request('POST', PASSWORD, { auth: { type: EMAIL_STAGE, threepid_creds: creds } });
    assertError(missing, 400, 'M_MISSING_PARAM');
    const done = await s.request('POST', PASSWORD, {
      new_password: 'new password',
      auth: { type: EMAIL_STAGE, threepid_creds: creds },
    });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(await loginErrcode(s, 'alice', 'old password'), 'M_FORBIDDEN');
    assert.equal(await loginErrcode(s, 'alice', 'new password'), null);
    assertLoggedOut(await whoami(s, aliceToken));
    // One mail resets once.
    const again = await s.request('POST', PASSWORD, {
      new_password: 'third password',
      auth: { type: EMAIL_STAGE, threepid_creds: creds },
    });
    assert.equal(again.status, 401, JSON.stringify(again.body));
    assert.equal(await loginErrcode(s, 'alice', 'new password'), null);
  });

  it('a registration session does not reset a password, nor a reset session register', async () => {
    const regSid = await validatedSid(s, sink, 'bob@example.org', 'bob-reg');
    const refused = await s.request('POST', PASSWORD, {
      new_password: 'x',
      auth: { type: EMAIL_STAGE, threepid_creds: { sid: regSid, client_secret: 'bob-reg' } },
    });
    assert.equal(refused.status, 401);
    const res = await requestToken(s, 'alice@example.org', 'cross', 1, {}, RESET_REQUEST_TOKEN);
    const mail = await sink.next('alice@example.org');
    // The reset link on the registration path is refused.
    const wrongPath = new URL(mail.link!);
    assert.equal(
      (await openLink(s, `http://x/_matrix/client/unstable/registration/email/submit_token${wrongPath.search}`)).status,
      400,
    );
    const cross = await registerWithEmail(s, 'mallory', 'pw', { sid: res.body.sid, client_secret: 'cross' });
    assertChallenge(cross, 'M_UNAUTHORIZED');
  });

  it('with an access token the route is the ordinary password change', async () => {
    const login = await s.request('POST', '/_matrix/client/v3/login', {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: 'alice' },
      password: 'new password',
    });
    const res = await s.request('POST', PASSWORD, { new_password: 'fourth' }, { token: login.body.access_token });
    assertChallenge(res);
    assert.deepEqual(res.body.flows, [{ stages: ['m.login.password'] }]);
  });
});
