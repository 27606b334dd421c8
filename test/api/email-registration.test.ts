import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { assertChallenge, assertError } from '../helpers/assert.js';
import { EMAIL_STAGE, openLink, registerWithEmail, requestToken, validatedSid } from '../helpers/email.js';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';
import { emailConfig, type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';

// Registration with a validated email address (spec "Email-based (identity / homeserver)",
// registration.yaml `/register/email/requestToken`), with `registrations_require_3pid: [email]`,
// the mail going to an SMTP sink on 127.0.0.1.

const V3 = '/_matrix/client/v3/register';
const LOGIN = '/_matrix/client/v3/login';

await describeEachBackend('email: registration round trip', (backend) => {
  let s: TestServer;
  let sink: SmtpSink;
  before(async () => {
    sink = await startSmtpSink();
    s = await startServer({
      backend,
      config: { registrations_require_3pid: ['email'], email: emailConfig(sink) },
    });
  });
  after(async () => {
    await s.close();
    await sink.close();
  });

  it('every flow carries the email stage; dummy alone never registers', async () => {
    const res = await s.request('POST', V3, { username: 'sneaky', password: 'pw' });
    assertChallenge(res);
    assert.deepEqual(res.body.flows, [{ stages: [EMAIL_STAGE, 'm.login.dummy'] }]);
    const dummy = await s.request('POST', V3, { username: 'sneaky', password: 'pw', auth: { type: 'm.login.dummy' } });
    assert.equal(dummy.status, 401);
    assert.equal(dummy.body.errcode, 'M_UNKNOWN');
    assert.equal(await s.app.storage.users.findByUserId('@sneaky:localhost'), null);
  });

  it('requestToken → mail → link → stage → account with the address → /account/3pid → login by email', async () => {
    const secret = 'secret.alice-1';
    const res = await requestToken(s, 'Alice@Example.org', secret);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const sid = res.body.sid as string;
    assert.match(sid, /^[0-9a-zA-Z.=_-]{1,255}$/);
    const mail = await sink.next('alice@example.org');
    assert.match(mail.subject, /Validate your email/);
    assert.ok(mail.link?.includes('/_matrix/client/unstable/registration/email/submit_token?'), mail.body);
    // The token is stored only as its hash.
    const token = new URL(mail.link!).searchParams.get('token')!;
    assert.ok(!JSON.stringify(await s.app.storage.threepids.find(sid, Date.now())).includes(token));

    // Before the link was opened the stage fails, in the challenge.
    const session = assertChallenge(await s.request('POST', V3, { username: 'alice' }));
    const early = await s.request('POST', V3, {
      auth: { type: EMAIL_STAGE, threepid_creds: { sid, client_secret: secret }, session },
    });
    assertChallenge(early, 'M_UNAUTHORIZED');

    const opened = await openLink(s, mail.link!);
    assert.equal(opened.status, 200);
    assert.match(opened.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await opened.text(), /validated/);

    // Another client secret does not pass, even with the right sid.
    const wrong = await s.request('POST', V3, {
      auth: { type: EMAIL_STAGE, threepid_creds: { sid, client_secret: 'not-the-secret' }, session },
    });
    assertChallenge(wrong, 'M_UNAUTHORIZED');

    const passed = await s.request('POST', V3, {
      password: 'wonderland',
      auth: { type: EMAIL_STAGE, threepid_creds: { sid, client_secret: secret }, session },
    });
    assertChallenge(passed);
    assert.deepEqual(passed.body.completed, [EMAIL_STAGE]);
    const done = await s.request('POST', V3, { password: 'wonderland', auth: { type: 'm.login.dummy', session } });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.user_id, '@alice:localhost');

    const threepids = await s.request('GET', '/_matrix/client/v3/account/3pid', undefined, {
      token: done.body.access_token,
    });
    assert.equal(threepids.status, 200);
    assert.equal(threepids.body.threepids.length, 1);
    const [bound] = threepids.body.threepids;
    assert.equal(bound.medium, 'email');
    assert.equal(bound.address, 'alice@example.org');
    assert.equal(typeof bound.validated_at, 'number');
    assert.equal(typeof bound.added_at, 'number');
    // Synapse's admin API shows the same address on the account.
    await s.app.storage.users.updateAdmin('@alice:localhost', true);
    s.app.services.tokens.forgetUser('@alice:localhost'); // the cached validation knew her as no admin
    const shown = await s.request('GET', '/_synapse/admin/v2/users/@alice:localhost', undefined, {
      token: done.body.access_token,
    });
    assert.deepEqual(shown.body.threepids, [bound], JSON.stringify(shown.body));

    const byEmail = await s.request('POST', LOGIN, {
      type: 'm.login.password',
      identifier: { type: 'm.id.thirdparty', medium: 'email', address: 'ALICE@example.org' },
      password: 'wonderland',
    });
    assert.equal(byEmail.status, 200, JSON.stringify(byEmail.body));
    assert.equal(byEmail.body.user_id, '@alice:localhost');
    const legacy = await s.request('POST', LOGIN, {
      type: 'm.login.password',
      medium: 'email',
      address: 'alice@example.org',
      password: 'wonderland',
    });
    assert.equal(legacy.status, 200, JSON.stringify(legacy.body));
    const wrongPassword = await s.request('POST', LOGIN, {
      type: 'm.login.password',
      identifier: { type: 'm.id.thirdparty', medium: 'email', address: 'alice@example.org' },
      password: 'nope',
    });
    assertError(wrongPassword, 403, 'M_FORBIDDEN');
    // An unknown address is answered as an unknown user: 403, or 400 when longer than any user id.
    for (const address of ['nobody@example.org', 'alice', 'x'.repeat(300)]) {
      const unknown = await s.request('POST', LOGIN, {
        type: 'm.login.password',
        identifier: { type: 'm.id.thirdparty', medium: 'email', address },
        password: 'wonderland',
      });
      const asUser = await s.request('POST', LOGIN, {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: `nobody-${address}` },
        password: 'wonderland',
      });
      assert.equal(unknown.status, asUser.status, JSON.stringify(unknown.body));
      assert.equal(unknown.body.errcode, asUser.body.errcode);
    }

    // The address is taken now: requestToken says so (spec: M_THREEPID_IN_USE).
    assertError(await requestToken(s, 'alice@EXAMPLE.org', 'another-secret'), 400, 'M_THREEPID_IN_USE');
  });

  it('the same send_attempt sends nothing and answers the same sid; a higher one sends a new link', async () => {
    const first = await requestToken(s, 'bob@example.org', 'bob-secret', 1);
    assert.equal(first.status, 200);
    const mail = await sink.next('bob@example.org');
    const again = await requestToken(s, 'bob@example.org', 'bob-secret', 1);
    assert.equal(again.body.sid, first.body.sid);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(sink.count('bob@example.org'), 1);
    const higher = await requestToken(s, 'bob@example.org', 'bob-secret', 2);
    assert.equal(higher.body.sid, first.body.sid);
    const second = await sink.next('bob@example.org');
    assert.notEqual(second.link, mail.link);
    // The first link stopped working; the new one works.
    assert.equal((await openLink(s, mail.link!)).status, 400);
    assert.equal((await openLink(s, second.link!)).status, 200);
    // Another client secret is another session.
    const other = await requestToken(s, 'bob@example.org', 'bob-secret-2', 1);
    assert.notEqual(other.body.sid, first.body.sid);
  });

  it('an unvalidated or unknown sid, a bad client secret or a tampered link fails', async () => {
    const res = await requestToken(s, 'carol@example.org', 'carol-secret');
    const mail = await sink.next('carol@example.org');
    const unvalidated = await registerWithEmail(s, 'carol', 'pw', { sid: res.body.sid, client_secret: 'carol-secret' });
    assertChallenge(unvalidated, 'M_UNAUTHORIZED');
    const unknown = await registerWithEmail(s, 'carol', 'pw', { sid: 'nope', client_secret: 'carol-secret' });
    assertChallenge(unknown, 'M_UNAUTHORIZED');
    const tampered = new URL(mail.link!);
    tampered.searchParams.set('client_secret', 'other');
    assert.equal((await openLink(s, tampered.toString())).status, 400);
    tampered.searchParams.set('client_secret', 'carol-secret');
    tampered.searchParams.set('token', 'guess');
    assert.equal((await openLink(s, tampered.toString())).status, 400);
    assert.equal(await s.app.storage.users.findByUserId('@carol:localhost'), null);
  });

  it('bad requests: client_secret grammar, email, send_attempt, next_link', async () => {
    assertError(await requestToken(s, 'd@example.org', 'bad secret!'), 400, 'M_INVALID_PARAM');
    assertError(await requestToken(s, 'd@example.org', 'x'.repeat(256)), 400, 'M_INVALID_PARAM');
    assertError(await requestToken(s, 'not-an-email', 's'), 400, 'M_INVALID_PARAM');
    assertError(await requestToken(s, `${'d'.repeat(250)}@example.org`, 's'), 400, 'M_INVALID_PARAM');
    assertError(
      await requestToken(s, 'd@example.org', 's', 1, { next_link: 'javascript:alert(1)' }),
      400,
      'M_INVALID_PARAM',
    );
    const noAttempt = await s.request('POST', '/_matrix/client/v3/register/email/requestToken', {
      client_secret: 's',
      email: 'd@example.org',
    });
    assert.equal(noAttempt.status, 400);
    assert.equal(sink.count('d@example.org'), 0);
  });

  it('next_link: the link redirects there once validated', async () => {
    const res = await requestToken(s, 'erin@example.org', 'erin-secret', 1, { next_link: 'https://app.example/done' });
    assert.equal(res.status, 200);
    const mail = await sink.next('erin@example.org');
    const opened = await openLink(s, mail.link!);
    assert.equal(opened.status, 302);
    assert.equal(opened.headers.get('location'), 'https://app.example/done');
  });

  it('two validated sessions for one address: the first registration binds it, the second is M_THREEPID_IN_USE', async () => {
    const sid1 = await validatedSid(s, sink, 'frank@example.org', 'frank-1');
    const sid2 = await validatedSid(s, sink, 'frank@example.org', 'frank-2');
    const one = await registerWithEmail(s, 'frank', 'pw', { sid: sid1, client_secret: 'frank-1' });
    assert.equal(one.status, 200, JSON.stringify(one.body));
    const two = await registerWithEmail(s, 'frank2', 'pw', { sid: sid2, client_secret: 'frank-2' });
    assertError(two, 400, 'M_THREEPID_IN_USE');
    assert.equal(await s.app.storage.users.findByUserId('@frank2:localhost'), null);
  });

  it('the client API v1: the email stage (2014 threepidCreds) comes before the password, and binds the address', async () => {
    const V1 = '/_matrix/client/api/v1/register';
    const flows = await s.request('GET', V1);
    assert.deepEqual(flows.body.flows, [{ type: EMAIL_STAGE, stages: [EMAIL_STAGE, 'm.login.password'] }]);
    const skip = await s.request('POST', V1, { type: 'm.login.password', user: 'vic', password: 'pw' });
    assert.equal(skip.status, 400);
    const sid = await validatedSid(s, sink, 'vic@example.org', 'vic-secret');
    const stage = await s.request('POST', V1, {
      type: EMAIL_STAGE,
      threepidCreds: { sid, clientSecret: 'vic-secret' },
    });
    assert.equal(stage.status, 200, JSON.stringify(stage.body));
    assert.equal(stage.body.next, 'm.login.password');
    const done = await s.request('POST', V1, {
      type: 'm.login.password',
      user: 'vic',
      password: 'pw',
      session: stage.body.session,
    });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(await s.app.storage.threepids.userOf('email', 'vic@example.org'), '@vic:localhost');
  });

  it('a deactivated account frees its address', async () => {
    const sid = await validatedSid(s, sink, 'gina@example.org', 'gina-1');
    const reg = await registerWithEmail(s, 'gina', 'pw', { sid, client_secret: 'gina-1' });
    assert.equal(reg.status, 200);
    const deact = await s.request(
      'POST',
      '/_matrix/client/v3/account/deactivate',
      { auth: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'gina' }, password: 'pw' } },
      { token: reg.body.access_token },
    );
    assert.equal(deact.status, 200, JSON.stringify(deact.body));
    assert.equal((await requestToken(s, 'gina@example.org', 'gina-2')).status, 200);
  });
});

