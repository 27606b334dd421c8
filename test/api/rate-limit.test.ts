import assert from 'node:assert/strict';
import { afterEach, it } from 'node:test';
import { assertError } from '../helpers/assert.js';
import { manualClock } from '../helpers/clock.js';
import { describeEachBackend, startServer, type TestResponse, type TestServer } from '../helpers/server.js';
import { passwordLogin, registerUser, v1Password } from '../helpers/users.js';

// rc_registration and rc_login: leaky buckets in the database,
// tested with a manual clock so refills need no sleeping.

const V1 = '/_matrix/client/api/v1/register';
const V3 = '/_matrix/client/v3/register';
const LOGIN = '/_matrix/client/v3/login';
const T0 = 1_750_000_000_000;
const open = { per_second: 1000, burst_count: 1000 };
/** 2 actions, then one more every 2 s. */
const tight = { per_second: 0.5, burst_count: 2 };

/** 429 M_LIMIT_EXCEEDED with exactly this retry_after_ms and Retry-After = ceil(ms / 1000) s. */
function assertLimited(res: TestResponse, retryAfterMs: number): void {
  assertError(res, 429, 'M_LIMIT_EXCEEDED');
  assert.deepEqual(res.body, { errcode: 'M_LIMIT_EXCEEDED', error: 'Too Many Requests', retry_after_ms: retryAfterMs });
  assert.equal(res.headers.get('retry-after'), String(Math.ceil(retryAfterMs / 1000)));
}

function v3User(username: string) {
  return { username, password: `pw-${username}`, auth: { type: 'm.login.dummy' } };
}

