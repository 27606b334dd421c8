import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type App, createApp } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { defaultHashingConcurrency } from '../../src/service/passwords.js';
import { gatedHasher } from '../helpers/hashers.js';
import { UNLIMITED_RATES } from '../helpers/server.js';
import { consentConfig, type PolicyDir, policyDir } from '../helpers/terms.js';
import { passwordLogin } from '../helpers/users.js';

// How much password hashing requests can cause: a bounded queue per process, and none at all
// for a request that only gets a challenge or that the registration limit refuses. The hasher
// is a fake whose calls wait until released, so the test sees what runs at once.

const V3 = '/_matrix/client/v3';
const MAX_QUEUE = 4;

async function startWithHasher(config: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-hashing-'));
  const gated = gatedHasher();
  const { config: cfg } = validateConfig(
    {
      server_name: 'localhost',
      listeners: [{ port: 0, bind_addresses: ['127.0.0.1'] }],
      database: { name: 'sqlite3', args: { database: join(dir, 'tessera.db') } },
      enable_registration: true,
      ...UNLIMITED_RATES,
      password_hashing: { memory_kib: 256, iterations: 1, parallelism: 1, max_queue: MAX_QUEUE },
      log_level: 'silent',
      log_format: 'json',
      ...config,
    },
    dir,
  );
  const app: App = await createApp({ config: cfg, hasher: gated.hasher });
  const [url] = await app.listen();
  const post = async (path: string, body: unknown) => {
    const res = await fetch(url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  return {
    app,
    gated,
    post,
    close: async () => {
      gated.release();
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Release the gate until every pending request has answered. */
async function drain<T>(gated: ReturnType<typeof gatedHasher>, pending: Promise<T>[]): Promise<T[]> {
  let settled = false;
  const all = Promise.all(pending).finally(() => {
    settled = true;
  });
  while (!settled) {
    gated.release();
    await new Promise((r) => setTimeout(r, 5));
  }
  return all;
}

/** Wait until `n` hasher calls are waiting at the gate. */
async function waitForWaiting(gated: ReturnType<typeof gatedHasher>, n: number) {
  for (let i = 0; i < 400 && gated.waiting() < n; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(gated.waiting(), n);
}

describe('password hashing work', () => {
  let t: Awaited<ReturnType<typeof startWithHasher>>;
  before(async () => {
    t = await startWithHasher({ rc_registration: { per_second: 0.001, burst_count: 1 } });
  });
  after(() => t.close());

  it('more concurrent logins than the queue holds: the rest get 429 with retry_after_ms at once', async () => {
    const extra = 3;
    let answered = 0;
    const pending = Array.from({ length: MAX_QUEUE + extra }, (_, i) =>
      t.post(`${V3}/login`, passwordLogin(`nobody${i}`, 'pw')).finally(() => {
        answered++;
      }),
    );
    // Nothing is released until the queue is full and every other request has been answered;
    // of the queued ones, one per core runs (reaches the gate), the rest wait their turn.
    await waitForWaiting(t.gated, Math.min(MAX_QUEUE, defaultHashingConcurrency()));
    for (let i = 0; i < 400 && answered < extra; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(answered, extra);
    const results = await drain(t.gated, pending);
    const limited = results.filter((r) => r.status === 429);
    assert.equal(limited.length, extra, JSON.stringify(results));
    for (const r of limited) {
      assert.equal(r.body.errcode, 'M_LIMIT_EXCEEDED');
      assert.equal(typeof r.body.retry_after_ms, 'number');
    }
    for (const r of results) assert.ok([403, 429].includes(r.status), JSON.stringify(r));
    assert.ok(t.gated.stats().maxRunning <= Math.min(MAX_QUEUE, defaultHashingConcurrency()));
  });

  it('a challenge that carries a password hashes nothing', async () => {
    const before = t.gated.stats().calls;
    const pending = Array.from({ length: 20 }, (_, i) =>
      t.post(`${V3}/register`, { username: `challenged${i}`, password: 'pw-challenged-1' }),
    );
    const results = await drain(t.gated, pending);
    for (const r of results) assert.equal(r.status, 401, JSON.stringify(r));
    assert.equal(t.gated.stats().calls, before);
  });

  it('rc_registration is counted before hashing: concurrent sign-ups hash only what the bucket allows', async () => {
    const before = t.gated.stats().calls;
    const pending = Array.from({ length: 10 }, (_, i) =>
      t.post(`${V3}/register`, { username: `signup${i}`, password: 'pw-signup-1', auth: { type: 'm.login.dummy' } }),
    );
    const results = await drain(t.gated, pending);
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((st) => st === 200).length, 1, JSON.stringify(results));
    assert.equal(statuses.filter((st) => st === 429).length, 9, JSON.stringify(results));
    assert.equal(t.gated.stats().calls - before, 1);
  });
});

describe('password hashing work with a gate before the last stage', () => {
  let t: Awaited<ReturnType<typeof startWithHasher>>;
  let policies: PolicyDir;
  before(async () => {
    policies = policyDir('1.0', ['en']);
    t = await startWithHasher({
      rc_registration: { per_second: 0.001, burst_count: 3 },
      ...consentConfig(policies.dir),
    });
  });
  after(async () => {
    await t.close();
    policies.cleanup();
  });

  it('a passed gate keeps one hash per session, counted against rc_registration; repeating it hashes nothing more', async () => {
    const before = t.gated.stats().calls;
    const gated = (i: number) =>
      t.post(`${V3}/register`, { username: `gated${i}`, password: 'pw-gated-1', auth: { type: 'm.login.terms' } });
    // The terms pass for anyone: each request starts a session that keeps a hash.
    const first = await drain(t.gated, [gated(0), gated(1)]);
    for (const r of first) assert.equal(r.status, 401, JSON.stringify(r));
    assert.equal(t.gated.stats().calls - before, 2);

    // The same passed stage again, with the password, on a session that kept its hash.
    const session = first[0]!.body.session as string;
    const again = await drain(t.gated, [
      t.post(`${V3}/register`, { password: 'pw-gated-1', auth: { type: 'm.login.terms', session } }),
    ]);
    assert.equal(again[0]!.status, 401, JSON.stringify(again));
    assert.equal(t.gated.stats().calls - before, 2);

    // New sessions: the third slot of the bucket, then 429 before any hashing.
    const more = await drain(t.gated, [gated(2), gated(3), gated(4), gated(5)]);
    const statuses = more.map((r) => r.status);
    assert.equal(statuses.filter((st) => st === 401).length, 1, JSON.stringify(more));
    assert.equal(statuses.filter((st) => st === 429).length, 3, JSON.stringify(more));
    assert.equal(t.gated.stats().calls - before, 3);
  });
});
