import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MatrixError } from '../../src/errors.js';
import { TokenService } from '../../src/service/tokens.js';
import { cryptoRandom } from '../../src/util/random.js';
import { openFixture, type StorageFixture } from '../storage/fixture.js';

describe('TokenService: validation cache and revocation', () => {
  let f: StorageFixture;
  let now = 1_000_000;
  const clock = { now: () => now };
  let tokens: TokenService;
  const USER = '@alice:localhost';

  async function issue(deviceId: string, expiresInMs: number | null = null): Promise<string> {
    await f.storage.devices.upsert(USER, deviceId, null, now);
    return tokens.issueAccessToken(f.storage, USER, deviceId, expiresInMs, null);
  }

  before(async () => {
    f = await openFixture('sqlite');
    tokens = new TokenService({ storage: f.storage, clock, random: cryptoRandom, cacheTtlMs: 10_000 });
    await f.storage.users.create({
      userId: USER,
      localpart: 'alice',
      numericId: null,
      passwordHash: null,
      isGuest: false,
      isAdmin: false,
      createdTs: now,
    });
  });
  after(() => f.close());

  it('serves a validated token from the cache until its TTL (the cache is real)', async () => {
    const token = await issue('CACHED');
    const requester = await tokens.validate(token);
    assert.equal(requester?.deviceId, 'CACHED');
    // Delete the row behind the service's back: the cached validation still answers…
    await f.storage.accessTokens.deleteByDevice(USER, 'CACHED');
    assert.equal((await tokens.validate(token))?.userId, USER);
    // …until the cache entry is no longer fresh.
    now += 10_001;
    assert.equal(await tokens.validate(token), null);
  });

  it('revokeByHash rejects the token immediately, even when cached', async () => {
    const token = await issue('REVOKE');
    const requester = await tokens.validate(token);
    assert.ok(requester);
    await tokens.revokeByHash(requester.tokenHash);
    assert.equal(await tokens.validate(token), null);
  });

  it('forget(hashes) after a bulk delete rejects every deleted token immediately', async () => {
    const a = await issue('BULK');
    const b = await tokens.issueAccessToken(f.storage, USER, 'BULK', null, null);
    const keep = await issue('KEEP');
    for (const t of [a, b, keep]) assert.ok(await tokens.validate(t));
    tokens.forget(await f.storage.accessTokens.deleteByDevice(USER, 'BULK'));
    assert.equal(await tokens.validate(a), null);
    assert.equal(await tokens.validate(b), null);
    assert.equal((await tokens.validate(keep))?.deviceId, 'KEEP');
  });

  it('an expired token is a soft logout; logout may still name it', async () => {
    const token = await issue('EXPIRING', 1000);
    assert.ok(await tokens.validate(token));
    now += 1000;
    await assert.rejects(tokens.validate(token), (err: unknown) => {
      assert.ok(err instanceof MatrixError);
      assert.equal(err.errcode, 'M_UNKNOWN_TOKEN');
      assert.equal(err.status, 401);
      assert.deepEqual(err.extra, { soft_logout: true });
      return true;
    });
    assert.equal((await tokens.validate(token, { allowExpired: true }))?.deviceId, 'EXPIRING');
  });

  it('an unknown token is null (not cached)', async () => {
    assert.equal(await tokens.validate('tsa_unknown'), null);
  });
});
