import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { assertPasswordChallenge } from '../helpers/assert.js';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';
import { loginErrcode, newDevice, passwordAuth, registerUser, whoamiStatus } from '../helpers/users.js';

// A completed re-authentication authorises one run of its operation, however many requests
// complete the same session at once.

const V3 = '/_matrix/client/v3';
const PASSWORD = `${V3}/account/password`;
const N = 8;

await describeEachBackend('re-authentication: one session, concurrent requests', (backend) => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ backend });
  });
  after(() => s.close());

  // A loser that completed the stage before the winner committed gets a 401 challenge; one that
  // arrives after it finds the session gone: 400 "Unknown session", as Synapse answers.
  it('concurrent password changes on one session: exactly one 200, no 5xx, its password is set', async () => {
    const alice = await registerUser(s, 'alice');
    const session = assertPasswordChallenge(await s.request('POST', PASSWORD, {}, { token: alice.token }));
    const results = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        s.request(
          'POST',
          PASSWORD,
          { new_password: `concurrent-pw-${i}`, auth: passwordAuth(alice.userId, alice.password, session) },
          { token: alice.token },
        ),
      ),
    );
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((st) => st === 200).length, 1, JSON.stringify(results.map((r) => r.body)));
    for (const r of results) {
      if (r.status === 200) continue;
      assert.ok([400, 401].includes(r.status), JSON.stringify(r.body));
      assert.equal(typeof r.body.errcode, 'string', JSON.stringify(r.body));
    }
    const winner = statuses.indexOf(200);
    for (let i = 0; i < N; i++) {
      assert.equal(await loginErrcode(s, alice.userId, `concurrent-pw-${i}`), i === winner ? null : 'M_FORBIDDEN');
    }
    // The session is used up.
    const again = await s.request(
      'POST',
      PASSWORD,
      { new_password: 'replayed-pw', auth: passwordAuth(alice.userId, `concurrent-pw-${winner}`, session) },
      { token: alice.token },
    );
    assert.equal(again.status, 400, JSON.stringify(again.body));
  });

  it('concurrent device deletions on one session: one 200, the rest 4xx, never 5xx', async () => {
    const bob = await registerUser(s, 'bob');
    const devices = await Promise.all(Array.from({ length: N }, () => newDevice(s, bob)));
    const session = assertPasswordChallenge(
      await s.request('POST', `${V3}/delete_devices`, { devices: [] }, { token: bob.token }),
    );
    const results = await Promise.all(
      devices.map((d) =>
        s.request(
          'POST',
          `${V3}/delete_devices`,
          { devices: [d.deviceId], auth: passwordAuth(bob.userId, bob.password, session) },
          { token: bob.token },
        ),
      ),
    );
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((st) => st === 200).length, 1, JSON.stringify(results.map((r) => r.body)));
    for (const st of statuses) assert.ok([200, 400, 401].includes(st), JSON.stringify(statuses));
    const alive = await Promise.all(devices.map((d) => whoamiStatus(s, d.token)));
    assert.equal(alive.filter((st) => st === 401).length, 1);
  });
});
