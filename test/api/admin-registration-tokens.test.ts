import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { admin, registerAdmin } from '../helpers/admin.js';
import { assertError } from '../helpers/assert.js';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';
import { registerUser, type TestUser } from '../helpers/users.js';

// Synapse's admin API for registration tokens (docs/admin_api/registration_tokens.md), with
// Synapse's answers and messages.

const TOKENS = '/v1/registration_tokens';
const FUTURE = Date.now() + 7 * 86_400_000;

await describeEachBackend('admin API: registration tokens', (backend) => {
  let s: TestServer;
  let root: TestUser;
  let alice: TestUser;
  before(async () => {
    s = await startServer({ backend });
    root = await registerAdmin(s, 'root');
    alice = await registerUser(s, 'alice');
  });
  after(() => s.close());

  const req = (method: string, path: string, body?: unknown) => admin(s, root.token, method, path, body);

  it('POST /new with nothing: a generated token of 16 characters, unlimited, never expiring', async () => {
    const res = await req('POST', `${TOKENS}/new`, {});
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.match(res.body.token, /^[A-Za-z0-9._~-]{16}$/);
    assert.deepEqual(res.body, {
      token: res.body.token,
      uses_allowed: null,
      pending: 0,
      completed: 0,
      expiry_time: null,
    });
    const other = await req('POST', `${TOKENS}/new`, { length: 64 });
    assert.match(other.body.token, /^[A-Za-z0-9._~-]{64}$/);
    assert.notEqual(other.body.token, res.body.token);
    const short = await req('POST', `${TOKENS}/new`, { length: 1, uses_allowed: 3 });
    assert.equal(short.body.token.length, 1);
    assert.equal(short.body.uses_allowed, 3);
  });

  it('POST /new with a token, uses and expiry; GET shows it; a duplicate is 400 M_INVALID_PARAM', async () => {
    const body = { token: 'abc.DEF_~-9', uses_allowed: 2, expiry_time: FUTURE };
    const res = await req('POST', `${TOKENS}/new`, body);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, { ...body, pending: 0, completed: 0 });
    const got = await req('GET', `${TOKENS}/abc.DEF_~-9`);
    assert.deepEqual(got.body, res.body);
    const dup = await req('POST', `${TOKENS}/new`, { token: 'abc.DEF_~-9' });
    assertError(dup, 400, 'M_INVALID_PARAM');
    assert.equal(dup.body.error, 'Token already exists: abc.DEF_~-9');
  });

  it('POST /new refuses what Synapse refuses, with its messages', async () => {
    const cases: [unknown, string][] = [
      [{ token: 7 }, 'token must be a string'],
      [{ token: '' }, 'token must not be empty and must not be longer than 64 characters'],
      [{ token: 'x'.repeat(65) }, 'token must not be empty and must not be longer than 64 characters'],
      [{ token: 'has space' }, 'token must consist only of characters matched by the regex [A-Za-z0-9._~-]'],
      [{ token: 'é' }, 'token must consist only of characters matched by the regex [A-Za-z0-9._~-]'],
      [{ length: '16' }, 'length must be an integer'],
      [{ length: 1.5 }, 'length must be an integer'],
      [{ length: null }, 'length must be an integer'],
      [{ length: 0 }, 'length must be greater than zero and not greater than 64'],
      [{ length: 65 }, 'length must be greater than zero and not greater than 64'],
      [{ uses_allowed: -1 }, 'uses_allowed must be a non-negative integer or null'],
      [{ uses_allowed: 'many' }, 'uses_allowed must be a non-negative integer or null'],
      [{ uses_allowed: true }, 'uses_allowed must be a non-negative integer or null'],
      [{ expiry_time: 'soon' }, 'expiry_time must be an integer or null'],
      [{ expiry_time: 1.5 }, 'expiry_time must be an integer or null'],
      [{ expiry_time: 1000 }, 'expiry_time must not be in the past'],
    ];
    for (const [body, message] of cases) {
      const res = await req('POST', `${TOKENS}/new`, body);
      assertError(res, 400, 'M_INVALID_PARAM');
      assert.equal(res.body.error, message, JSON.stringify(body));
    }
  });

  it('GET lists every token; valid=true and valid=false split them; another value is 400', async () => {
    await req('POST', `${TOKENS}/new`, { token: 'used-up', uses_allowed: 0 });
    const all = await req('GET', TOKENS);
    assert.equal(all.status, 200);
    const names = all.body.registration_tokens.map((t: { token: string }) => t.token);
    assert.ok(names.includes('used-up') && names.includes('abc.DEF_~-9'), JSON.stringify(names));
    for (const t of all.body.registration_tokens) {
      assert.deepEqual(Object.keys(t).sort(), ['completed', 'expiry_time', 'pending', 'token', 'uses_allowed']);
    }
    const valid = (await req('GET', `${TOKENS}?valid=true`)).body.registration_tokens.map((t: any) => t.token);
    const invalid = (await req('GET', `${TOKENS}?valid=false`)).body.registration_tokens.map((t: any) => t.token);
    assert.deepEqual(invalid, ['used-up']);
    assert.ok(!valid.includes('used-up'));
    assert.equal(valid.length + invalid.length, names.length);
    assertError(await req('GET', `${TOKENS}?valid=yes`), 400, 'M_INVALID_PARAM');
  });

  it('PUT changes only what it names; null means unlimited or never; an empty body changes nothing', async () => {
    await req('POST', `${TOKENS}/new`, { token: 'editable', uses_allowed: 1 });
    const one = await req('PUT', `${TOKENS}/editable`, { expiry_time: FUTURE });
    assert.deepEqual(one.body, { token: 'editable', uses_allowed: 1, pending: 0, completed: 0, expiry_time: FUTURE });
    const two = await req('PUT', `${TOKENS}/editable`, { uses_allowed: null });
    assert.equal(two.body.uses_allowed, null);
    assert.equal(two.body.expiry_time, FUTURE);
    const three = await req('PUT', `${TOKENS}/editable`, { expiry_time: null, uses_allowed: 5 });
    assert.deepEqual(three.body, { token: 'editable', uses_allowed: 5, pending: 0, completed: 0, expiry_time: null });
    assert.deepEqual((await req('PUT', `${TOKENS}/editable`, {})).body, three.body);
    assertError(await req('PUT', `${TOKENS}/editable`, { uses_allowed: -2 }), 400, 'M_INVALID_PARAM');
    const past = await req('PUT', `${TOKENS}/editable`, { expiry_time: 5 });
    assertError(past, 400, 'M_INVALID_PARAM');
    assert.equal(past.body.error, 'expiry_time must not be in the past');
  });

  it('GET, PUT and DELETE of an unknown token are 404 M_NOT_FOUND "No such registration token: …"', async () => {
    for (const [method, body] of [
      ['GET', undefined],
      ['PUT', { uses_allowed: 1 }],
      ['DELETE', undefined],
    ] as const) {
      for (const token of ['missing', 'not a token!', 'x'.repeat(80)]) {
        const res = await req(method, `${TOKENS}/${encodeURIComponent(token)}`, body);
        assertError(res, 404, 'M_NOT_FOUND');
        assert.equal(res.body.error, `No such registration token: ${token}`);
      }
    }
  });

  it('DELETE answers {} and the token is gone', async () => {
    await req('POST', `${TOKENS}/new`, { token: 'doomed' });
    const res = await req('DELETE', `${TOKENS}/doomed`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {});
    assertError(await req('GET', `${TOKENS}/doomed`), 404, 'M_NOT_FOUND');
  });

  it('a non-admin gets 403 M_FORBIDDEN on every endpoint and changes nothing', async () => {
    for (const [method, path, body] of [
      ['GET', TOKENS, undefined],
      ['POST', `${TOKENS}/new`, { token: 'sneaky' }],
      ['GET', `${TOKENS}/editable`, undefined],
      ['PUT', `${TOKENS}/editable`, { uses_allowed: 1000 }],
      ['DELETE', `${TOKENS}/editable`, undefined],
    ] as const) {
      assertError(await admin(s, alice.token, method, path, body), 403, 'M_FORBIDDEN');
    }
    assertError(await req('GET', `${TOKENS}/sneaky`), 404, 'M_NOT_FOUND');
    assert.equal((await req('GET', `${TOKENS}/editable`)).body.uses_allowed, 5);
  });
});
