import assert from 'node:assert/strict';
import { it } from 'node:test';
import { pino } from 'pino';
import { DeviceActivity } from '../../src/service/device-activity.js';
import type { Requester } from '../../src/service/tokens.js';
import type { DeviceActivityRow } from '../../src/storage/repos/devices.js';
import type { Storage } from '../../src/storage/storage.js';

/** A Storage whose only use here, recordActivity in a transaction, fails while `failing`. */
function fakeStorage() {
  const written: DeviceActivityRow[][] = [];
  const state = { failing: false };
  const storage = {
    transaction: async <T>(fn: (tx: Storage) => Promise<T>) =>
      fn({
        devices: {
          recordActivity: async (rows: readonly DeviceActivityRow[]) => {
            if (state.failing) throw new Error('database down');
            written.push([...rows]);
            return rows.length;
          },
        },
      } as unknown as Storage),
  } as unknown as Storage;
  return { storage, written, state };
}

const requester = (deviceId: string): Requester => ({
  userId: '@u:localhost',
  deviceId,
  isGuest: false,
  isAdmin: false,
  tokenHash: deviceId,
});

it('keeps the latest activity per device, and a failed batch for the next flush unless newer replaced it', async () => {
  const { storage, written, state } = fakeStorage();
  let now = 1_000_000;
  const activity = new DeviceActivity({ storage, clock: { now: () => now }, log: pino({ level: 'silent' }) });
  const a = requester('A');
  const b = requester('B');
  activity.seen(a, '192.0.2.1', 'ua', now);
  activity.seen(a, '192.0.2.2', 'ua', now + 1);
  activity.seen(b, '192.0.2.3', undefined, now + 2);
  assert.equal(activity.pendingCount, 2);

  state.failing = true;
  await activity.flush();
  assert.equal(activity.pendingCount, 2, 'put back after the failure');
  activity.seen(b, '192.0.2.4', undefined, now + 3);

  state.failing = false;
  await activity.flush();
  assert.equal(written.length, 1);
  const byDevice = Object.fromEntries(written[0]!.map((r) => [r.deviceId, r]));
  assert.deepEqual(byDevice.A, {
    userId: '@u:localhost',
    deviceId: 'A',
    ip: '192.0.2.2',
    userAgent: 'ua',
    ts: now + 1,
  });
  assert.deepEqual(byDevice.B, {
    userId: '@u:localhost',
    deviceId: 'B',
    ip: '192.0.2.4',
    userAgent: null,
    ts: now + 3,
  });

  // Within the window nothing is pending, also for a new Requester object of the same device
  // (the token cache revalidated it); after the window it is recorded again.
  activity.seen(a, '192.0.2.2', 'ua', now + 10);
  activity.seen(requester('A'), '192.0.2.2', 'ua', now + 20);
  assert.equal(activity.pendingCount, 0);
  now += 1 + 60_000; // a window after the last write (at now + 1)
  activity.seen(requester('A'), '192.0.2.2', 'ua', now);
  assert.equal(activity.pendingCount, 1);
  await activity.stop();
  assert.equal(written.length, 2);
});
