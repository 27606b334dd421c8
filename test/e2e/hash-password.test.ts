import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseOptions, verify } from '@node-rs/argon2';
import { type CliProcess, spawnTessera, tesseraCommand } from '../helpers/processes.js';

/**
 * `tessera hash-password`, Synapse's `hash_password`: a real process prints the argon2id hash
 * of a password given with -p, typed twice on a terminal, or piped in; never the password.
 */

const PASSWORD = 'correct horse battery 42';

async function run(args: string[], stdin?: string): Promise<{ code: number | null; proc: CliProcess }> {
  const proc = spawnTessera(['hash-password', ...args], undefined, stdin === undefined ? {} : { stdin });
  const { code } = await proc.exited;
  return { code, proc };
}

/** The one line of standard output: the hash. */
function printedHash(proc: CliProcess): string {
  const lines = proc.lines.filter((l) => l !== '');
  assert.equal(lines.length, 1, `stdout: ${proc.lines.join('\n')}\nstderr: ${proc.stderr()}`);
  assert.match(lines[0]!, /^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$/);
  return lines[0]!;
}

function assertNotShown(proc: CliProcess, password: string): void {
  assert.ok(!proc.lines.join('\n').includes(password), 'password on standard output');
  assert.ok(!proc.stderr().includes(password), 'password on standard error');
}

describe('tessera hash-password', () => {
  let dir: string;
  let config: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-hash-'));
    config = join(dir, 'tessera.yaml');
    writeFileSync(config, 'server_name: example.org\npassword_hashing: {memory_kib: 512, iterations: 1}\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('-p: prints a hash with the default parameters that verifies for that password only', async () => {
    const { code, proc } = await run(['-p', PASSWORD]);
    assert.equal(code, 0, proc.stderr());
    const hash = printedHash(proc);
    const p = parseOptions(hash);
    assert.deepEqual([p.memoryCost, p.timeCost, p.parallelism], [19456, 2, 1]);
    assert.equal(await verify(hash, PASSWORD), true);
    assert.equal(await verify(hash, `${PASSWORD}x`), false);
    assertNotShown(proc, PASSWORD);
  });

  it('-c: the config’s password_hashing parameters; the password is hashed in its NFKC form', async () => {
    const decomposed = 'cafe\u0301 au lait';
    const { code, proc } = await run(['-c', config, '-p', decomposed]);
    assert.equal(code, 0, proc.stderr());
    const hash = printedHash(proc);
    const p = parseOptions(hash);
    assert.deepEqual([p.memoryCost, p.timeCost, p.parallelism], [512, 1, 1]);
    assert.equal(await verify(hash, decomposed.normalize('NFKC')), true);
    assert.equal(await verify(hash, 'cafe au lait'), false);
    assertNotShown(proc, decomposed);
  });

  it('standard input that is not a terminal: the first line, without its line ending', async () => {
    const { code, proc } = await run(['-c', config], `${PASSWORD}\r\nsecond line\n`);
    assert.equal(code, 0, proc.stderr());
    const hash = printedHash(proc);
    assert.equal(await verify(hash, PASSWORD), true);
    assert.equal(await verify(hash, 'second line'), false);
    assertNotShown(proc, PASSWORD);
  });

  it('an empty password is refused, and a bad config is exit status 2', async () => {
    const empty = await run(['-c', config]);
    assert.equal(empty.code, 1);
    assert.deepEqual(
      empty.proc.lines.filter((l) => l !== ''),
      [],
    );
    assert.match(empty.proc.stderr(), /Password cannot be blank/);
    const missing = await run(['-c', join(dir, 'missing.yaml'), '-p', PASSWORD]);
    assert.equal(missing.code, 2);
    assertNotShown(missing.proc, PASSWORD);
  });

  const hasScript = spawnSync('script', ['--version']).status === 0;
  it('on a terminal: asks twice without echo', { skip: !hasScript && 'needs util-linux script' }, async () => {
    const typed = 'typed on a tty 7';
    const out = await onTerminal(['hash-password', '-c', config], [typed, typed]);
    assert.equal(out.code, 0, out.text);
    assert.ok(!out.text.includes(typed), `echoed: ${out.text}`);
    assert.match(out.text, /Password: /);
    assert.match(out.text, /Confirm password: /);
    const hash = /\$argon2id\$[^\s]+/.exec(out.text)?.[0];
    assert.ok(hash !== undefined, out.text);
    assert.equal(await verify(hash, typed), true);

    const mismatch = await onTerminal(['hash-password', '-c', config], [typed, `${typed}!`]);
    assert.equal(mismatch.code, 1, mismatch.text);
    assert.match(mismatch.text, /Passwords do not match/);
    assert.ok(!mismatch.text.includes(typed));
  });
});

/**
 * Run tessera on a pseudo-terminal (util-linux `script`), typing each answer after its prompt
 * appeared (typed earlier, the terminal would echo it before the prompt turns echo off).
 */
async function onTerminal(args: string[], answers: string[]): Promise<{ code: number | null; text: string }> {
  const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  const { NODE_TEST_CONTEXT: _ignored, ...env } = process.env;
  const child = spawn('script', ['-qec', tesseraCommand(args).map(quote).join(' '), '/dev/null'], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let text = '';
  let prompts = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    const seen = text.split('assword: ').length - 1;
    while (prompts < seen && prompts < answers.length) child.stdin.write(`${answers[prompts++]}\r`);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  return { code, text };
}
