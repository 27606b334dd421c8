// A real client: Python's matrix-nio (Debian's python3-matrix-nio 0.20) registers, logs in,
// calls whoami and logs out against a real Tessera. nio speaks the r0 paths
// and sends the token as ?access_token=, so this also proves those aliases work.
//
// The script runs under /usr/bin/python3 (Debian's nio installs there; a pyenv python3 on PATH
// may lack it). In CI (CI=true) a missing nio is a failure, never a skip; `.ci/run` installs it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';

const run = promisify(execFile);
const PYTHON = process.env.TESSERA_TEST_PYTHON ?? '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./nio_client.py', import.meta.url));
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

async function nioVersion(): Promise<string | null> {
  try {
    const { stdout } = await run(PYTHON, ['-c', 'import importlib.metadata as m; print(m.version("matrix-nio"))']);
    return stdout.trim();
  } catch {
    return null;
  }
}

const version = await nioVersion();
if (version === null && !IN_CI) {
  process.stderr.write(
    `\n!!! matrix-nio is not importable by ${PYTHON}: SKIPPING the matrix-nio client tests.\n` +
      '!!! Install it with `apt-get install -y python3-matrix-nio`. In CI (CI=true) this is a failure.\n\n',
  );
}

await describeEachBackend(`matrix-nio ${version ?? '(missing)'} against Tessera`, (backend) => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ backend });
  });
  after(() => s.close());

  it('registers with m.login.dummy, logs in, whoami, logs out; the old token is M_UNKNOWN_TOKEN', {
    skip: version === null && !IN_CI ? 'matrix-nio is not installed (apt-get install -y python3-matrix-nio)' : false,
  }, async () => {
    assert.ok(version !== null, `matrix-nio must be importable by ${PYTHON} in CI`);
    const { stdout } = await run(PYTHON, [SCRIPT, s.url, 'niouser', 'nio-password-1'], { timeout: 60_000 });
    const r = JSON.parse(stdout);

    assert.equal(r.register.type, 'RegisterResponse', JSON.stringify(r.register));
    assert.equal(r.register.user_id, '@niouser:localhost');
    assert.equal(typeof r.register.device_id, 'string');
    assert.match(r.register.access_token, /^\S{22,}$/);
    assert.deepEqual(r.whoami_after_register, { type: 'WhoamiResponse', user_id: '@niouser:localhost' });

    assert.equal(r.login.type, 'LoginResponse', JSON.stringify(r.login));
    assert.equal(r.login.user_id, '@niouser:localhost');
    assert.notEqual(r.login.device_id, r.register.device_id);
    assert.notEqual(r.login.access_token, r.register.access_token);
    assert.equal(r.whoami_ok, true, JSON.stringify(r.whoami));
    assert.equal(r.whoami.user_id, '@niouser:localhost');

    assert.equal(r.logout_ok, true, JSON.stringify(r.logout));
    assert.equal(r.whoami_after_logout.type, 'WhoamiError');
    assert.equal(r.whoami_after_logout.status_code, 'M_UNKNOWN_TOKEN');
    assert.equal(r.whoami_after_logout.soft_logout, false);

    assert.equal(r.wrong_password.type, 'LoginError');
    assert.equal(r.wrong_password.status_code, 'M_FORBIDDEN');

    // Server side: nio's device names arrived, the logged-out device is gone, and the
    // registration's token (not logged out) still works.
    const who = await s.request('GET', '/_matrix/client/v3/account/whoami', undefined, {
      token: r.register.access_token,
    });
    assert.equal(who.status, 200);
    assert.deepEqual(who.body, { user_id: '@niouser:localhost', device_id: r.register.device_id, is_guest: false });
    const devices = await s.request('GET', '/_matrix/client/v3/devices', undefined, { token: r.register.access_token });
    assert.equal(devices.status, 200, JSON.stringify(devices.body));
    assert.deepEqual(
      devices.body.devices.map((d: { device_id: string; display_name?: string }) => [d.device_id, d.display_name]),
      [[r.register.device_id, 'nio register']],
    );
  });
});
