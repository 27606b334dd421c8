import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { DEFAULT_ACTIVITY_GRANULARITY_MS } from '../../src/service/device-activity.js';
import type { Requester } from '../../src/service/tokens.js';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';
import { newDevice, registerUser, type TestUser, whoami } from '../helpers/users.js';

/**
 * Device activity: the `last_seen_ip` / `last_seen_ts` of GET /devices (spec "Device
 * Management") and the User-Agent beside them, collected per authenticated request and
 * written in batches (service/device-activity.ts).
 */

const V3 = '/_matrix/client/v3';
const UA = 'Tessera-Test/1.0 (device activity)';

/** GET /devices/{id}: itself an authenticated request, sent with the same User-Agent as the others. */
async function deviceOf(s: TestServer, user: TestUser, deviceId: string) {
  const res = await s.request('GET', `${V3}/devices/${deviceId}`, undefined, {
    token: user.token,
    headers: { 'user-agent': UA },
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as { last_seen_ip: string | null; last_seen_ts: number | null };
}

await describeEachBackend('device activity', (backend) => {
  let s: TestServer;
  let now = Date.now();
  const clock = { now: () => now };
  before(async () => {
    // A long interval: these tests flush explicitly; the timer has its own suite below.
    s = await startServer({ backend, clock, deviceActivity: { flushIntervalMs: 3_600_000 } });
  });
  after(() => s.close());
  const activity = () => s.app.services.deviceActivity;

  it('an authenticated request, then a flush: GET /devices shows its address and time', async () => {
    const alice = await registerUser(s, 'alice');
    now += 1000;
    const res = await s.request('GET', `${V3}/account/whoami`, undefined, {
      token: alice.token,
      headers: { 'user-agent': UA },
    });
    assert.equal(res.status, 200);
    await activity().flush();
    const list = await s.request('GET', `${V3}/devices`, undefined, {
      token: alice.token,
      headers: { 'user-agent': UA },
    });
    const d = list.body.devices.find((x: { device_id: string }) => x.device_id === alice.deviceId);
    assert.equal(d.last_seen_ip, '127.0.0.1');
    assert.equal(d.last_seen_ts, now);
    const row = await s.app.storage.devices.find(alice.userId, alice.deviceId);
    assert.equal(row?.last_seen_user_agent, UA);
    assert.equal(activity().pendingCount, 0);
  });

  it('the same device again within the window is not rewritten; a new User-Agent or a later request is', async () => {
    const bob = await registerUser(s, 'bob');
    await s.request('GET', `${V3}/account/whoami`, undefined, { token: bob.token, headers: { 'user-agent': UA } });
    await activity().flush();
    const first = await deviceOf(s, bob, bob.deviceId);
    await activity().flush();

    now += 1000;
    await s.request('GET', `${V3}/account/whoami`, undefined, { token: bob.token, headers: { 'user-agent': UA } });
    assert.equal(activity().pendingCount, 0, 'same address and User-Agent within the window');

    await s.request('GET', `${V3}/account/whoami`, undefined, {
      token: bob.token,
      headers: { 'user-agent': 'Other/2' },
    });
    assert.equal(activity().pendingCount, 1, 'a new User-Agent is recorded at once');
    await activity().flush();
    assert.equal((await s.app.storage.devices.find(bob.userId, bob.deviceId))?.last_seen_user_agent, 'Other/2');

    now += DEFAULT_ACTIVITY_GRANULARITY_MS;
    await s.request('GET', `${V3}/account/whoami`, undefined, {
      token: bob.token,
      headers: { 'user-agent': 'Other/2' },
    });
    assert.equal(activity().pendingCount, 1, 'seen again after the window');
    await activity().flush();
    const later = await deviceOf(s, bob, bob.deviceId);
    assert.equal(later.last_seen_ts, now);
    assert.ok(later.last_seen_ts! > first.last_seen_ts!);
  });

  it('a long User-Agent is truncated, control characters dropped; no header stores null', async () => {
    const carol = await registerUser(s, 'carol');
    const other = await newDevice(s, carol);
    await s.request('GET', `${V3}/account/whoami`, undefined, {
      token: carol.token,
      headers: { 'user-agent': `A\tB${'x'.repeat(2000)}` },
    });
    // fetch always sends a User-Agent unless told otherwise; an empty one is still a header.
    await s.request('GET', `${V3}/account/whoami`, undefined, { token: other.token, headers: { 'user-agent': '' } });
    await activity().flush();
    const row = await s.app.storage.devices.find(carol.userId, carol.deviceId);
    assert.equal(row?.last_seen_user_agent, `AB${'x'.repeat(509)}`);
    assert.equal((await s.app.storage.devices.find(carol.userId, other.deviceId))?.last_seen_user_agent, '');
  });

  it('a flush after the device was deleted neither recreates it nor fails', async () => {
    const dave = await registerUser(s, 'dave');
    const gone = await newDevice(s, dave);
    await activity().flush();
    now += 1000;
    assert.equal((await whoami(s, gone.token)).status, 200);
    assert.equal(activity().pendingCount, 1);
    await s.app.services.devices.deleteDevices(dave.userId, [gone.deviceId]);
    await activity().flush();
    assert.equal(activity().pendingCount, 0, 'written (as nothing), not kept for a retry');
    assert.equal(await s.app.storage.devices.find(dave.userId, gone.deviceId), null);
    const list = await s.request('GET', `${V3}/devices`, undefined, { token: dave.token });
    assert.deepEqual(
      list.body.devices.map((d: { device_id: string }) => d.device_id),
      [dave.deviceId],
    );
  });

  it('one flush writes many devices at once (more than one statement chunk)', async () => {
    const erin = await registerUser(s, 'erin');
    await activity().flush();
    const count = 1234;
    const base = now;
    await s.app.storage.transaction(async (tx) => {
      for (let i = 0; i < count; i++) await tx.devices.upsert(erin.userId, `BATCH${i}`, null, base);
    });
    now += 5000;
    for (let i = 0; i < count; i++) {
      const requester: Requester = {
        userId: erin.userId,
        deviceId: `BATCH${i}`,
        isGuest: false,
        isAdmin: false,
        tokenHash: `h${i}`,
      };
      activity().seen(requester, `192.0.2.${i % 250}`, `ua-${i}`, now + i);
    }
    assert.equal(activity().pendingCount, count);
    await activity().flush();
    assert.equal(activity().pendingCount, 0);
    const rows = (await s.app.storage.devices.listByUser(erin.userId)).filter((r) => r.device_id.startsWith('BATCH'));
    assert.equal(rows.length, count);
    for (const r of rows) {
      const i = Number(r.device_id.slice(5));
      assert.equal(r.last_seen_ip, `192.0.2.${i % 250}`);
      assert.equal(r.last_seen_user_agent, `ua-${i}`);
      assert.equal(Number(r.last_seen_ts), now + i);
    }
  });

  it('an older activity row never overwrites a newer one (another process wrote later)', async () => {
    const fred = await registerUser(s, 'fred');
    const row = (ts: number, ip: string) => ({ userId: fred.userId, deviceId: fred.deviceId, ip, userAgent: null, ts });
    assert.equal(await s.app.storage.devices.recordActivity([row(now + 10_000, '198.51.100.2')]), 1);
    assert.equal(await s.app.storage.devices.recordActivity([row(now + 5_000, '198.51.100.1')]), 0);
    const d = await deviceOf(s, fred, fred.deviceId);
    assert.equal(d.last_seen_ip, '198.51.100.2');
    assert.equal(d.last_seen_ts, now + 10_000);
    // No row for an unknown device is created either.
    const ghost = { ...row(now, '198.51.100.3'), deviceId: 'NO-SUCH-DEVICE' };
    assert.equal(await s.app.storage.devices.recordActivity([ghost]), 0);
    assert.equal(await s.app.storage.devices.find(fred.userId, 'NO-SUCH-DEVICE'), null);
  });

  it('graceful shutdown writes what is pending', async () => {
    const gina = await registerUser(s, 'gina');
    await activity().flush();
    now += 1000;
    await s.request('GET', `${V3}/account/whoami`, undefined, { token: gina.token, headers: { 'user-agent': UA } });
    assert.equal(activity().pendingCount, 1);
    await s.restart();
    const d = await deviceOf(s, gina, gina.deviceId);
    assert.equal(d.last_seen_ip, '127.0.0.1');
    assert.equal(d.last_seen_ts, now);
  });
});

await describeEachBackend('device activity: timer and proxies', (backend) => {
  let s: TestServer;
  before(async () => {
    s = await startServer({
      backend,
      deviceActivity: { flushIntervalMs: 25 },
      // The default trusted_proxies (this machine) are believed on this listener.
      config: { listeners: [{ port: 0, bind_addresses: ['127.0.0.1'], x_forwarded: true }] },
    });
  });
  after(() => s.close());

  it('the timer writes the batch; X-Forwarded-For from a trusted proxy is the address recorded', async () => {
    const user = await registerUser(s, 'henry');
    const before = Date.now();
    const res = await s.request('GET', `${V3}/account/whoami`, undefined, {
      token: user.token,
      headers: { 'x-forwarded-for': '198.51.100.7, 203.0.113.9', 'user-agent': UA },
    });
    assert.equal(res.status, 200);
    // Read the database directly: GET /devices would itself be activity from 127.0.0.1.
    let d = await s.app.storage.devices.find(user.userId, user.deviceId);
    for (let i = 0; i < 200 && d?.last_seen_ip === null; i++) {
      await new Promise((r) => setTimeout(r, 10));
      d = await s.app.storage.devices.find(user.userId, user.deviceId);
    }
    // The rightmost address that is not a trusted proxy (README "Client addresses and proxies").
    assert.equal(d?.last_seen_ip, '203.0.113.9');
    assert.equal(d?.last_seen_user_agent, UA);
    assert.ok(Number(d.last_seen_ts) >= before && Number(d.last_seen_ts) <= Date.now());
  });
});
