import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { assertError } from '../helpers/assert.js';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';
import { sharedSecretBody, sharedSecretMac } from '../helpers/shared-secret.js';
import { login, whoami } from '../helpers/users.js';

const URL = '/_synapse/admin/v1/register';
const SECRET = 'a shared secret';

async function nonce(s: TestServer): Promise<string> {
  const res = await s.request('GET', URL);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.nonce;
}

/** Register through the protocol as register_new_matrix_user does: GET a nonce, POST the MAC. */
async function register(
  s: TestServer,
  username: string,
  password: string,
  admin: boolean,
  userType: string | null = null,
) {
  return s.request('POST', URL, sharedSecretBody(SECRET, await nonce(s), username, password, admin, userType));
}

await describeEachBackend('shared-secret registration (Synapse admin API)', (backend) => {
  let s: TestServer;
  let now = Date.now();
  const clock = { now: () => now };
  before(async () => {
    // Public registration closed: shared-secret registration must not need it.
    s = await startServer({
      backend,
      clock,
      config: { enable_registration: false, registration_shared_secret: SECRET },
    });
  });
  after(() => s.close());

  it('GET gives a new hex nonce each time, without authentication', async () => {
    const a = await nonce(s);
    const b = await nonce(s);
    assert.match(a, /^[0-9a-f]{32,}$/);
    assert.notEqual(a, b);
  });

  it('creates an admin who is logged in and can log in with the password, while registration is closed', async () => {
    const res = await register(s, 'Root', 'pw one', true);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.user_id, '@root:localhost');
    assert.equal(res.body.home_server, 'localhost');
    assert.equal(typeof res.body.device_id, 'string');
    assert.equal((await whoami(s, res.body.access_token)).body.user_id, '@root:localhost');
    await login(s, 'root', 'pw one');
    const row = await s.app.storage.users.findByUserId('@root:localhost');
    assert.equal(row?.is_admin, 1);
    assertError(
      await s.request('POST', '/_matrix/client/v3/register', { username: 'x', password: 'y' }),
      403,
      'M_FORBIDDEN',
    );
  });

  it('creates an ordinary user with --no-admin, and a bot with its user type', async () => {
    const plain = await register(s, 'plain', 'pw', false);
    assert.equal(plain.status, 200, JSON.stringify(plain.body));
    assert.equal((await s.app.storage.users.findByUserId('@plain:localhost'))?.is_admin, 0);
    const bot = await register(s, 'robot', 'pw', false, 'bot');
    assert.equal(bot.status, 200, JSON.stringify(bot.body));
    assert.equal((await s.app.storage.users.findByUserId('@robot:localhost'))?.user_type, 'bot');
  });

  it('a wrong MAC is 403 M_FORBIDDEN and creates nothing; the flag is covered by the MAC', async () => {
    const n = await nonce(s);
    const body = sharedSecretBody('wrong secret', n, 'mallory', 'pw', false);
    assertError(await s.request('POST', URL, body), 403, 'M_FORBIDDEN');
    // A MAC for notadmin does not make an admin.
    const flipped = { ...sharedSecretBody(SECRET, n, 'mallory', 'pw', false), admin: true };
    assertError(await s.request('POST', URL, flipped), 403, 'M_FORBIDDEN');
    assert.equal(await s.app.storage.users.findByLocalpart('mallory'), null);
  });

  it('a nonce is used once: the second use is 400 "unrecognised nonce"', async () => {
    const n = await nonce(s);
    assert.equal((await s.request('POST', URL, sharedSecretBody(SECRET, n, 'once', 'pw', false))).status, 200);
    const again = await s.request('POST', URL, sharedSecretBody(SECRET, n, 'twice', 'pw', false));
    assertError(again, 400, 'M_UNKNOWN');
    assert.equal(again.body.error, 'unrecognised nonce');
    assert.equal(await s.app.storage.users.findByLocalpart('twice'), null);
  });

  it('of concurrent uses of one nonce exactly one registers', async () => {
    const n = await nonce(s);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => s.request('POST', URL, sharedSecretBody(SECRET, n, `race${i}`, 'pw', false))),
    );
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 400, 400, 400, 400, 400, 400, 400]);
    for (const r of results.filter((r) => r.status === 400)) assert.equal(r.body.error, 'unrecognised nonce');
  });

  it('a nonce expires after 60 seconds; forged or unknown nonces are refused', async () => {
    const n = await nonce(s);
    now += 61_000;
    try {
      assertError(await s.request('POST', URL, sharedSecretBody(SECRET, n, 'late', 'pw', false)), 400, 'M_UNKNOWN');
    } finally {
      now -= 61_000;
    }
    const forged = `${n.slice(0, -1)}${n.endsWith('0') ? '1' : '0'}`;
    assertError(await s.request('POST', URL, sharedSecretBody(SECRET, forged, 'late', 'pw', false)), 400, 'M_UNKNOWN');
    assertError(await s.request('POST', URL, sharedSecretBody(SECRET, 'abcd', 'late', 'pw', false)), 400, 'M_UNKNOWN');
    assert.equal(await s.app.storage.users.findByLocalpart('late'), null);
  });

  it('names Synapse gives errors for: invalid, taken in any case', async () => {
    assertError(await register(s, 'bad name', 'pw', false), 400, 'M_INVALID_USERNAME');
    assertError(await register(s, 'ROOT', 'pw', false), 400, 'M_USER_IN_USE');
  });

  it('missing and mistyped fields are 400 Matrix errors', async () => {
    const n = await nonce(s);
    const full = sharedSecretBody(SECRET, n, 'fields', 'pw', false);
    for (const key of ['nonce', 'username', 'password', 'mac']) {
      const { [key]: _gone, ...rest } = full;
      const res = await s.request('POST', URL, rest);
      assertError(res, 400, 'M_BAD_JSON');
      assert.equal(res.body.error, `${key} must be specified`);
      assertError(await s.request('POST', URL, { ...full, [key]: 5 }), 400, 'M_INVALID_PARAM');
    }
    assertError(await s.request('POST', URL, { ...full, admin: 'yes' }), 400, 'M_INVALID_PARAM');
    const wizard = { ...full, user_type: 'wizard', mac: sharedSecretMac(SECRET, n, 'fields', 'pw', false, 'wizard') };
    assertError(await s.request('POST', URL, wizard), 400, 'M_INVALID_PARAM');
    assertError(await s.request('POST', URL, { ...full, password: 'x'.repeat(513) }), 400, 'M_INVALID_PARAM');
    assertError(await s.request('POST', URL, [full]), 400, 'M_BAD_JSON');
    assertError(await s.request('POST', URL, undefined, { raw: 'nope' }), 400, 'M_NOT_JSON');
    // None of these spent the nonce.
    assert.equal((await s.request('POST', URL, full)).status, 200);
  });

  it('a nonce issued by one process is accepted by another on the same database, once', async () => {
    const other = await startServer({ shareDatabaseWith: s, clock, config: { registration_shared_secret: SECRET } });
    try {
      const n = await nonce(s);
      const res = await other.request('POST', URL, sharedSecretBody(SECRET, n, 'elsewhere', 'pw', false));
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assertError(
        await s.request('POST', URL, sharedSecretBody(SECRET, n, 'elsewhere2', 'pw', false)),
        400,
        'M_UNKNOWN',
      );
    } finally {
      await other.close();
    }
  });
});

await describeEachBackend('shared-secret registration without a secret', (backend) => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ backend });
  });
  after(() => s.close());

  it('POST is 400 "Shared secret registration is not enabled"; GET still gives a nonce', async () => {
    const n = await nonce(s);
    const res = await s.request('POST', URL, sharedSecretBody(SECRET, n, 'nobody', 'pw', false));
    assertError(res, 400, 'M_UNKNOWN');
    assert.equal(res.body.error, 'Shared secret registration is not enabled');
    assert.equal(await s.app.storage.users.findByLocalpart('nobody'), null);
  });
});
