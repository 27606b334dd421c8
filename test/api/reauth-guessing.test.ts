import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { assertError, assertPasswordChallenge } from '../helpers/assert.js';
import { describeEachBackend, startServer, type TestServer, UNLIMITED_RATES } from '../helpers/server.js';
import { loginErrcode, passwordAuth, passwordLogin, registerUser, type TestUser } from '../helpers/users.js';

// Re-authentication must not let one user test another account's password, and wrong
// re-authentication passwords count like wrong login passwords (rc_login.failed_attempts).

const V3 = '/_matrix/client/v3';
const DELETE_DEVICES = `${V3}/delete_devices`;
const PASSWORD = `${V3}/account/password`;

const sessionRows = (s: TestServer) => s.app.storage.uiaSessions.count();

await describeEachBackend('re-authentication: identifiers and guessing', (backend) => {
  let s: TestServer;
  let mallory: TestUser;
  let victim: TestUser;
  before(async () => {
    s = await startServer({
      backend,
      config: {
        ...UNLIMITED_RATES,
        rc_login: { ...UNLIMITED_RATES.rc_login, failed_attempts: { per_second: 0.001, burst_count: 3 } },
      },
    });
    mallory = await registerUser(s, 'mallory');
    victim = await registerUser(s, 'victim');
  });
  after(() => s.close());

  it('another account’s identifier gets the same 403 whether its password is right or wrong', async () => {
    const answers = [];
    for (const password of [victim.password, 'wrong-guess']) {
      for (const user of ['victim', victim.userId, '@VICTIM:localhost']) {
        const res = await s.request(
          'POST',
          DELETE_DEVICES,
          { devices: [], auth: passwordAuth(user, password) },
          { token: mallory.token },
        );
        assertError(res, 403, 'M_FORBIDDEN');
        answers.push(res.body);
      }
    }
    for (const a of answers) assert.deepEqual(a, answers[0]);
    // Nothing was counted against the victim: the guesses never reached the password check.
    assert.equal(await loginErrcode(s, victim.userId, victim.password), null);
  });

  it('a refused guess leaves no session row behind', async () => {
    const before = await sessionRows(s);
    for (let i = 0; i < 3; i++) {
      assertError(
        await s.request(
          'POST',
          DELETE_DEVICES,
          { devices: [], auth: passwordAuth('victim', `guess-${i}`) },
          { token: mallory.token },
        ),
        403,
        'M_FORBIDDEN',
      );
    }
    assert.equal(await sessionRows(s), before);
  });

  it('a wrong own password without a session: 401 M_FORBIDDEN, no session stored', async () => {
    const owner = await registerUser(s, 'owner1');
    const before = await sessionRows(s);
    const res = await s.request(
      'POST',
      DELETE_DEVICES,
      { devices: [], auth: passwordAuth(owner.userId, 'wrong') },
      { token: owner.token },
    );
    assert.equal(res.status, 401, JSON.stringify(res.body));
    assert.equal(res.body.errcode, 'M_FORBIDDEN');
    assert.deepEqual(res.body.flows, [{ stages: ['m.login.password'] }]);
    assert.equal(res.body.session, undefined);
    assert.equal(await sessionRows(s), before);
  });

  it('wrong re-authentication passwords fill rc_login.failed_attempts: then even the right one is 429, login too', async () => {
    const owner = await registerUser(s, 'owner2');
    const session = assertPasswordChallenge(await s.request('POST', PASSWORD, {}, { token: owner.token }));
    for (let i = 0; i < 3; i++) {
      const res = await s.request(
        'POST',
        PASSWORD,
        { new_password: 'new-pw-2', auth: passwordAuth('owner2', `wrong-${i}`, session) },
        { token: owner.token },
      );
      assertPasswordChallenge(res, 'M_FORBIDDEN');
    }
    const right = await s.request(
      'POST',
      PASSWORD,
      { new_password: 'new-pw-2', auth: passwordAuth('owner2', owner.password, session) },
      { token: owner.token },
    );
    assertError(right, 429, 'M_LIMIT_EXCEEDED');
    assert.equal(typeof right.body.retry_after_ms, 'number');
    // One bucket per account for /login and re-authentication.
    assertError(
      await s.request('POST', `${V3}/login`, passwordLogin('owner2', owner.password)),
      429,
      'M_LIMIT_EXCEEDED',
    );
    // Nothing changed.
    assert.equal((await s.app.services.passwordAuth.verify('owner2', owner.password)).user_id, owner.userId);
  });

  it('right re-authentication passwords do not fill the bucket', async () => {
    const owner = await registerUser(s, 'owner3');
    for (let i = 0; i < 5; i++) {
      const res = await s.request(
        'POST',
        DELETE_DEVICES,
        { devices: [], auth: passwordAuth(owner.userId, owner.password) },
        { token: owner.token },
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
  });
});
