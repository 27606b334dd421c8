import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { OpenDatabase } from '../../src/storage/open.js';
import { createStorage } from '../../src/storage/storage.js';
import { backendRuns, describeOrSkip } from '../helpers/backends.js';
import { NOW, openFixture, type StorageFixture, uniq } from './fixture.js';

// The leaky-bucket repository (Synapse's synapse/api/ratelimiting.py rule), once per backend:
// allowed when max(0, level - elapsed_s * rate) + 1 <= burst.
for (const { backend, skip } of await backendRuns()) {
  describeOrSkip(`rate-limit buckets [${backend}]`, skip, () => {
    let f: StorageFixture;
    before(async () => {
      f = await openFixture(backend);
    });
    after(() => f.close());

    it('allows a burst, then refuses with the time until one more fits, then refills', async () => {
      const key = uniq('k');
      const rl = f.storage.rateLimits;
      assert.deepEqual(await rl.consume(key, 0.5, 3, NOW), { allowed: true, retryAfterMs: 0 });
      assert.equal((await rl.consume(key, 0.5, 3, NOW)).allowed, true);
      assert.equal((await rl.consume(key, 0.5, 3, NOW)).allowed, true);
      // Level 3 at NOW; one more fits when it drains to 2: 1 / 0.5 s later.
      assert.deepEqual(await rl.consume(key, 0.5, 3, NOW), { allowed: false, retryAfterMs: 2000 });
      // A refusal counts nothing (as in Synapse): 500 ms later, 1500 ms are left.
      assert.deepEqual(await rl.consume(key, 0.5, 3, NOW + 500), { allowed: false, retryAfterMs: 1500 });
      assert.deepEqual(await rl.peek(key, 0.5, 3, NOW + 1999), { allowed: false, retryAfterMs: 1 });
      assert.equal((await rl.peek(key, 0.5, 3, NOW + 2000)).allowed, true);
      assert.equal((await rl.consume(key, 0.5, 3, NOW + 2000)).allowed, true);
      assert.equal((await rl.consume(key, 0.5, 3, NOW + 2000)).allowed, false);
      // Long idle: the bucket is empty again (never below zero), so a full burst fits.
      for (let i = 0; i < 3; i++) assert.equal((await rl.consume(key, 0.5, 3, NOW + 3_600_000)).allowed, true);
      assert.equal((await rl.consume(key, 0.5, 3, NOW + 3_600_000)).allowed, false);
    });

    it('keys are independent; fractional rates and retry times round up', async () => {
      const rl = f.storage.rateLimits;
      const [a, b] = [uniq('a'), uniq('b')];
      assert.equal((await rl.consume(a, 0.3, 1, NOW)).allowed, true);
      // 1 / 0.3 s = 3333.3 ms → 3334.
      assert.deepEqual(await rl.consume(a, 0.3, 1, NOW), { allowed: false, retryAfterMs: 3334 });
      assert.equal((await rl.consume(b, 0.3, 1, NOW)).allowed, true);
    });

    it('peek reads without counting; an unknown key is allowed', async () => {
      const rl = f.storage.rateLimits;
      const key = uniq('p');
      for (let i = 0; i < 5; i++) assert.equal((await rl.peek(key, 1, 1, NOW)).allowed, true);
      assert.equal((await rl.consume(key, 1, 1, NOW)).allowed, true);
      assert.deepEqual(await rl.peek(key, 1, 1, NOW), { allowed: false, retryAfterMs: 1000 });
    });

    it('refund gives one action back, never below empty, and is a no-op for an unknown key', async () => {
      const rl = f.storage.rateLimits;
      const key = uniq('r');
      await rl.refund(key, 1, NOW);
      assert.equal((await rl.consume(key, 1, 2, NOW)).allowed, true);
      assert.equal((await rl.consume(key, 1, 2, NOW)).allowed, true);
      assert.equal((await rl.consume(key, 1, 2, NOW)).allowed, false);
      await rl.refund(key, 1, NOW);
      assert.equal((await rl.consume(key, 1, 2, NOW)).allowed, true);
      await rl.refund(key, 1, NOW);
      await rl.refund(key, 1, NOW);
      await rl.refund(key, 1, NOW);
      assert.equal((await rl.consume(key, 1, 2, NOW)).allowed, true);
      assert.equal((await rl.consume(key, 1, 2, NOW)).allowed, true);
      assert.equal((await rl.consume(key, 1, 2, NOW)).allowed, false);
    });

    it('a clock behind the stored time (another process) drains nothing and fills nothing extra', async () => {
      const rl = f.storage.rateLimits;
      const key = uniq('skew');
      assert.equal((await rl.consume(key, 1, 2, NOW)).allowed, true);
      assert.equal((await rl.consume(key, 1, 2, NOW - 60_000)).allowed, true);
      assert.equal((await rl.consume(key, 1, 2, NOW - 60_000)).allowed, false);
      // The stored time stayed NOW, so the bucket drains from NOW on.
      assert.equal((await rl.consume(key, 1, 2, NOW + 1000)).allowed, true);
    });

    it('20 concurrent consumes from two connections with burst 5: exactly 5 allowed', async () => {
      const other: OpenDatabase = await f.reopen();
      try {
        const stores = [f.storage, createStorage(other.db, other.dialect)];
        const key = uniq('race');
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => stores[i % 2]!.rateLimits.consume(key, 0.001, 5, NOW)),
        );
        assert.equal(results.filter((r) => r.allowed).length, 5);
        for (const r of results.filter((x) => !x.allowed)) assert.ok(r.retryAfterMs > 0);
      } finally {
        await other.close();
      }
    });
  });
}
