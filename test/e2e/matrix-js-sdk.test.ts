// A real client: matrix-js-sdk 37.5.0 (the SDK behind Element Web) registers through
// user-interactive auth, logs in, calls whoami and logs out against a real Tessera.
// Never skipped: the SDK is a devDependency.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { type AuthDict, createClient, InteractiveAuth, type MatrixClient, MatrixError } from 'matrix-js-sdk';
import { type Logger, logger } from 'matrix-js-sdk/lib/logger.js';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';

/** The SDK's loggers are loglevel loggers at run time; their published type omits setLevel. */
function setLevel(l: Logger, level: 'warn' | 'silent'): void {
  (l as unknown as { setLevel(level: string): void }).setLevel(level);
}
setLevel(logger, 'warn');
/**
 * For a client whose token is revoked on purpose: the SDK logs the expected 401 at error level
 * ("Unable to refresh token").
 */
const silentLogger = logger.getChild('tessera-test-logged-out');
setLevel(silentLogger, 'silent');

const PASSWORD = 'correct horse battery staple';

/** The MatrixError a call rejected with (fails the test if it resolved or threw something else). */
async function matrixError(call: Promise<unknown>): Promise<MatrixError> {
  try {
    await call;
  } catch (err) {
    assert.ok(err instanceof MatrixError, `expected a MatrixError, got ${String(err)}`);
    return err;
  }
  assert.fail('the call succeeded but should have failed');
}

await describeEachBackend('matrix-js-sdk 37.5.0 against Tessera', (backend) => {
  let s: TestServer;
  /** Anonymous client, as an app has before anyone signs in. */
  let anon: MatrixClient;
  const authed = (accessToken: string, userId: string, deviceId: string, quiet = false) =>
    createClient({ baseUrl: s.url, accessToken, userId, deviceId, ...(quiet && { logger: silentLogger }) });

  before(async () => {
    s = await startServer({ backend });
    anon = createClient({ baseUrl: s.url });
  });
  after(() => s.close());

  it('registerRequest: 401 challenge with flows and session, then m.login.dummy creates the account', async () => {
    const challenge = await matrixError(anon.registerRequest({ username: 'jsalice', password: PASSWORD }));
    assert.equal(challenge.httpStatus, 401);
    const data = challenge.data as { flows?: { stages: string[] }[]; session?: string; params?: unknown };
    assert.ok(
      data.flows?.some((f) => f.stages.length === 1 && f.stages[0] === 'm.login.dummy'),
      JSON.stringify(data),
    );
    assert.equal(typeof data.session, 'string');
    assert.ok(data.session!.length > 0);
    assert.equal(typeof data.params, 'object');

    const res = await anon.registerRequest({
      username: 'jsalice',
      password: PASSWORD,
      initial_device_display_name: 'js-sdk test',
      auth: { type: 'm.login.dummy', session: data.session! },
    });
    assert.equal(res.user_id, '@jsalice:localhost');
    assert.equal(typeof res.access_token, 'string');
    assert.equal(typeof res.device_id, 'string');
    assert.ok(res.device_id!.length > 0);

    const who = await authed(res.access_token!, res.user_id, res.device_id!).whoami();
    assert.equal(who.user_id, '@jsalice:localhost');
    assert.equal(who.device_id, res.device_id);
    assert.equal(who.is_guest, false);

    // The name is taken now, for the SDK's availability check as well.
    assert.equal(await anon.isUsernameAvailable('jsnobody'), true);
    // The SDK maps the server's 400 M_USER_IN_USE to false (anything else would reject).
    assert.equal(await anon.isUsernameAvailable('jsalice'), false);
  });

  it("InteractiveAuth.attemptAuth drives the whole UIA flow (Element's registration path)", async () => {
    const stages: string[] = [];
    const ia = new InteractiveAuth({
      matrixClient: anon,
      doRequest: (auth: AuthDict | null) =>
        anon.registerRequest({ username: 'jsbob', password: PASSWORD, ...(auth !== null && { auth }) }),
      stateUpdated: (stage: string) => {
        stages.push(stage);
      },
      requestEmailToken: async () => assert.fail('no email stage is offered'),
    });
    const res = await ia.attemptAuth();
    assert.equal(res.user_id, '@jsbob:localhost');
    assert.equal(typeof res.access_token, 'string');
    assert.ok(ia.getSessionId(), 'the SDK picked up the session from the 401');
    assert.deepEqual(ia.getChosenFlow()?.stages, ['m.login.dummy']);
  });

  it('loginFlows offers m.login.password', async () => {
    const { flows } = await anon.loginFlows();
    assert.ok(
      flows.some((f) => f.type === 'm.login.password'),
      JSON.stringify(flows),
    );
  });

  it('loginRequest, whoami, logout, then the token is M_UNKNOWN_TOKEN and other sessions live on', async () => {
    const registered = await anon.registerRequest({
      username: 'jscarol',
      password: PASSWORD,
      auth: { type: 'm.login.dummy' },
    });
    const login = await anon.loginRequest({
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: 'jscarol' },
      password: PASSWORD,
      initial_device_display_name: 'js-sdk login',
    });
    assert.equal(login.user_id, '@jscarol:localhost');
    assert.equal(typeof login.access_token, 'string');
    assert.notEqual(login.access_token, registered.access_token);
    assert.notEqual(login.device_id, registered.device_id, 'a login without device_id makes a new device');
    assert.equal(login.well_known, undefined);

    const client = authed(login.access_token, login.user_id, login.device_id, true);
    assert.deepEqual(await client.whoami(), {
      user_id: '@jscarol:localhost',
      device_id: login.device_id,
      is_guest: false,
    });

    assert.deepEqual(await client.logout(), {});
    const gone = await matrixError(client.whoami());
    assert.equal(gone.httpStatus, 401);
    assert.equal(gone.errcode, 'M_UNKNOWN_TOKEN');
    assert.equal((gone.data as { soft_logout?: boolean }).soft_logout, false);

    // Logging out one device leaves the registration's device signed in.
    const other = await authed(registered.access_token!, registered.user_id, registered.device_id!).whoami();
    assert.equal(other.device_id, registered.device_id);
  });

  it('the legacy `user` login form and a full user id both work; a wrong password is M_FORBIDDEN', async () => {
    await anon.registerRequest({ username: 'jsdave', password: PASSWORD, auth: { type: 'm.login.dummy' } });
    const legacy = await anon.loginRequest({ type: 'm.login.password', user: 'jsdave', password: PASSWORD });
    assert.equal(legacy.user_id, '@jsdave:localhost');
    const full = await anon.loginRequest({
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: '@JSDave:localhost' },
      password: PASSWORD,
    });
    assert.equal(full.user_id, '@jsdave:localhost');

    const wrong = await matrixError(
      anon.loginRequest({
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: 'jsdave' },
        password: 'not the password',
      }),
    );
    assert.equal(wrong.httpStatus, 403);
    assert.equal(wrong.errcode, 'M_FORBIDDEN');
  });

  it('a request without a token is M_MISSING_TOKEN', async () => {
    const missing = await matrixError(anon.whoami());
    assert.equal(missing.httpStatus, 401);
    assert.equal(missing.errcode, 'M_MISSING_TOKEN');
  });
});
