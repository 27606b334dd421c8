import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { assertChallenge, assertError } from '../helpers/assert.js';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';
import { passwordAuth, passwordLogin, registerUser, type TestUser, v1Password } from '../helpers/users.js';

const V3 = '/_matrix/client/v3';

/** Device ids a client may choose: each must be addressable afterwards under /devices/{id}. */
const ACCEPTED = [
  'A',
  'x'.repeat(512),
  '😀'.repeat(512),
  'a/b',
  'a?b#c',
  '100%',
  'with space',
  '.hidden',
  '...',
  'é',
  'a+b&c=d;e',
  '\u00a0',
];

/** Device ids no device endpoint could address, or over the limit: refused by login and registration alike. */
const REFUSED = ['', '.', '..', 'x'.repeat(513), '😀'.repeat(513), 'a\nb', 'a\tb', 'a\u007fb', 'a\u0085b'];

await describeEachBackend('device ids: one rule for login and registration', (backend) => {
  let s: TestServer;
  let alice: TestUser;
  before(async () => {
    s = await startServer({ backend });
    alice = await registerUser(s, 'alice');
  });
  after(() => s.close());

  const device = (id: string) => `${V3}/devices/${encodeURIComponent(id)}`;

  it('every device id login accepts can be read, renamed and deleted at /devices/{percent-encoded id}', async () => {
    for (const id of ACCEPTED) {
      const label = JSON.stringify(id.slice(0, 20));
      const res = await s.request(
        'POST',
        `${V3}/login`,
        passwordLogin(alice.localpart, alice.password, { device_id: id }),
      );
      assert.equal(res.status, 200, `${label}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.device_id, id);
      const token = res.body.access_token as string;
      const got = await s.request('GET', device(id), undefined, { token });
      assert.equal(got.status, 200, `${label}: ${JSON.stringify(got.body)}`);
      assert.equal(got.body.device_id, id);
      const put = await s.request('PUT', device(id), { display_name: 'renamed' }, { token });
      assert.equal(put.status, 200, `${label}: ${JSON.stringify(put.body)}`);
      assert.equal((await s.request('GET', device(id), undefined, { token })).body.display_name, 'renamed');
      const del = await s.request(
        'DELETE',
        device(id),
        { auth: passwordAuth(alice.userId, alice.password) },
        { token: alice.token },
      );
      assert.equal(del.status, 200, `${label}: ${JSON.stringify(del.body)}`);
      assert.equal(await s.app.storage.devices.find(alice.userId, id), null, label);
    }
  });

  it('login refuses the others with 400 M_INVALID_PARAM and makes no device', async () => {
    for (const id of REFUSED) {
      const res = await s.request(
        'POST',
        `${V3}/login`,
        passwordLogin(alice.localpart, alice.password, { device_id: id }),
      );
      assertError(res, 400, 'M_INVALID_PARAM');
      assert.equal(await s.app.storage.devices.find(alice.userId, id), null);
    }
  });

  it('v3 registration applies the same rule, before the challenge', async () => {
    for (const id of REFUSED) {
      const res = await s.request('POST', `${V3}/register`, { username: 'newcomer', password: 'pw', device_id: id });
      assertError(res, 400, 'M_INVALID_PARAM');
    }
    const id = '😀'.repeat(512);
    const session = assertChallenge(
      await s.request('POST', `${V3}/register`, { username: 'newcomer', password: 'pw' }),
    );
    const done = await s.request('POST', `${V3}/register`, {
      auth: { type: 'm.login.dummy', session },
      password: 'pw',
      device_id: id,
    });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.device_id, id);
    const got = await s.request('GET', device(id), undefined, { token: done.body.access_token });
    assert.equal(got.status, 200, JSON.stringify(got.body));
  });
});

await describeEachBackend('usernames: the grammar judges the characters sent, then A-Z fold', (backend) => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ backend });
  });
  after(() => s.close());

  it('U+212A KELVIN SIGN is refused on v1, v3 and register/available alike; it is not `k`', async () => {
    const kelvin = '\u212Aelvin';
    assertError(
      await s.request('POST', '/_matrix/client/api/v1/register', v1Password(kelvin, 'pw')),
      400,
      'M_INVALID_USERNAME',
    );
    assertError(
      await s.request('POST', `${V3}/register`, { username: kelvin, password: 'pw' }),
      400,
      'M_INVALID_USERNAME',
    );
    const available = await s.request('GET', `${V3}/register/available?username=${encodeURIComponent(kelvin)}`);
    assertError(available, 400, 'M_INVALID_USERNAME');
    assert.equal(await s.app.storage.users.findByUserId('@kelvin:localhost'), null);

    // `kelvin` itself registers, and the Kelvin-sign spelling does not log in to it.
    const user = await registerUser(s, 'kelvin', 'pw');
    assert.equal(user.userId, '@kelvin:localhost');
    assertError(await s.request('POST', `${V3}/login`, passwordLogin(kelvin, 'pw')), 403, 'M_FORBIDDEN');
    assert.equal((await s.request('POST', `${V3}/login`, passwordLogin('KELVIN', 'pw'))).status, 200);
  });
});
