import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { assertChallenge, assertError } from '../helpers/assert.js';
import { captchaConfig, startCaptchaVerifier } from '../helpers/captcha.js';
import { manualClock } from '../helpers/clock.js';
import type { FakeSiteverify } from '../helpers/fake-siteverify.js';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';
import { v1Password, whoami } from '../helpers/users.js';

// The registration token gate (spec "Token-authenticated registration"): every flow of v3 and
// of the client API v1 carries `m.login.registration_token`, and a use of a token is held by
// the session that passed the stage until the account exists or the session goes.

const V3 = '/_matrix/client/v3/register';
const V1 = '/_matrix/client/api/v1/register';
const STAGE = 'm.login.registration_token';
const T0 = 1_750_000_000_000;

/** A token straight in the database (the admin API has its own tests). */
async function newToken(s: TestServer, token: string, usesAllowed: number | null, expiryTime: number | null = null) {
  await s.app.services.registrationTokens.create({ token, usesAllowed, expiryTime });
}

async function counters(s: TestServer, token: string) {
  const t = await s.app.services.registrationTokens.get(token);
  return { pending: t.pending, completed: t.completed };
}

/** The v3 dance with a token: challenge, token stage, dummy stage. Returns the last reply. */
async function registerV3(s: TestServer, username: string, token: string) {
  const session = assertChallenge(await s.request('POST', V3, { username }));
  const held = await s.request('POST', V3, { auth: { type: STAGE, token, session } });
  if (held.status !== 401 || held.body.errcode !== undefined) return held;
  return s.request('POST', V3, { username, password: 'pw', auth: { type: 'm.login.dummy', session } });
}

