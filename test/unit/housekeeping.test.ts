import assert from 'node:assert/strict';
import { it } from 'node:test';
import { pino } from 'pino';
import { startHousekeeping } from '../../src/service/housekeeping.js';
import { openDatabase } from '../../src/storage/open.js';
import { createStorage } from '../../src/storage/storage.js';

it('deletes expired UIA sessions periodically and keeps live ones', async () => {
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
  const hk = startHousekeeping({ storage, clock: { now: () => now }, log: pino({ level: 'silent' }), intervalMs: 5 });
  try {
    for (let i = 0; i < 100 && (await storage.uiaSessions.find('old', 0)) !== null; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(await storage.uiaSessions.find('old', 0), null, 'the expired session is gone');
    assert.notEqual(await storage.uiaSessions.find('live', now), null, 'the live session stays');
  } finally {
    hk.stop();
    await db.close();
  }
});
