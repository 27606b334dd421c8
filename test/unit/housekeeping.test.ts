import assert from 'node:assert/strict';
import { it } from 'node:test';
import { pino } from 'pino';
import { startHousekeeping } from '../../src/service/housekeeping.js';
import { openDatabase } from '../../src/storage/open.js';
import { createStorage } from '../../src/storage/storage.js';

it('deletes expired UIA sessions and drained rate-limit buckets periodically, keeping live ones', async () => {
  const db = await openDatabase({ kind: 'sqlite', path: ':memory:' });
  const storage = createStorage(db.db, db.dialect);
  const now = 1_000_000;
  const row = (id: string, expires: number) => ({
    session_id: id,
    operation: 'register',
    user_id: null,
    request_body: '{}',
    result: null,
    created_ts: now - 10,
    expires_ts: expires,
  });
  await storage.uiaSessions.create(row('old', now - 1));
  await storage.uiaSessions.create(row('live', now + 60_000));
  // A bucket touched long ago (drained) and one touched just now (still counting).
  await storage.rateLimits.consume('old-bucket', 1, 5, now - 10_000);
  await storage.rateLimits.consume('new-bucket', 1, 5, now - 100);
  const hk = startHousekeeping({
    storage,
    clock: { now: () => now },
    log: pino({ level: 'silent' }),
    rateLimitDrainMs: 5000,
    intervalMs: 5,
  });
  try {
    const bucketKeys = async () => (await db.db.selectFrom('rate_limits').select('key').execute()).map((r) => r.key);
    for (let i = 0; i < 100; i++) {
      if ((await storage.uiaSessions.find('old', 0)) === null && (await bucketKeys()).length === 1) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(await storage.uiaSessions.find('old', 0), null, 'the expired session is gone');
    assert.notEqual(await storage.uiaSessions.find('live', now), null, 'the live session stays');
    assert.deepEqual(await bucketKeys(), ['new-bucket'], 'only the drained bucket is gone');
  } finally {
    hk.stop();
    await db.close();
  }
});
