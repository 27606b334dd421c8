import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { type Backend, dropSchema, POSTGRES_URL, uniqueSchemaName } from './backends.js';

/**
 * Real, separate Tessera processes, exactly what an operator runs: `node --import tsx
 * src/cli/main.ts <args>` (from the sources, so no build is needed; absolute paths, so any
 * working directory will do), observed through its JSON log lines on standard output.
 */

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = join(REPO, 'src/cli/main.ts');
const TSX = import.meta.resolve('tsx');
const LOG_TIMEOUT_MS = 120_000;

export interface LogLine {
  msg?: string;
  pid?: number;
  [key: string]: any;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running (or finished) `tessera` command. */
export interface CliProcess {
  child: ChildProcess;
  pid: number;
  /** Standard output, line by line, as written (JSON or not). */
  lines: string[];
  /** The lines that are JSON log lines, in order. */
  logs: LogLine[];
  stderr(): string;
  /** Resolves on the first log line (past or future) that matches; rejects if the process exits first. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  exited: Promise<Exit>;
  /** Send a signal (default SIGTERM) unless it has exited, and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

export interface TesseraProcess extends CliProcess {
  /** Base URL of the first listener (from the "Tessera is listening" line). */
  url: string;
}

const running = new Set<ChildProcess>();
// Never leave a server behind, even when a test fails before its `after` hook.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** The command line that runs `tessera` from the sources (for wrapping it, e.g. in `script`). */
export function tesseraCommand(args: string[]): string[] {
  return [process.execPath, '--import', TSX, MAIN, ...args];
}

/**
 * Run `tessera <args>` in `cwd` (default: the repository). Standard input is empty unless
 * `stdin` gives what a pipe writes to it; it is never a terminal.
 */
export function spawnTessera(args: string[], cwd = REPO, opts: { stdin?: string } = {}): CliProcess {
  return spawnCommand(tesseraCommand(args), cwd, opts);
}

/** What a finished `tessera` command printed, and how it exited. */
export interface CliRun {
  code: number | null;
  /** Standard output, line by line. */
  out: string[];
  err: string;
}

/** Run `tessera <args>` to its end (see `spawnTessera` for `stdin`). */
export async function runTessera(args: string[], opts: { stdin?: string } = {}): Promise<CliRun> {
  const proc = spawnTessera(args, REPO, opts);
  const { code } = await proc.exited;
  return { code, out: proc.lines, err: proc.stderr() };
}

/** Run `node <args>` (e.g. the built bundle) in `cwd`, observed like `spawnTessera`. */
export function spawnNode(args: string[], cwd = REPO): CliProcess {
  return spawnCommand([process.execPath, ...args], cwd, {});
}

function spawnCommand(command: string[], cwd: string, opts: { stdin?: string }): CliProcess {
  // NODE_TEST_CONTEXT would make the child report to this test runner instead of running.
  const { NODE_TEST_CONTEXT: _ignored, ...env } = process.env;
  const [node, ...nodeArgs] = command;
  const child = spawn(node!, nodeArgs, {
    cwd,
    env,
    stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
  running.add(child);
  const lines: string[] = [];
  const logs: LogLine[] = [];
  const waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  let stderr = '';
  let pending = '';
  const output = () => `\nstdout:\n${lines.join('\n')}\nstderr:\n${stderr}`;
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const parts = pending.split('\n');
    pending = parts.pop()!;
    for (const text of parts) {
      lines.push(text);
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        continue;
      }
      logs.push(line);
      for (const w of [...waiters]) {
        if (w.match(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  const exited = new Promise<Exit>((r) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      r({ code, signal });
    }),
  );

  const waitForLog = (match: (line: LogLine) => boolean, timeoutMs = LOG_TIMEOUT_MS) => {
    const seen = logs.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<LogLine>((resolvePromise, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching log line in ${timeoutMs} ms${output()}`)),
        timeoutMs,
      );
      waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(timer);
          resolvePromise(l);
        },
      });
      void exited.then(({ code, signal }) => {
        // Let the last stdout chunk arrive: the line may be in it.
        setImmediate(() => {
          clearTimeout(timer);
          reject(new Error(`tessera exited (code ${code}, signal ${signal}) before the expected log line:${output()}`));
        });
      });
    });
  };

  return {
    child,
    pid: child.pid!,
    lines,
    logs,
    stderr: () => stderr,
    waitForLog,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** A shared database for several processes, and how to delete it afterwards. */
export interface SharedDatabase {
  backend: Backend;
  /** The `database:` section of the config (YAML form). */
  section: Record<string, unknown>;
  /** The PostgreSQL schema, when the backend is postgres. */
  schema: string | null;
  /** The SQLite file, when the backend is sqlite. */
  sqlitePath: string | null;
  dir: string;
  cleanup(): Promise<void>;
}

export function sharedDatabase(backend: Backend): SharedDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-proc-'));
  const schema = backend === 'postgres' ? uniqueSchemaName() : null;
  const sqlitePath = backend === 'sqlite' ? join(dir, 'shared.db') : null;
  return {
    backend,
    schema,
    sqlitePath,
    dir,
    section:
      backend === 'sqlite'
        ? { name: 'sqlite3', args: { database: sqlitePath } }
        : { name: 'psycopg2', args: { url: POSTGRES_URL, schema, cp_max: 5 } },
    async cleanup() {
      rmSync(dir, { recursive: true, force: true });
      if (schema !== null) await dropSchema(schema);
    },
  };
}

/** Write a test config (open registration, cheap hashing, JSON logs at info) and return its path. */
export function writeConfig(db: SharedDatabase, extra: Record<string, unknown> = {}, name = 'tessera.yaml'): string {
  const config = {
    server_name: 'localhost',
    listeners: [{ port: 0, bind_addresses: ['127.0.0.1'] }],
    database: db.section,
    enable_registration: true,
    // Tests register and log in many users quickly from one IP (as test/helpers/server.ts).
    rc_registration: { per_second: 1000, burst_count: 1000 },
    rc_registration_requests: { per_second: 1000, burst_count: 1000 },
    rc_login: Object.fromEntries(
      ['address', 'account', 'failed_attempts'].map((k) => [k, { per_second: 1000, burst_count: 1000 }]),
    ),
    password_hashing: { memory_kib: 256, iterations: 1, parallelism: 1 },
    log_level: 'info',
    log_format: 'json',
    ...extra,
  };
  const path = join(db.dir, name);
  writeFileSync(path, stringify(config));
  return path;
}

/** Start `tessera start --config <path> [...args]` and wait until it listens. */
export async function startTessera(configPath: string, args: string[] = []): Promise<TesseraProcess> {
  const proc = spawnTessera(['start', '--config', configPath, ...args]);
  const listening = await proc.waitForLog((l) => l.msg === 'Tessera is listening');
  return { ...proc, url: (listening.urls as string[])[0]! };
}

export interface HttpResult {
  status: number;
  body: any;
}

/** One JSON request to a running process. */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<HttpResult> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const res = await fetch(baseUrl + path, {
    method,
    headers,
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed };
}

/** A TCP port free on 127.0.0.1 now, for a config that must name its port. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