await describeEachBackend('registration tokens: the gate', (backend) => {
  let s: TestServer;
  const clock = manualClock(T0);
  before(async () => {
    s = await startServer({ backend, clock, config: { registration_requires_token: true } });
    await newToken(s, 'open-token', null);
    await newToken(s, 'one-use', 1);
    await newToken(s, 'expiring', null, T0 + 60_000);
  });
  after(() => s.close());

  it('v3 offers only [token, dummy]; the token stage has no params', async () => {
    const res = await s.request('POST', V3, {});
    assertChallenge(res);
    assert.deepEqual(res.body.flows, [{ stages: [STAGE, 'm.login.dummy'] }]);
    assert.deepEqual(res.body.params, {});
  });

  it('v3: dummy alone never registers, with or without a session', async () => {
    const one = await s.request('POST', V3, { username: 'sneaky', password: 'pw', auth: { type: 'm.login.dummy' } });
    // Refused without a session: the 401 names no session (none was stored).
    assert.equal(one.status, 401, JSON.stringify(one.body));
    assert.equal(one.body.errcode, 'M_UNKNOWN');
    const session = assertChallenge(await s.request('POST', V3, { username: 'sneaky' }));
    const two = await s.request('POST', V3, { password: 'pw', auth: { type: 'm.login.dummy', session } });
    assertChallenge(two, 'M_UNKNOWN');
    assert.equal(await s.app.storage.users.findByUserId('@sneaky:localhost'), null);
  });

  it('v3: a valid token, then dummy, registers; the use is completed', async () => {
    const res = await registerV3(s, 'alice', 'open-token');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.user_id, '@alice:localhost');
    assert.equal((await whoami(s, res.body.access_token)).status, 200);
    assert.deepEqual(await counters(s, 'open-token'), { pending: 0, completed: 1 });
  });

  it('v3: the token stage without a session starts one (as a dummy stage does)', async () => {
    const held = await s.request('POST', V3, {
      username: 'bob',
      password: 'pw',
      auth: { type: STAGE, token: 'open-token' },
    });
    const session = assertChallenge(held);
    assert.deepEqual(held.body.completed, [STAGE]);
    assert.deepEqual(await counters(s, 'open-token'), { pending: 1, completed: 1 });
    const done = await s.request('POST', V3, { password: 'pw', auth: { type: 'm.login.dummy', session } });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.user_id, '@bob:localhost');
    assert.deepEqual(await counters(s, 'open-token'), { pending: 0, completed: 2 });
  });

  it('v3: unknown, malformed or expired tokens are 401 challenges with M_UNAUTHORIZED; nothing is stored', async () => {
    const sessionsBefore = await s.app.storage.uiaSessions.count();
    for (const token of ['nope', 'bad token!', 'x'.repeat(65), '']) {
      const res = await s.request('POST', V3, { auth: { type: STAGE, token } });
      assert.equal(res.status, 401, JSON.stringify(res.body));
      assert.equal(res.body.errcode, 'M_UNAUTHORIZED', JSON.stringify(res.body));
    }
    // A refused stage without a session leaves no session behind.
    assert.equal(await s.app.storage.uiaSessions.count(), sessionsBefore);
    const missing = await s.request('POST', V3, { auth: { type: STAGE } });
    assert.equal(missing.body.errcode, 'M_MISSING_PARAM', JSON.stringify(missing.body));
    const wrongType = await s.request('POST', V3, { auth: { type: STAGE, token: 7 } });
    assert.equal(wrongType.body.errcode, 'M_INVALID_PARAM', JSON.stringify(wrongType.body));
  });

  it('v3: a one-use token is held by the first session; a second gets M_UNAUTHORIZED; resubmitting holds no more', async () => {
    const first = assertChallenge(await s.request('POST', V3, { username: 'carol' }));
    assertChallenge(await s.request('POST', V3, { auth: { type: STAGE, token: 'one-use', session: first } }));
    assertChallenge(await s.request('POST', V3, { auth: { type: STAGE, token: 'one-use', session: first } }));
    assert.deepEqual(await counters(s, 'one-use'), { pending: 1, completed: 0 });
    const second = assertChallenge(await s.request('POST', V3, { username: 'dave' }));
    const refused = await s.request('POST', V3, { auth: { type: STAGE, token: 'one-use', session: second } });
    assertChallenge(refused, 'M_UNAUTHORIZED');
    const done = await s.request('POST', V3, { password: 'pw', auth: { type: 'm.login.dummy', session: first } });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.deepEqual(await counters(s, 'one-use'), { pending: 0, completed: 1 });
    // Used up: refused for good.
    const later = await registerV3(s, 'erin', 'one-use');
    assertChallenge(later as never, 'M_UNAUTHORIZED');
  });

  it('v3: a retry of a finished session logs in again without another use', async () => {
    const session = assertChallenge(await s.request('POST', V3, { username: 'frank' }));
    assertChallenge(await s.request('POST', V3, { auth: { type: STAGE, token: 'open-token', session } }));
    const done = await s.request('POST', V3, { password: 'pw', auth: { type: 'm.login.dummy', session } });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    const before = await counters(s, 'open-token');
    const again = await s.request('POST', V3, { password: 'pw', auth: { type: 'm.login.dummy', session } });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.user_id, '@frank:localhost');
    assert.deepEqual(await counters(s, 'open-token'), before);
  });

  it('v3: a token deleted while held cannot finish the registration', async () => {
    await newToken(s, 'revoked', 5);
    const session = assertChallenge(await s.request('POST', V3, { username: 'grace' }));
    assertChallenge(await s.request('POST', V3, { auth: { type: STAGE, token: 'revoked', session } }));
    await s.app.services.registrationTokens.delete('revoked');
    const res = await s.request('POST', V3, { password: 'pw', auth: { type: 'm.login.dummy', session } });
    assertError(res, 401, 'M_UNAUTHORIZED');
    assert.equal(await s.app.storage.users.findByUserId('@grace:localhost'), null);
  });

  it('v1: GET lists the one flow with every stage; password first is refused', async () => {
    const res = await s.request('GET', V1);
    assert.deepEqual(res.body, { flows: [{ type: STAGE, stages: [STAGE, 'm.login.password'] }] });
    assertError(await s.request('POST', V1, v1Password('mallory', 'pw')), 400, 'M_UNKNOWN');
    assertError(await s.request('POST', V1, { type: 'm.login.dummy' }), 400, 'M_UNKNOWN');
    assert.equal(await s.app.storage.users.findByUserId('@mallory:localhost'), null);
  });

  it('v1: a bad token is 401 M_UNAUTHORIZED; a valid one, then the password, registers', async () => {
    assertError(await s.request('POST', V1, { type: STAGE, token: 'nope' }), 401, 'M_UNAUTHORIZED');
    assertError(await s.request('POST', V1, { type: STAGE, token: 'one-use' }), 401, 'M_UNAUTHORIZED');
    const step = await s.request('POST', V1, { type: STAGE, token: 'open-token' });
    assert.equal(step.status, 200, JSON.stringify(step.body));
    assert.equal(step.body.next, 'm.login.password');
    const done = await s.request('POST', V1, v1Password('heidi', 'pw', { session: step.body.session }));
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.user_id, '@heidi:localhost');
    assert.equal(await s.app.storage.registrationTokens.heldBy(step.body.session), null);
    // The session is gone with its hold, and it cannot register a second account.
    const again = await s.request('POST', V1, v1Password('heidi2', 'pw', { session: step.body.session }));
    assertError(again, 400, 'M_UNKNOWN');
  });

  it('an expired token is refused; guests and shared-secret registration need no token', async () => {
    clock.advance(120_000);
    const res = await registerV3(s, 'ivan', 'expiring');
    assertChallenge(res as never, 'M_UNAUTHORIZED');
    // Guest access is off here: the token gate does not change its answer.
    assertError(await s.request('POST', `${V3}?kind=guest`, {}), 403, 'M_GUEST_ACCESS_FORBIDDEN');
  });
});

