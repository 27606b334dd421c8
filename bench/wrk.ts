// Driving a server with wrk (https://github.com/wg/wrk; Debian's `wrk` package), one thread,
// pinned to a CPU of its own where the machine allows. Its Lua `done` hook prints the figures
// as one JSON line, so nothing depends on wrk's human-readable report.
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canPin } from './procs.js';

export const WRK = '/usr/bin/wrk';
export const hasWrk = existsSync(WRK);

export interface WrkResult {
  requests: number;
  durationS: number;
  p50Ms: number;
  p99Ms: number;
  /** Responses with a status ≥ 400 (wrk counts 3xx as fine). */
  non2xx: number;
  /** Connect, read, write errors and timeouts. */
  errors: number;
}

/** Report hook shared by both scripts: one line `WRK {json}` on standard output. */
const DONE = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"non2xx":%d,"errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
`;

/**
 * POST bodies that differ per request: `register` numbers its usernames (`<prefix><n>`, unique
 * within one wrk thread, and a run uses one thread), `login` sends the same password login.
 * Arguments after wrk's `--`: mode, prefix, password.
 */
const POST = `
local mode, prefix, password = "login", "u", ""
local n = 0
local headers = { ["Content-Type"] = "application/json" }
init = function(args)
  mode = args[1] or mode
  prefix = args[2] or prefix
  password = args[3] or password
end
request = function()
  local body
  if mode == "register" then
    n = n + 1
    body = string.format('{"username":"%s%d","password":"%s","auth":{"type":"m.login.dummy"}}', prefix, n, password)
  else
    body = string.format('{"type":"m.login.password","identifier":{"type":"m.id.user","user":"%s"},"password":"%s"}', prefix, password)
  end
  return wrk.format("POST", nil, headers, body)
end
${DONE}`;

/** Write the Lua scripts into `dir`; returns their paths. */
export function writeScripts(dir: string): { report: string; post: string } {
  const report = join(dir, 'report.lua');
  const post = join(dir, 'post.lua');
  writeFileSync(report, DONE);
  writeFileSync(post, POST);
  return { report, post };
}

export interface WrkRun {
  url: string;
  connections: number;
  durationS: number;
  script: string;
  scriptArgs?: string[];
  headers?: Record<string, string>;
  /** Pin wrk to this CPU (null: anywhere). */
  cpu: number | null;
}

/** Run wrk once and parse its `done` line. */
export function runWrk(run: WrkRun): Promise<WrkResult> {
  const args = [
    '-t1',
    `-c${run.connections}`,
    `-d${run.durationS}s`,
    '--timeout',
    '10s',
    '-s',
    run.script,
    ...Object.entries(run.headers ?? {}).flatMap(([k, v]) => ['-H', `${k}: ${v}`]),
    run.url,
    ...(run.scriptArgs !== undefined ? ['--', ...run.scriptArgs] : []),
  ];
  const [cmd, argv] = run.cpu !== null && canPin ? ['taskset', ['-c', String(run.cpu), WRK, ...args]] : [WRK, args];
  return new Promise((resolve, reject) => {
    execFile(cmd, argv, { timeout: (run.durationS + 30) * 1000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`wrk failed: ${err.message}\n${stderr}`));
      const line = stdout.split('\n').find((l) => l.startsWith('WRK '));
      if (line === undefined) return reject(new Error(`wrk printed no report:\n${stdout}\n${stderr}`));
      const r = JSON.parse(line.slice(4)) as Record<string, number>;
      resolve({
        requests: r.requests!,
        durationS: r.duration_us! / 1e6,
        p50Ms: r.p50_us! / 1000,
        p99Ms: r.p99_us! / 1000,
        non2xx: r.non2xx!,
        errors: r.errors!,
      });
    });
  });
}
