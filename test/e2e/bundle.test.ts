import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { type CliProcess, call, spawnNode } from '../helpers/processes.js';
import { v1Password } from '../helpers/users.js';

// What `npm start` and the `tessera` bin run: the esbuild bundle of scripts/bundle.mjs. Built
// here into a folder of its own (the tests otherwise run the sources), then run as a process.

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = 'dist/bundle-test';

describe('the bundled command line (npm start)', () => {
  let dir: string;
  let server: CliProcess | null = null;
  before(() => {
    execFileSync(process.execPath, ['scripts/bundle.mjs'], {
      cwd: REPO,
      env: { ...process.env, TESSERA_BUNDLE_OUT: OUT },
      stdio: 'pipe',
    });
    dir = mkdtempSync(join(tmpdir(), 'tessera-bundle-'));
  });
  after(async () => {
    await server?.stop();
    rmSync(join(REPO, OUT), { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('package.json runs the bundle: npm start and the bin', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
    assert.equal(pkg.bin.tessera, 'dist/bundle/tessera.js');
    assert.equal(pkg.scripts.start, 'node dist/bundle/tessera.js start');
  });

  it('--version and --help answer', () => {
    const bin = join(REPO, OUT, 'tessera.js');
    const version = execFileSync(process.execPath, [bin, '--version'], { encoding: 'utf8' }).trim();
    assert.equal(version, JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version);
    const help = execFileSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    for (const command of ['start', 'generate-config', 'register-user', 'users', 'tokens'])
      assert.match(help, new RegExp(`\\n  ${command}\\b`));
  });

  it('start serves: v1 registration, then whoami with the token', async () => {
    const config = join(dir, 'tessera.yaml');
    writeFileSync(
      config,
      stringify({
        server_name: 'localhost',
        listeners: [{ port: 0, bind_addresses: ['127.0.0.1'] }],
        database: { name: 'sqlite3', args: { database: join(dir, 'tessera.db') } },
        enable_registration: true,
        password_hashing: { memory_kib: 256, iterations: 1, parallelism: 1 },
        log_format: 'json',
      }),
    );
    server = spawnNode([join(REPO, OUT, 'tessera.js'), 'start', '--config', config], dir);
    const listening = await server.waitForLog((l) => l.msg === 'Tessera is listening');
    const url = (listening.urls as string[])[0]!;
    const reg = await call(url, 'POST', '/_matrix/client/api/v1/register', v1Password('bundled', 'pw'));
    assert.equal(reg.status, 200, JSON.stringify(reg.body));
    const who = await call(url, 'GET', '/_matrix/client/v3/account/whoami', undefined, reg.body.access_token);
    assert.equal(who.body.user_id, '@bundled:localhost');
  });

  it('log_format: pretty writes readable lines (request lines included), without colour codes into a pipe', async () => {
    await server?.stop();
    const config = join(dir, 'pretty.yaml');
    writeFileSync(
      config,
      stringify({
        server_name: 'localhost',
        listeners: [{ port: 0, bind_addresses: ['127.0.0.1'] }],
        database: { name: 'sqlite3', args: { database: join(dir, 'pretty.db') } },
        log_format: 'pretty',
      }),
    );
    server = spawnNode([join(REPO, OUT, 'tessera.js'), 'start', '--config', config], dir);
    const s = server;
    const listening = async () => {
      for (let i = 0; i < 600; i++) {
        const line = s.lines.find((l) => l.includes('Tessera is listening'));
        const url = /http:\/\/127\.0\.0\.1:\d+/.exec(s.lines.join('\n'))?.[0];
        if (line !== undefined && url !== undefined) return url;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`not listening: ${s.lines.join('\n')}${s.stderr()}`);
    };
    const url = await listening();
    const versions = await call(url, 'GET', '/_matrix/client/versions');
    assert.equal(versions.status, 200);
    for (let i = 0; i < 100 && !s.lines.some((l) => l.includes('/_matrix/client/versions')); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    // pino-pretty: `[time] INFO: request` with the fields indented below it.
    const at = s.lines.findIndex((l) => l.includes('url: "/_matrix/client/versions"'));
    assert.ok(at > 0, s.lines.join('\n'));
    assert.ok(
      s.lines.slice(0, at).some((l) => /INFO.*: request$/.test(l)),
      s.lines.join('\n'),
    );
    assert.ok(!s.lines.some((l) => l.startsWith('{')), 'no JSON lines');
    assert.ok(!s.lines.some((l) => l.includes('\u001b[')), 'no colour codes');
  });
});
