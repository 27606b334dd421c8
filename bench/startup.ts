// Start-up figures: spawn → first 200 on /_matrix/client/versions (a tight poll), the time of
// `tessera --help`, both taken as the median of several runs.
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { cpus } from 'node:os';
import { canPin } from './procs.js';

/**
 * `node <args>` allowed every CPU of the machine, as a server starting on it would be: this
 * process runs pinned to one CPU (procs.ts `pinSelf`), and a child would inherit that, leaving
 * V8's compiler and garbage collector threads no second core.
 */
function spawnOnAllCpus(args: string[], stdio: Parameters<typeof spawn>[2]['stdio']): ChildProcess {
  return canPin
    ? spawn('taskset', ['-c', `0-${cpus().length - 1}`, process.execPath, ...args], { stdio })
    : spawn(process.execPath, args, { stdio });
}

/** One GET on a fresh connection: the status, or null when nothing listens yet. */
function probe(url: string): Promise<number | null> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? null);
    });
    req.on('error', () => resolve(null));
    req.end();
  });
}

/**
 * Spawn `node <args>` and poll `url` every millisecond or two until it answers 200. Returns
 * the milliseconds from spawn to that answer and the running child (the caller stops it).
 */
export async function timeToFirst200(
  args: string[],
  url: string,
  timeoutMs = 30_000,
): Promise<{ ms: number; child: ChildProcess }> {
  const t0 = performance.now();
  const child = spawnOnAllCpus(args, ['ignore', 'ignore', 'pipe']);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  while (performance.now() - t0 < timeoutMs) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${stderr}`);
    if ((await probe(url)) === 200) return { ms: performance.now() - t0, child };
    await new Promise((r) => setTimeout(r, 1));
  }
  child.kill('SIGKILL');
  throw new Error(`no 200 from ${url} within ${timeoutMs} ms:\n${stderr}`);
}

/** Milliseconds from spawning `node <args>` to its exit (e.g. `dist/cli/main.js --help`). */
export function timeToExit(args: string[]): Promise<number> {
  const t0 = performance.now();
  const child = spawnOnAllCpus(args, 'ignore');
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(performance.now() - t0) : reject(new Error(`${args.join(' ')} exited ${code}`)),
    );
  });
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