await describeEachBackend('registration tokens: a held use is given back when its session goes', (backend) => {
  let s: TestServer;
  const clock = manualClock(T0);
  before(async () => {
    s = await startServer({
      backend,
      clock,
      config: { registration_requires_token: true, uia_session_lifetime: '10m', allow_guest_access: true },
    });
    await newToken(s, 'single', 1);
  });
  after(() => s.close());

  it('expiry: the use is held until housekeeping deletes the expired session, then another may take it', async () => {
    const stale = assertChallenge(await s.request('POST', V3, { username: 'slow' }));
    assertChallenge(await s.request('POST', V3, { auth: { type: STAGE, token: 'single', session: stale } }));
    assert.deepEqual(await counters(s, 'single'), { pending: 1, completed: 0 });
    const blocked = await registerV3(s, 'quick', 'single');
    assertChallenge(blocked as never, 'M_UNAUTHORIZED');

    clock.advance(10 * 60_000 + 1);
    // What housekeeping runs (src/service/housekeeping.ts).
    assert.ok((await s.app.storage.uiaSessions.deleteExpired(clock.now())) >= 1);
    assert.deepEqual(await counters(s, 'single'), { pending: 0, completed: 0 });
    assert.equal(await s.app.storage.registrationTokens.heldBy(stale), null);
    // A second run gives nothing back twice.
    await s.app.storage.uiaSessions.deleteExpired(clock.now());
    assert.deepEqual(await counters(s, 'single'), { pending: 0, completed: 0 });

    // The stale session is gone: it cannot finish.
    assertError(
      await s.request('POST', V3, { password: 'pw', auth: { type: 'm.login.dummy', session: stale } }),
      400,
      'M_UNKNOWN',
    );
    const res = await registerV3(s, 'quick', 'single');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(await counters(s, 'single'), { pending: 0, completed: 1 });
  });

  it('guests register without a token', async () => {
    const res = await s.request('POST', `${V3}?kind=guest`, {});
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });
});

await describeEachBackend('registration tokens: with the captcha', (backend) => {
  let s: TestServer;
  let verifier: FakeSiteverify;
  before(async () => {
    verifier = await startCaptchaVerifier();
    s = await startServer({ backend, config: { ...captchaConfig(verifier), registration_requires_token: true } });
    await newToken(s, 'tok', null);
  });
  after(async () => {
    await s.close();
    await verifier.close();
  });

  it('v3 offers [captcha, token, dummy]; the token before the captcha is refused', async () => {
    const res = await s.request('POST', V3, {});
    const session = assertChallenge(res);
    assert.deepEqual(res.body.flows, [{ stages: ['m.login.recaptcha', STAGE, 'm.login.dummy'] }]);
    assertChallenge(await s.request('POST', V3, { auth: { type: STAGE, token: 'tok', session } }), 'M_UNKNOWN');
    assert.deepEqual(await counters(s, 'tok'), { pending: 0, completed: 0 });
    assertChallenge(await s.request('POST', V3, { auth: { type: 'm.login.recaptcha', response: 'good', session } }));
    assertChallenge(await s.request('POST', V3, { auth: { type: STAGE, token: 'tok', session } }));
    const done = await s.request('POST', V3, {
      username: 'judy',
      password: 'pw',
      auth: { type: 'm.login.dummy', session },
    });
    assert.equal(done.status, 200, JSON.stringify(done.body));
  });

  it('v1 lists [captcha, token, password] and walks it stage by stage', async () => {
    const res = await s.request('GET', V1);
    assert.deepEqual(res.body, {
      flows: [{ type: 'm.login.recaptcha', stages: ['m.login.recaptcha', STAGE, 'm.login.password'] }],
    });
    const one = await s.request('POST', V1, { type: 'm.login.recaptcha', response: 'good' });
    assert.equal(one.body.next, STAGE, JSON.stringify(one.body));
    const early = await s.request('POST', V1, v1Password('kim', 'pw', { session: one.body.session }));
    assertError(early, 400, 'M_UNKNOWN');
    const two = await s.request('POST', V1, { type: STAGE, token: 'tok', session: one.body.session });
    assert.equal(two.body.next, 'm.login.password', JSON.stringify(two.body));
    const done = await s.request('POST', V1, v1Password('kim', 'pw', { session: one.body.session }));
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.deepEqual(await counters(s, 'tok'), { pending: 0, completed: 2 });
  });
});
