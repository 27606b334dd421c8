import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MatrixError } from '../../src/errors.js';
import { createArgon2Hasher, createBoundedHasher } from '../../src/service/passwords.js';
import { gatedHasher } from '../helpers/hashers.js';

const CHEAP = { memoryKib: 256, iterations: 1, parallelism: 1 };

describe('password hashing', () => {
  it('hashes and verifies the NFKC form: NFC and NFD spellings are one password', async () => {
    const hasher = createArgon2Hasher(CHEAP);
    const nfc = 'caf\u00e9-pw';
    const nfd = 'cafe\u0301-pw';
    assert.notEqual(nfc, nfd);
    const h = await hasher.hash(nfd);
    assert.equal(await hasher.verify(h, nfc), true);
    assert.equal(await hasher.verify(h, nfd), true);
    // Compatibility forms too (Synapse: NFKC): the Kelvin sign is a K, full-width letters are letters.
    assert.equal(await hasher.verify(await hasher.hash('\u212Aey'), 'Key'), true);
    assert.equal(await hasher.verify(h, 'cafe-pw'), false);
  });

  it('still verifies a hash made from a password that was not normalised', async () => {
    const hasher = createArgon2Hasher(CHEAP);
    const { hash } = await import('@node-rs/argon2');
    const legacy = await hash('cafe\u0301', { algorithm: 2, memoryCost: 256, timeCost: 1, parallelism: 1 });
    assert.equal(await hasher.verify(legacy, 'cafe\u0301'), true);
    assert.equal(await hasher.verify(legacy, 'other'), false);
  });

  it('a bounded hasher runs at most N calls at once and refuses the rest with 429 and retry_after_ms', async () => {
    const gated = gatedHasher();
    const bounded = createBoundedHasher(gated.hasher, 3, undefined, () => 3);
    const calls = [bounded.hash('a'), bounded.verify('fake$b', 'b'), bounded.verifyDummy('c')];
    const refused = await Promise.allSettled([bounded.hash('d'), bounded.verify('x', 'y'), bounded.verifyDummy('z')]);
    for (const r of refused) {
      assert.equal(r.status, 'rejected');
      const err = (r as PromiseRejectedResult).reason;
      assert.ok(err instanceof MatrixError);
      assert.equal(err.errcode, 'M_LIMIT_EXCEEDED');
      assert.equal(err.status, 429);
      assert.equal(typeof err.extra.retry_after_ms, 'number');
    }
    assert.equal(gated.stats().calls, 3);
    gated.release();
    assert.deepEqual(await Promise.all(calls), ['fake$a', true, undefined]);
    // The queue has room again.
    const next = bounded.hash('e');
    gated.release();
    assert.equal(await next, 'fake$e');
    assert.equal(gated.stats().maxRunning, 3);
  });

  it('runs at most `concurrency` at once; the others wait their turn instead of being refused', async () => {
    const gated = gatedHasher();
    const bounded = createBoundedHasher(gated.hasher, 10, undefined, () => 2);
    const calls = ['a', 'b', 'c', 'd', 'e'].map((p) => bounded.hash(p));
    await new Promise((r) => setImmediate(r));
    assert.equal(gated.stats().calls, 2, 'two run, three wait');
    for (let i = 0; i < 5; i++) {
      gated.release();
      await new Promise((r) => setImmediate(r));
    }
    assert.deepEqual(await Promise.all(calls), ['fake$a', 'fake$b', 'fake$c', 'fake$d', 'fake$e']);
    assert.equal(gated.stats().maxRunning, 2);
  });

  it('a finished hash hands its slot to the next in line: a call made in between waits', async () => {
    const gated = gatedHasher();
    const late: Promise<string>[] = [];
    // The telemetry of a finished call runs after its slot was given up and before the next in
    // line resumes: the moment a newcomer could otherwise slip in beside it.
    const telemetry = {
      passwordHashing: () => {
        if (late.length === 0) late.push(bounded.hash('c'));
      },
      rateLimited: () => {},
    };
    const bounded = createBoundedHasher(gated.hasher, 10, telemetry, () => 1);
    const first = [bounded.hash('a'), bounded.hash('b')];
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 3; i++) {
      gated.release();
      await new Promise((r) => setImmediate(r));
    }
    assert.deepEqual(await Promise.all([...first, ...late]), ['fake$a', 'fake$b', 'fake$c']);
    assert.equal(gated.stats().maxRunning, 1);
  });
});