await describeEachBackend('email: allowed_local_3pids and the rate limit', (backend) => {
  let s: TestServer;
  let sink: SmtpSink;
  before(async () => {
    sink = await startSmtpSink();
    s = await startServer({
      backend,
      config: {
        registrations_require_3pid: ['email'],
        email: emailConfig(sink),
        allowed_local_3pids: [{ medium: 'email', pattern: '.*@allowed\\.example$' }],
        rc_3pid_validation: { per_second: 0.001, burst_count: 2 },
      },
    });
  });
  after(async () => {
    await s.close();
    await sink.close();
  });

  it('an address outside allowed_local_3pids is M_THREEPID_DENIED and gets no mail', async () => {
    assertError(await requestToken(s, 'eve@elsewhere.example', 'eve'), 403, 'M_THREEPID_DENIED');
    assert.equal(sink.count('eve@elsewhere.example'), 0);
    assert.equal((await requestToken(s, 'ok@allowed.example', 'ok')).status, 200);
    await sink.next('ok@allowed.example');
  });

  it('rc_3pid_validation: past the burst, 429 before anything is stored or sent', async () => {
    // The burst of 2 was spent above (same client address).
    const res = await requestToken(s, 'late@allowed.example', 'late');
    assertError(res, 429, 'M_LIMIT_EXCEEDED');
    assert.equal(typeof res.body.retry_after_ms, 'number');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(sink.count('late@allowed.example'), 0);
  });
});

await describeEachBackend('email: the mail server fails', (backend) => {
  let s: TestServer;
  let failing = true;
  const sent: { to: string }[] = [];
  before(async () => {
    s = await startServer({
      backend,
      config: {
        registrations_require_3pid: ['email'],
        email: { smtp_host: '127.0.0.1', smtp_port: 9, notif_from: 'Tessera <noreply@localhost>' },
      },
      mailer: {
        async send(mail) {
          if (failing) throw new Error('connection refused');
          sent.push(mail);
        },
        close() {},
      },
    });
  });
  after(() => s.close());

  it('503 M_UNKNOWN, nothing sent; the same send_attempt sends once the server is back', async () => {
    const down = await requestToken(s, 'bob@example.org', 'secret-bob');
    assertError(down, 503, 'M_UNKNOWN');
    assert.equal(sent.length, 0);
    failing = false;
    const back = await requestToken(s, 'bob@example.org', 'secret-bob');
    assert.equal(back.status, 200, JSON.stringify(back.body));
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.to, 'bob@example.org');
    // And once sent, the same attempt sends nothing more.
    assert.equal((await requestToken(s, 'bob@example.org', 'secret-bob')).body.sid, back.body.sid);
    assert.equal(sent.length, 1);
  });
});
