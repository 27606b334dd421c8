import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { MAX_DELETE_DEVICES, MAX_DEVICE_ID_LENGTH, MAX_USER_ID_LENGTH } from '../../src/limits.js';
import { assertChallenge, assertError, assertLoggedOut, assertPasswordChallenge } from '../helpers/assert.js';
import { countRows, countWhere } from '../helpers/rows.js';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';
import {
  newDevice,
  passwordAuth,
  passwordLogin,
  registerUser,
  type TestUser,
  v1Password,
  whoami,
  whoamiStatus,
} from '../helpers/users.js';

const V3 = '/_matrix/client/v3';
const REGISTER = `${V3}/register`;
const LOGIN = `${V3}/login`;

/**
 * Every string a client sends that Tessera stores or looks up by index has a length limit
 * (src/limits.ts), checked where the request enters: 400 with a Matrix errcode, before any
 * hashing or storage, the same on SQLite and PostgreSQL (whose btree keys cannot exceed ~2,700
 * bytes, so an unchecked long key used to be a 500 there).
 */
await describeEachBackend('length limits on what clients send', (backend) => {
  let s: TestServer;
  let alice: TestUser;
  before(async () => {
    s = await startServer({
      backend,
      // Room for a body with a 1 MB display name, so the limit under test is the field's own.
      config: { max_request_body_size: 4 * 1024 * 1024, allow_guest_access: true },
    });
    alice = await registerUser(s, 'alice');
  });
  after(() => s.close());

  const sessions = () => countRows(s, 'uia_sessions');
  const users = () => countRows(s, 'users');
  const devices = () => countRows(s, 'devices');

  it('login: a user longer than any user id is 400 M_INVALID_PARAM, and no rate-limit key is stored for it', async () => {
    const long = 'u'.repeat(3000);
    for (const body of [
      passwordLogin(long, 'pw'),
      passwordLogin(`@${long}:localhost`, 'pw'),
      { type: 'm.login.password', user: long, password: 'pw' },
      passwordLogin('u'.repeat(MAX_USER_ID_LENGTH + 1), 'pw'),
    ]) {
      assertError(await s.request('POST', LOGIN, body), 400, 'M_INVALID_PARAM');
    }
    assert.equal(await countWhere(s, `SELECT count(*) AS n FROM rate_limits WHERE length(key) > 300`), 0);
    // The longest possible id is still judged as a login: wrong password, 403.
    assertError(
      await s.request('POST', LOGIN, passwordLogin('u'.repeat(MAX_USER_ID_LENGTH), 'pw')),
      403,
      'M_FORBIDDEN',
    );
  });

  it('login: a 3,000-character device_id or a 101-character display name is 400 and makes no device', async () => {
    const before = await devices();
    const longDevice = passwordLogin(alice.localpart, alice.password, { device_id: 'D'.repeat(3000) });
    assertError(await s.request('POST', LOGIN, longDevice), 400, 'M_INVALID_PARAM');
    const longName = passwordLogin(alice.localpart, alice.password, { initial_device_display_name: 'n'.repeat(101) });
    assertError(await s.request('POST', LOGIN, longName), 400, 'M_TOO_LARGE');
    assert.equal(await devices(), before);
  });

  it('v3 register: a 20,000-character device_id is 400 M_INVALID_PARAM at the challenge and at completion; nothing stored', async () => {
    const deviceId = 'd'.repeat(20_000);
    const [sessionsBefore, usersBefore] = [await sessions(), await users()];
    assertError(
      await s.request('POST', REGISTER, { username: 'longdev', password: 'pw', device_id: deviceId }),
      400,
      'M_INVALID_PARAM',
    );
    assert.equal(await sessions(), sessionsBefore, 'the challenge stored no session');

    const session = assertChallenge(await s.request('POST', REGISTER, { username: 'longdev', password: 'pw' }));
    const done = await s.request('POST', REGISTER, { auth: { type: 'm.login.dummy', session }, device_id: deviceId });
    assertError(done, 400, 'M_INVALID_PARAM');
    assert.equal(await users(), usersBefore, 'no account was created');
    const row = await s.app.storage.uiaSessions.find(session, Date.now());
    assert.ok(row !== null && !row.request_body.includes('dddd'), 'the session did not take the device id');
  });

  it('v3 register: a 1 MB display name is 400 M_TOO_LARGE at the challenge and at completion; nothing stored', async () => {
    const name = 'n'.repeat(1_000_000);
    const [sessionsBefore, usersBefore, devicesBefore] = [await sessions(), await users(), await devices()];
    const challenge = await s.request('POST', REGISTER, { username: 'bigname', initial_device_display_name: name });
    assertError(challenge, 400, 'M_TOO_LARGE');
    assert.equal(await sessions(), sessionsBefore);

    const session = assertChallenge(await s.request('POST', REGISTER, { username: 'bigname', password: 'pw' }));
    const done = await s.request('POST', REGISTER, {
      auth: { type: 'm.login.dummy', session },
      initial_device_display_name: name,
    });
    assertError(done, 400, 'M_TOO_LARGE');
    const guest = await s.request('POST', `${REGISTER}?kind=guest`, { initial_device_display_name: 'g'.repeat(101) });
    assertError(guest, 400, 'M_TOO_LARGE');
    assert.equal(await users(), usersBefore);
    assert.equal(await devices(), devicesBefore);
    // 100 characters (not UTF-16 units) is still fine.
    const ok = await s.request('POST', REGISTER, {
      auth: { type: 'm.login.dummy', session },
      password: 'pw',
      initial_device_display_name: '😀'.repeat(100),
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });

  it('register: a username longer than a user id is M_INVALID_USERNAME on v1 and v3; nothing stored', async () => {
    const long = 'l'.repeat(3000);
    const [sessionsBefore, usersBefore] = [await sessions(), await users()];
    assertError(await s.request('POST', REGISTER, { username: long, password: 'pw' }), 400, 'M_INVALID_USERNAME');
    assertError(
      await s.request('POST', '/_matrix/client/api/v1/register', v1Password(long, 'pw')),
      400,
      'M_INVALID_USERNAME',
    );
    assert.equal(await sessions(), sessionsBefore);
    assert.equal(await users(), usersBefore);
  });

  it('a token longer than any Tessera issues is unknown: 401 M_UNKNOWN_TOKEN', async () => {
    const long = `tsr_${'x'.repeat(3000)}`;
    assertLoggedOut(await s.request('POST', `${V3}/refresh`, { refresh_token: long }));
    assertError(await whoami(s, `tsa_${'x'.repeat(3000)}`), 401, 'M_UNKNOWN_TOKEN');
  });

  it('DELETE /devices/{id}: an id over the device-id limit is 400 M_INVALID_PARAM before any challenge', async () => {
    const sessionsBefore = await sessions();
    const path = `${V3}/devices/${'x'.repeat(MAX_DEVICE_ID_LENGTH + 1)}`;
    assertError(await s.request('DELETE', path, {}, { token: alice.token }), 400, 'M_INVALID_PARAM');
    assertError(await s.request('GET', path, undefined, { token: alice.token }), 400, 'M_INVALID_PARAM');
    assertError(await s.request('PUT', path, { display_name: 'x' }, { token: alice.token }), 400, 'M_INVALID_PARAM');
    assert.equal(await sessions(), sessionsBefore);
  });

  it(`POST /delete_devices: more than ${MAX_DELETE_DEVICES} ids, or an over-long id, is 400 M_BAD_JSON before any challenge`, async () => {
    const sessionsBefore = await sessions();
    const path = `${V3}/delete_devices`;
    const tooMany = Array.from({ length: MAX_DELETE_DEVICES + 1 }, (_, i) => `D${i}`);
    const auth = passwordAuth(alice.userId, alice.password);
    assertError(await s.request('POST', path, { devices: tooMany }, { token: alice.token }), 400, 'M_BAD_JSON');
    assertError(await s.request('POST', path, { devices: tooMany, auth }, { token: alice.token }), 400, 'M_BAD_JSON');
    const tooLong = { devices: ['x'.repeat(MAX_DEVICE_ID_LENGTH + 1)] };
    assertError(await s.request('POST', path, tooLong, { token: alice.token }), 400, 'M_BAD_JSON');
    assert.equal(await sessions(), sessionsBefore);
    assert.equal(await whoamiStatus(s, alice.token), 200);
  });

  it(`POST /delete_devices: ${MAX_DELETE_DEVICES} ids delete the listed devices and their tokens, and only those`, async () => {
    const a = await newDevice(s, alice);
    const b = await newDevice(s, alice);
    const keep = await newDevice(s, alice);
    const ids = Array.from({ length: MAX_DELETE_DEVICES - 2 }, (_, i) => `UNKNOWN${i}`);
    // The real ids at both ends of the list: the deletes are chunked, every chunk must count.
    const body = { devices: [a.deviceId, ...ids, b.deviceId] };
    const first = await s.request('POST', `${V3}/delete_devices`, body, { token: alice.token });
    const session = assertPasswordChallenge(first);
    const res = await s.request(
      'POST',
      `${V3}/delete_devices`,
      { ...body, auth: passwordAuth(alice.userId, alice.password, session) },
      { token: alice.token },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assertLoggedOut(await whoami(s, a.token));
    assertLoggedOut(await whoami(s, b.token));
    assert.equal(await whoamiStatus(s, keep.token), 200);
    assert.equal(await whoamiStatus(s, alice.token), 200);
    assert.equal((await s.app.storage.devices.find(alice.userId, a.deviceId)) === null, true);
    assert.equal((await s.app.storage.devices.find(alice.userId, keep.deviceId)) === null, false);
  });
});