await describeEachBackend('rate limits', (backend) => {
  const servers: TestServer[] = [];
  const start = async (config: Record<string, unknown>, clock = manualClock(T0)) => {
    const s = await startServer({ backend, clock, config });
    servers.push(s);
    return { s, clock };
  };
  // One by one: a server sharing another's database closes before the owner drops it.
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });
  const loginRates = (over: Record<string, unknown>) => ({
    rc_login: { address: open, account: open, failed_attempts: open, ...over },
  });

  it('rc_registration: accounts created per IP (v1, v3, guests); challenges do not count', async () => {
    const { s, clock } = await start({ rc_registration: tight, ...loginRates({}), allow_guest_access: true });
    // A UIA challenge creates nothing, so it fills nothing (Synapse counts in register_user).
    for (let i = 0; i < 3; i++) assert.equal((await s.request('POST', V3, { username: `c${i}` })).status, 401);
    assert.equal((await s.request('POST', V1, v1Password('one', 'pw'))).status, 200);
    assert.equal((await s.request('POST', V3, v3User('two'))).status, 200);
    // Full: every registration request is refused up front, guests and challenges too.
    assertLimited(await s.request('POST', V3, v3User('three')), 2000);
    assertLimited(await s.request('POST', V3, { username: 'three' }), 2000);
    assertLimited(await s.request('POST', V1, v1Password('three', 'pw')), 2000);
    assertLimited(await s.request('POST', `${V3}?kind=guest`, {}), 2000);
    clock.advance(1999);
    assertLimited(await s.request('POST', V3, v3User('three')), 1);
    clock.advance(1);
    assert.equal((await s.request('POST', V3, v3User('three'))).status, 200);
    assertLimited(await s.request('POST', `${V3}?kind=guest`, {}), 2000);
    clock.advance(2000);
    assert.equal((await s.request('POST', `${V3}?kind=guest`, {})).status, 200);
    // Only the allowed attempts created accounts.
    assert.equal((await s.request('GET', `${V3}/available?username=three`)).status, 400);
    assert.equal((await s.request('GET', `${V3}/available?username=four`)).status, 200);
  });

  it('Retry-After is whole seconds, rounded up', async () => {
    const { s } = await start({ rc_registration: { per_second: 0.3, burst_count: 1 }, ...loginRates({}) });
    assert.equal((await s.request('POST', V1, v1Password('a', 'pw'))).status, 200);
    // 1 / 0.3 s = 3333.3 ms → retry_after_ms 3334, Retry-After 4.
    assertLimited(await s.request('POST', V1, v1Password('b', 'pw')), 3334);
  });

  it('rc_login.address: every login request from the IP, whatever its outcome', async () => {
    const { s, clock } = await start({ rc_registration: open, ...loginRates({ address: tight }) });
    const alice = await registerUser(s, 'alice');
    assert.equal((await s.request('POST', LOGIN, passwordLogin('alice', 'wrong'))).status, 403);
    assert.equal((await s.request('POST', LOGIN, passwordLogin('alice', alice.password))).status, 200);
    assertLimited(await s.request('POST', LOGIN, passwordLogin('alice', alice.password)), 2000);
    assertLimited(await s.request('POST', LOGIN, { type: 'm.login.password' }), 2000);
    clock.advance(2000);
    assert.equal((await s.request('POST', LOGIN, passwordLogin('alice', alice.password))).status, 200);
  });

  it('rc_login.account: successful logins per account, any spelling; other accounts unaffected', async () => {
    const { s, clock } = await start({ rc_registration: open, ...loginRates({ account: tight }) });
    const alice = await registerUser(s, 'alice');
    const bob = await registerUser(s, 'bob');
    assert.equal((await s.request('POST', LOGIN, passwordLogin('alice', alice.password))).status, 200);
    assert.equal((await s.request('POST', LOGIN, passwordLogin('@alice:localhost', alice.password))).status, 200);
    assertLimited(await s.request('POST', LOGIN, passwordLogin('ALICE', alice.password)), 2000);
    // Checked after the password, as Synapse: a wrong one is still just 403.
    assertError(await s.request('POST', LOGIN, passwordLogin('alice', 'wrong')), 403, 'M_FORBIDDEN');
    assert.equal((await s.request('POST', LOGIN, passwordLogin('bob', bob.password))).status, 200);
    clock.advance(2000);
    assert.equal((await s.request('POST', LOGIN, passwordLogin('alice', alice.password))).status, 200);
  });

  it('rc_login.failed_attempts: wrong passwords lock the account, even the right one, until refill', async () => {
    const { s, clock } = await start({ rc_registration: open, ...loginRates({ failed_attempts: tight }) });
    const alice = await registerUser(s, 'alice');
    const bob = await registerUser(s, 'bob');
    // Successful logins do not count.
    for (let i = 0; i < 3; i++) {
      assert.equal((await s.request('POST', LOGIN, passwordLogin('alice', alice.password))).status, 200);
    }
    assertError(await s.request('POST', LOGIN, passwordLogin('alice', 'wrong1')), 403, 'M_FORBIDDEN');
    assertError(await s.request('POST', LOGIN, passwordLogin('Alice', 'wrong2')), 403, 'M_FORBIDDEN');
    assertLimited(await s.request('POST', LOGIN, passwordLogin('alice', alice.password)), 2000);
    assertLimited(await s.request('POST', LOGIN, passwordLogin('@alice:localhost', 'wrong3')), 2000);
    assert.equal((await s.request('POST', LOGIN, passwordLogin('bob', bob.password))).status, 200);
    // An unknown user looks the same: 403, 403, then 429.
    assertError(await s.request('POST', LOGIN, passwordLogin('nobody', 'x')), 403, 'M_FORBIDDEN');
    assertError(await s.request('POST', LOGIN, passwordLogin('nobody', 'x')), 403, 'M_FORBIDDEN');
    assertLimited(await s.request('POST', LOGIN, passwordLogin('nobody', 'x')), 2000);
    clock.advance(2000);
    assert.equal((await s.request('POST', LOGIN, passwordLogin('alice', alice.password))).status, 200);
    // One slot had drained; the right password gave back its reservation, so one wrong fits.
    assertError(await s.request('POST', LOGIN, passwordLogin('alice', 'wrong4')), 403, 'M_FORBIDDEN');
    assertLimited(await s.request('POST', LOGIN, passwordLogin('alice', alice.password)), 2000);
  });

  it('two servers on one database share the buckets', async () => {
    const clock = manualClock(T0);
    const config = { rc_registration: tight, ...loginRates({ failed_attempts: tight }) };
    const { s: a } = await start(config, clock);
    const b = await startServer({ backend, clock, config, shareDatabaseWith: a });
    servers.unshift(b);
    assert.equal((await a.request('POST', V1, v1Password('one', 'pw'))).status, 200);
    assert.equal((await b.request('POST', V1, v1Password('two', 'pw'))).status, 200);
    assertLimited(await a.request('POST', V1, v1Password('three', 'pw')), 2000);
    assertLimited(await b.request('POST', V1, v1Password('three', 'pw')), 2000);
    assertError(await a.request('POST', LOGIN, passwordLogin('one', 'wrong')), 403, 'M_FORBIDDEN');
    assertError(await b.request('POST', LOGIN, passwordLogin('one', 'wrong')), 403, 'M_FORBIDDEN');
    assertLimited(await a.request('POST', LOGIN, passwordLogin('one', 'pw')), 2000);
    assertLimited(await b.request('POST', LOGIN, passwordLogin('one', 'pw')), 2000);
    clock.advance(2000);
    assert.equal((await b.request('POST', V1, v1Password('three', 'pw'))).status, 200);
    assert.equal((await a.request('POST', LOGIN, passwordLogin('one', 'pw'))).status, 200);
  });
});
