// Process plumbing for the benchmark: free ports, CPU pinning, readiness, CPU time from /proc.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';

/** A port that was free a moment ago on 127.0.0.1 (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Pinning needs taskset and two cores: the server on CPU 0, the load generator on CPU 1. */
export const canPin = existsSync('/usr/bin/taskset') && availableParallelism() >= 2;

/** Move this process (all its threads) to one CPU, so autocannon does not steal the server's core. */
export function pinSelf(cpu: number): void {
  if (canPin) execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' });
}

/**
 * Spawn a node process, optionally pinned (taskset execs node, so the pid is node's own).
 * Standard output goes nowhere, or to a file descriptor (the request log, as a service manager
 * would take it).
 */
export function spawnNode(args: string[], cpu: number | null, stdout: 'ignore' | number = 'ignore'): ChildProcess {
  const [cmd, argv] =
    cpu !== null && canPin ? ['taskset', ['-c', String(cpu), process.execPath, ...args]] : [process.execPath, args];
  return spawn(cmd as string, argv as string[], { stdio: ['ignore', stdout, 'pipe'] });
}

/** Poll `url` until it answers 200, the process dies, or the deadline passes. */
export async function waitReady(url: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${stderr}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server not ready at ${url} after ${timeoutMs} ms:\n${stderr}`);
}

/** Stop a child: SIGTERM, then SIGKILL if it lingers. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Fields of /proc/<pid>/stat after the `(comm)`: [0]=state, [1]=ppid, [11]=utime, [12]=stime. */
function statFields(pid: string): string[] | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/**
 * User + system CPU time in µs of `pid` and all its living descendants (worker processes).
 * Null where /proc is unavailable.
 */
export function cpuMicros(pid: number): number | null {
  if (!existsSync(`/proc/${pid}/stat`)) return null;
  const parent = new Map<string, string>();
  const ticks = new Map<string, number>();
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const f = statFields(p);
    if (f === null) continue;
    parent.set(p, f[1]!);
    ticks.set(p, Number(f[11]) + Number(f[12]));
  }
  const root = String(pid);
  let total = 0;
  for (const [p, t] of ticks) {
    let q: string | undefined = p;
    while (q !== undefined && q !== root && q !== '1' && q !== '0') q = parent.get(q);
    if (q === root) total += t;
  }
  return (total * 1e6) / CLK_TCK;
}

/** Busy CPU time of the whole machine in µs (all CPUs, from /proc/stat), or null. */
export function machineBusyMicros(): number | null {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
    const busy = cpu.slice(0, 8).reduce((sum, v, i) => (i === 3 || i === 4 ? sum : sum + v), 0);
    return (busy * 1e6) / CLK_TCK;
  } catch {
    return null;
  }
}

/** A field of /proc/<pid>/status in KiB (VmRSS: resident now; VmHWM: the peak so far), or null. */
export function statusKib(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`${field}:\\s+(\\d+)`));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Move a running process and all its threads (libuv's pool included) to these CPUs. */
export function repin(pid: number, cpus: string): void {
  if (canPin) execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

/**
 * CPU time in µs of this process and of its children that have exited and been waited for
 * (wrk, once a run ends): utime, stime, cutime, cstime of /proc/self/stat.
 */
export function selfAndReapedMicros(): number | null {
  const f = statFields('self');
  if (f === null) return null;
  return ((Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 1e6) / CLK_TCK;
}
