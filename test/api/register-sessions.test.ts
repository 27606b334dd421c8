import assert from 'node:assert/strict';
import { afterEach, it } from 'node:test';
import { assertChallenge, assertError } from '../helpers/assert.js';
import { manualClock } from '../helpers/clock.js';
import { describeEachBackend, startServer, type TestServer, UNLIMITED_RATES } from '../helpers/server.js';
import { passwordAuth, whoamiStatus } from '../helpers/users.js';

// What an unauthenticated registration session may store, how many an address may open, and
// how long a finished one may log its account in again.

const V3 = '/_matrix/client/v3';
const REGISTER = `${V3}/register`;
const T0 = 1_750_000_000_000;

await describeEachBackend('registration sessions', (backend) => {
  const servers: TestServer[] = [];
  const start = async (config: Record<string, unknown> = {}, clock = manualClock(T0)) => {
    const s = await startServer({ backend, clock, config: { ...UNLIMITED_RATES, ...config } });
    servers.push(s);
    return { s, clock };
  };
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });

  /** Register `username` in two steps; returns the session and the 200 body. */
  async function registerTwoSteps(s: TestServer, username: string) {
    const password = `pw-${username}-1`;
    const session = assertChallenge(await s.request('POST', REGISTER, { username, password }));
    const done = await s.request('POST', REGISTER, { username, password, auth: { type: 'm.login.dummy', session } });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    return { session, password, body: done.body };
  }

  const replay = (s: TestServer, session: string) =>
    s.request('POST', REGISTER, { auth: { type: 'm.login.dummy', session } });

  it('a session stores a bounded body: a huge field is refused with 400 and stores nothing', async () => {
    const { s } = await start();
    const before = await s.app.storage.uiaSessions.count();
    for (const body of [
      { username: 'big1', initial_device_display_name: 'n'.repeat(1_000_000) },
      { username: 'big2', device_id: 'D'.repeat(20_000) },
    ]) {
      const res = await s.request('POST', REGISTER, body);
      assert.equal(res.status, 400, JSON.stringify(res.body).slice(0, 200));
      assert.equal(typeof res.body.errcode, 'string');
    }
    assert.equal(await s.app.storage.uiaSessions.count(), before);
  });

  it('rc_registration_requests limits challenges per address; no session is stored for a refused one', async () => {
    const { s, clock } = await start({ rc_registration_requests: { per_second: 0.5, burst_count: 2 } });
    assertChallenge(await s.request('POST', REGISTER, { username: 'c1' }));
    assertChallenge(await s.request('POST', REGISTER, { username: 'c2' }));
    const stored = await s.app.storage.uiaSessions.count();
    const limited = await s.request('POST', REGISTER, { username: 'c3' });
    assertError(limited, 429, 'M_LIMIT_EXCEEDED');
    assert.equal(limited.body.retry_after_ms, 2000);
    assert.equal(await s.app.storage.uiaSessions.count(), stored);
    // v1 and GET /register/available share the address's bucket.
    assertError(
      await s.request('POST', '/_matrix/client/api/v1/register', { type: 'm.login.dummy' }),
      429,
      'M_LIMIT_EXCEEDED',
    );
    assertError(await s.request('GET', `${REGISTER}/available?username=free`), 429, 'M_LIMIT_EXCEEDED');
    clock.advance(2000);
    assert.equal((await s.request('GET', `${REGISTER}/available?username=free`)).status, 200);
    assertError(await s.request('GET', `${REGISTER}/available?username=free`), 429, 'M_LIMIT_EXCEEDED');
  });

  it('a bare challenge with a password stores no hash; the completing request must carry the password', async () => {
    const { s } = await start();
    const session = assertChallenge(await s.request('POST', REGISTER, { username: 'nohash', password: 'pw-nohash-1' }));
    const row = await s.app.storage.uiaSessions.find(session, T0);
    assert.ok(row !== null);
    assert.ok(!row.request_body.includes('argon2'), row.request_body);
    assert.ok(!row.request_body.includes('pw-nohash-1'), row.request_body);
    // Never an account without the password the client asked for.
    assertError(await replay(s, session), 400, 'M_MISSING_PARAM');
    assert.equal((await s.request('GET', `${REGISTER}/available?username=nohash`)).status, 200);
    const done = await s.request('POST', REGISTER, {
      password: 'pw-nohash-1',
      auth: { type: 'm.login.dummy', session },
    });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal((await s.app.services.passwordAuth.verify('nohash', 'pw-nohash-1')).user_id, '@nohash:localhost');
  });

  it('a finished session logs in again only within 60 s of the account’s creation', async () => {
    const { s, clock } = await start();
    const { session } = await registerTwoSteps(s, 'window');
    clock.advance(59_000);
    const again = await replay(s, session);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(await whoamiStatus(s, again.body.access_token), 200);
    clock.advance(1_001);
    const late = await replay(s, session);
    assertError(late, 400, 'M_UNKNOWN');
    assert.equal(late.body.access_token, undefined);
  });

  it('a password change closes the retry window', async () => {
    const { s } = await start();
    const { session, password, body } = await registerTwoSteps(s, 'changer');
    const res = await s.request(
      'POST',
      `${V3}/account/password`,
      { new_password: 'changed-pw-1', logout_devices: false, auth: passwordAuth('changer', password) },
      { token: body.access_token },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const late = await replay(s, session);
    assertError(late, 400, 'M_UNKNOWN');
    assert.equal(late.body.access_token, undefined);
  });

  it('logging out everywhere closes the retry window', async () => {
    const { s } = await start();
    const { session, body } = await registerTwoSteps(s, 'leaver');
    assert.equal((await s.request('POST', `${V3}/logout/all`, {}, { token: body.access_token })).status, 200);
    const late = await replay(s, session);
    assertError(late, 400, 'M_UNKNOWN');
    assert.equal(late.body.access_token, undefined);
  });

  it('deactivation closes the retry window', async () => {
    const { s } = await start();
    const { session, password, body } = await registerTwoSteps(s, 'quitter');
    const res = await s.request(
      'POST',
      `${V3}/account/deactivate`,
      { auth: passwordAuth('quitter', password) },
      { token: body.access_token },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const late = await replay(s, session);
    assert.equal(late.status, 400, JSON.stringify(late.body));
    assert.equal(late.body.access_token, undefined);
  });
});
