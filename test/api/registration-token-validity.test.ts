import assert from 'node:assert/strict';
import { afterEach, it } from 'node:test';
import { assertError } from '../helpers/assert.js';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';

// GET /_matrix/client/v1/register/m.login.registration_token/validity (spec
// registration_tokens.yaml): {valid}, 403 while registration is closed, rate-limited.

const VALIDITY = '/_matrix/client/v1/register/m.login.registration_token/validity';

await describeEachBackend('registration token validity', (backend) => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const start = async (config: Record<string, unknown>) => {
    const s = await startServer({ backend, config });
    servers.push(s);
    return s;
  };
  const check = (s: TestServer, token: string) => s.request('GET', `${VALIDITY}?token=${encodeURIComponent(token)}`);

  it('valid for a usable token; false for unknown, used up or expired ones', async () => {
    const s = await start({ registration_requires_token: true });
    const tokens = s.app.services.registrationTokens;
    await tokens.create({ token: 'good' });
    await tokens.create({ token: 'none-left', usesAllowed: 0 });
    await tokens.create({ token: 'brief', expiryTime: Date.now() + 150 });
    assert.deepEqual((await check(s, 'good')).body, { valid: true });
    assert.deepEqual((await check(s, 'unknown')).body, { valid: false });
    assert.deepEqual((await check(s, 'none-left')).body, { valid: false });
    await new Promise((r) => setTimeout(r, 200));
    const res = await check(s, 'brief');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { valid: false });
  });

  it('a string no token can be is 400 M_INVALID_PARAM; no token is 400 M_MISSING_PARAM', async () => {
    const s = await start({ registration_requires_token: true });
    for (const token of ['', 'two words', 'x'.repeat(65), 'ü']) {
      assertError(await check(s, token), 400, 'M_INVALID_PARAM');
    }
    assertError(await s.request('GET', VALIDITY), 400, 'M_MISSING_PARAM');
  });

  it('registration closed: 403 M_FORBIDDEN; tokens not required: valid is false', async () => {
    const closed = await start({ enable_registration: false, registration_requires_token: true });
    await closed.app.services.registrationTokens.create({ token: 'good' });
    assertError(await check(closed, 'good'), 403, 'M_FORBIDDEN');
    const open = await start({});
    await open.app.services.registrationTokens.create({ token: 'good' });
    assert.deepEqual((await check(open, 'good')).body, { valid: false });
  });

  it('rc_registration_token_validity: the burst, then 429 with retry_after_ms, per address', async () => {
    const s = await start({
      registration_requires_token: true,
      rc_registration_token_validity: { per_second: 0.1, burst_count: 3 },
    });
    for (let i = 0; i < 3; i++) assert.equal((await check(s, `guess${i}`)).status, 200);
    const limited = await check(s, 'guess3');
    assertError(limited, 429, 'M_LIMIT_EXCEEDED');
    assert.equal(typeof limited.body.retry_after_ms, 'number');
    // Counted before anything else: a malformed token counts too, and is limited as well.
    assertError(await check(s, 'bad token'), 429, 'M_LIMIT_EXCEEDED');
  });
});
