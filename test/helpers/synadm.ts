import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';

/**
 * Debian's `synadm` (an admin CLI made for Synapse's admin API) as a real client of Tessera:
 * a config of its own in a scratch home, `--batch -o json`. In CI (CI=true) a missing synadm is
 * a failure, never a skip; `.ci/run` installs it.
 */

const run = promisify(execFile);
const SYNADM = process.env.TESSERA_TEST_SYNADM ?? '/usr/bin/synadm';
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
let warned = false;

/** Why the synadm tests are skipped (not installed, outside CI; said loudly once), or false. */
export function synadmSkip(): string | false {
  if (existsSync(SYNADM) || IN_CI) return false;
  if (!warned) {
    warned = true;
    process.stderr.write(
      `\n!!! ${SYNADM} is missing: SKIPPING the synadm admin-client tests.\n` +
        '!!! Install it with `apt-get install -y synadm`. In CI (CI=true) this is a failure.\n\n',
    );
  }
  return `${SYNADM} is not installed (apt-get install -y synadm)`;
}

export interface Synadm {
  /** Run `synadm --batch -o json <args>`; its output and the last JSON document it printed. */
  run(...args: string[]): Promise<{ stdout: string; json: any }>;
  cleanup(): void;
}

/** synadm configured for `baseUrl` (server name `localhost`) as the admin `userId` with `token`. */
export function synadmFor(baseUrl: string, admin: { userId: string; token: string }): Synadm {
  const home = mkdtempSync(join(tmpdir(), 'tessera-synadm-'));
  // What `synadm config` writes; `homeserver` is given, so synadm never looks up .well-known.
  writeFileSync(
    join(home, 'synadm.yaml'),
    stringify({
      user: admin.userId,
      token: admin.token,
      base_url: baseUrl,
      admin_path: '/_synapse/admin',
      matrix_path: '/_matrix',
      timeout: 30,
      homeserver: 'localhost',
      server_discovery: 'well-known',
      format: 'json',
      ssl_verify: true,
    }),
  );
  return {
    async run(...args) {
      assert.ok(existsSync(SYNADM), `${SYNADM} must exist in CI (apt-get install -y synadm)`);
      const { stdout, stderr } = await run(
        SYNADM,
        ['-c', join(home, 'synadm.yaml'), '--batch', '-o', 'json', ...args],
        {
          env: { ...process.env, HOME: home },
          timeout: 60_000,
        },
      );
      assert.doesNotMatch(stderr, /ERROR/, stderr);
      const docs = stdout
        .split('\n')
        .filter((l) => l.startsWith('{') || l.startsWith('['))
        .map((l) => JSON.parse(l));
      return { stdout, json: docs.at(-1) };
    },
    cleanup: () => rmSync(home, { recursive: true, force: true }),
  };
}
