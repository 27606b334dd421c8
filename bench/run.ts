// `npm run bench`: Tessera against a bare node:http server, in one run, one table.
//
// whoami is driven by wrk (`-t1 -c32`, 2 s warm-up then --duration seconds measured) with the
// server pinned to CPU 0 and wrk to CPU 1: a bare node:http server answering the same JSON, and
// Tessera with the request log off (log_level warn), on (info, JSON lines into a file, as a
// service manager would collect them) and with metrics on, all four running, measured in turn
// for --rounds rounds (default 3); each row is that server's median round. Register and login are driven by wrk
// too (a Lua script numbers the usernames), with Tessera allowed both CPUs: argon2id runs on
// libuv's thread pool. Then: RSS idle after start and peak under 300 concurrent registrations,
// spawn → first 200 on /_matrix/client/versions on the existing database, and `tessera --help`.
// CPU per request (user+system of the server process from /proc) is the robust figure on a
// shared machine; req/s depends on the neighbours (the `others %` column).
//
// Options: --postgres (TESSERA_TEST_POSTGRES, own schema, dropped after), --workers N,
// --duration S (measured seconds per row, default 5), --only whoami,register,login,start,
// --starts N (start-up runs, default 5), --rounds N (whoami rounds), --profile DIR (V8 CPU profile of the log-off Tessera;
// read it with bench/profile-summary.ts), --scale [--accounts 10000,1000000] (bench/scale.ts instead).
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { stringify } from 'yaml';
import {
  canPin,
  cpuMicros,
  freePort,
  machineBusyMicros,
  pinSelf,
  repin,
  selfAndReapedMicros,
  spawnNode,
  statusKib,
  stopChild,
  waitReady,
} from './procs.js';
import { median, timeToExit, timeToFirst200 } from './startup.js';
import { fmt, printTable, type Row } from './table.js';
import { hasWrk, runWrk, type WrkRun, writeScripts } from './wrk.js';

const CONNECTIONS = 32;
const PEAK_CONNECTIONS = 300;
const WARMUP_S = 2;
const HARD_DEADLINE_MS = 480_000;
const PASSWORD = 'bench-password-1';
const GOALS = { whoamiOff: 0.7, whoamiOn: 0.5, perSecond: 105, startMs: 300, helpMs: 200, idleMb: 80, peakMb: 160 };

const { values: opts } = parseArgs({
  options: {
    postgres: { type: 'boolean', default: false },
    workers: { type: 'string' },
    duration: { type: 'string', default: '5' },
    profile: { type: 'string' },
    only: { type: 'string', default: 'whoami,register,login,start' },
    starts: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    scale: { type: 'boolean', default: false },
    accounts: { type: 'string', default: '10000,1000000' },
  },
});
const PG_URL = process.env.TESSERA_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
if (opts.scale) {
  // A separate mode with its own table (bench/scale.ts).
  const { runScale } = await import('./scale.js');
  const accounts = opts.accounts.split(',').map(Number);
  process.exit(await runScale({ postgres: opts.postgres, accounts, pgUrl: PG_URL }));
}
const DURATION_S = Number(opts.duration);
if (!(DURATION_S > 0 && DURATION_S <= 30)) throw new Error('--duration must be between 0 and 30 seconds');
const workers = opts.workers === undefined ? 1 : Number(opts.workers);
if (!Number.isInteger(workers) || workers < 1) throw new Error('--workers must be a positive integer');
const STARTS = Number(opts.starts);
const ROUNDS = Number(opts.rounds);
if (!(Number.isInteger(ROUNDS) && ROUNDS >= 1)) throw new Error('--rounds must be a positive integer');
const only = new Set(opts.only.split(','));
if (!hasWrk) throw new Error('wrk is not installed (Debian/Ubuntu: apt-get install wrk)');

type Variant = 'off' | 'on' | 'metrics';
const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
const schema = `bench_${process.pid}_${Date.now().toString(36)}`;
const scripts = writeScripts(dir);

async function cleanup(): Promise<void> {
  await Promise.all(children.map(stopChild));
  rmSync(dir, { recursive: true, force: true });
  if (opts.postgres) {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => client.end());
  }
}

function configYaml(port: number, variant: Variant, metricsPort: number): string {
  const unlimited = { per_second: 1e6, burst_count: 1e6 };
  return stringify({
    server_name: 'localhost',
    listeners: [
      { port, bind_addresses: ['127.0.0.1'] },
      ...(variant === 'metrics' ? [{ port: metricsPort, type: 'metrics', bind_addresses: ['127.0.0.1'] }] : []),
    ],
    database: opts.postgres
      ? { name: 'psycopg2', args: { url: PG_URL, schema, cp_max: 10 } }
      : { name: 'sqlite3', args: { database: join(dir, 'tessera.db') } },
    enable_registration: true,
    ...(variant === 'metrics' && { enable_metrics: true }),
    // The benchmark measures throughput, so rate limits must not answer 429 instead.
    rc_registration: unlimited,
    rc_registration_requests: unlimited,
    rc_login: { address: unlimited, account: unlimited, failed_attempts: unlimited },
    // The request log is one `info` line per request: `warn` turns it off.
    log_level: variant === 'on' ? 'info' : 'warn',
    log_format: 'json',
    // password_hashing is left at its defaults: register/s and login/s are at production cost.
  });
}

interface Running {
  child: ChildProcess;
  base: string;
  configPath: string;
}

async function startTessera(variant: Variant, cpu: number | null): Promise<Running> {
  const port = await freePort();
  const configPath = join(dir, `tessera-${variant}.yaml`);
  writeFileSync(configPath, configYaml(port, variant, await freePort()));
  const args = [
    ...(opts.profile !== undefined && variant === 'off' ? ['--cpu-prof', `--cpu-prof-dir=${opts.profile}`] : []),
    // The compiled server, as `npm start` runs it (`npm run bench` builds first).
    'dist/bundle/tessera.js',
    'start',
    '--config',
    configPath,
    ...(opts.workers !== undefined ? ['--workers', String(workers)] : []),
  ];
  const logFd = openSync(join(dir, `requests-${variant}.log`), 'a');
  const child = spawnNode(args, cpu, logFd);
  closeSync(logFd);
  children.push(child);
  const base = `http://127.0.0.1:${port}`;
  await waitReady(`${base}/_matrix/client/versions`, child);
  return { child, base, configPath };
}

async function stop(r: Running): Promise<void> {
  await stopChild(r.child);
  children.splice(children.indexOf(r.child), 1);
}

/** A wrk warm-up, then the measured run with the server's CPU time and the machine's around it. */
async function measure(what: string, server: string, pid: number, run: (phase: string) => WrkRun): Promise<Row> {
  process.stderr.write(`  ${what} on ${server} …\n`);
  await runWrk({ ...run('w'), durationS: WARMUP_S });
  // Requests wrk gave up on at the end of the warm-up may still be hashing: let them finish.
  await new Promise((r) => setTimeout(r, 1000));
  const cpu0 = cpuMicros(pid);
  const machine0 = machineBusyMicros();
  const self0 = selfAndReapedMicros();
  const result = await runWrk(run('m'));
  const cpu1 = cpuMicros(pid);
  const machine1 = machineBusyMicros();
  const self1 = selfAndReapedMicros();
  const ok = result.requests - result.non2xx;
  const server_ = cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null;
  // Everything but the server, wrk and this process (wrk's time counts once it is reaped).
  const othersPct =
    server_ !== null && machine0 !== null && machine1 !== null && self0 !== null && self1 !== null
      ? Math.max(0, (100 * (machine1 - machine0 - server_ - (self1 - self0))) / (result.durationS * 1e6))
      : null;
  return {
    what,
    server,
    result: `${fmt(ok / result.durationS)} req/s`,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    cpuUsPerReq: server_ !== null && ok > 0 ? server_ / ok : null,
    othersPct,
    non2xx: result.non2xx + result.errors,
  };
}

async function post(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

const rps = (r: Row) => Number.parseFloat(r.result);

const WHOAMI_PATH = '/_matrix/client/v3/account/whoami';

/** Register the bench user on a server: its Authorization header and whoami's exact reply. */
async function benchUser(base: string): Promise<{ auth: Record<string, string>; whoBody: string }> {
  const reg = await post(`${base}/_matrix/client/v3/register`, {
    username: 'bench',
    password: PASSWORD,
    auth: { type: 'm.login.dummy' },
  });
  if (reg.status !== 200) throw new Error(`could not register the bench user: ${JSON.stringify(reg.body)}`);
  const auth = { authorization: `Bearer ${reg.body.access_token as string}` };
  const who = await fetch(base + WHOAMI_PATH, { headers: auth });
  const whoBody = await who.text();
  if (who.status !== 200) throw new Error(`whoami failed: ${who.status} ${whoBody}`);
  return { auth, whoBody };
}

/** The round with the median CPU per request (the middle one; the lower middle of an even count). */
function medianRow(rounds: Row[]): Row {
  const sorted = [...rounds].sort((a, b) => (a.cpuUsPerReq ?? Infinity) - (b.cpuUsPerReq ?? Infinity));
  return { ...sorted[Math.floor((sorted.length - 1) / 2)]! };
}

async function main(): Promise<number> {
  const machineCpus = availableParallelism(); // before pinning narrows this process's affinity
  const load0 = loadavg();
  pinSelf(1);
  // One pinned core for a single-process server; a multi-process server gets the whole machine.
  const serverCpu = workers === 1 && canPin ? 0 : null;
  const wrkCpu = canPin ? 1 : null;
  const rows: Row[] = [];
  const ratioRows: [Row, number][] = [];

  const off = await startTessera('off', serverCpu);
  const pid = off.child.pid!;
  const { auth, whoBody } = await benchUser(off.base);
  // Idle: start-up garbage collected the way a quiet server's would be, nothing in flight.
  await new Promise((r) => setTimeout(r, 3000));
  const idleKib = statusKib(pid, 'VmRSS');

  const whoami = (base: string, headers: Record<string, string>) => (_phase: string) => ({
    url: base + WHOAMI_PATH,
    connections: CONNECTIONS,
    durationS: DURATION_S,
    script: scripts.report,
    headers,
    cpu: wrkCpu,
  });
  let bareRow: Row | null = null;
  if (only.has('whoami')) {
    // Every whoami server runs at once (the Tessera ones on the same database), each pinned to the same CPU and idle but for its own
    // rows; the rounds go bare, off, on, metrics, bare, off … and each server's row is its median
    // round by CPU per request, so a neighbour busy for a while shifts all of them alike.
    const barePort = await freePort();
    const bare = spawnNode(['--import', 'tsx', 'bench/bare-server.ts', String(barePort), whoBody], serverCpu);
    children.push(bare);
    await waitReady(`http://127.0.0.1:${barePort}/`, bare);
    const on = await startTessera('on', serverCpu);
    const metrics = await startTessera('metrics', serverCpu);
    const servers = [
      { name: 'bare node:http', pid: bare.pid!, base: `http://127.0.0.1:${barePort}`, auth, goal: null },
      { name: 'tessera, log off', pid, base: off.base, auth, goal: GOALS.whoamiOff },
      {
        name: 'tessera, log on (JSON)',
        pid: on.child.pid!,
        base: on.base,
        auth,
        goal: GOALS.whoamiOn,
      },
      {
        name: 'tessera, log off, metrics on',
        pid: metrics.child.pid!,
        base: metrics.base,
        auth,
        goal: null,
      },
    ];
    const measured = servers.map(() => [] as Row[]);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [i, sv] of servers.entries()) {
        const row = await measure('GET whoami', `${sv.name} (round ${round})`, sv.pid, whoami(sv.base, sv.auth));
        process.stderr.write(`    ${fmt(row.cpuUsPerReq ?? Number.NaN)} µs/req, ${row.result}\n`);
        measured[i]!.push(row);
      }
    }
    for (const [i, sv] of servers.entries()) {
      const row = medianRow(measured[i]!);
      row.server = ROUNDS > 1 ? `${sv.name}, median of ${ROUNDS}` : sv.name;
      rows.push(row);
      if (i === 0) bareRow = row;
      if (sv.goal !== null) ratioRows.push([row, sv.goal]);
    }
    await stop({ child: bare, base: '', configPath: '' });
    await stop(on);
    await stop(metrics);
  }

  // Register and login: argon2id on libuv's pool, so the server may use both CPUs.
  repin(pid, '0,1');
  const stamp = Date.now().toString(36);
  const postRun =
    (mode: string, who_: (phase: string) => string, connections = CONNECTIONS) =>
    (phase: string) => ({
      url: `${off.base}/_matrix/client/v3/${mode}`,
      connections,
      durationS: DURATION_S,
      script: scripts.post,
      scriptArgs: [mode, who_(phase), PASSWORD],
      cpu: wrkCpu,
    });
  for (const mode of ['register', 'login'] as const) {
    if (!only.has(mode)) continue;
    const row = await measure(
      `POST ${mode}`,
      'tessera, log off',
      pid,
      postRun(mode, (phase) => (mode === 'register' ? `r${stamp}${phase}` : 'bench')),
    );
    row.goal = `≥ ${GOALS.perSecond}/s`;
    row.met = rps(row) >= GOALS.perSecond;
    rows.push(row);
  }
  if (idleKib !== null) {
    rows.push({
      what: 'RSS after start, idle',
      server: 'tessera, log off',
      result: `${fmt(idleKib / 1024)} MB`,
      goal: `< ${GOALS.idleMb} MB`,
      met: idleKib / 1024 < GOALS.idleMb,
    });
  }
  if (only.has('register')) {
    process.stderr.write(`  ${PEAK_CONNECTIONS} concurrent registrations …\n`);
    const r = await runWrk({ ...postRun('register', () => `p${stamp}`, PEAK_CONNECTIONS)('m'), durationS: 3 });
    const peak = statusKib(pid, 'VmHWM');
    rows.push({
      what: `RSS peak, ${PEAK_CONNECTIONS} concurrent registrations`,
      server: 'tessera, log off',
      result: `${fmt((peak ?? Number.NaN) / 1024)} MB`,
      non2xx: r.non2xx + r.errors,
      goal: `< ${GOALS.peakMb} MB`,
      met: peak === null ? null : peak / 1024 < GOALS.peakMb,
    });
  }
  await stop(off);

  if (bareRow !== null) {
    // Judged on CPU per request (bare's / Tessera's), the figure neighbours barely move; the
    // req/s ratio is shown too, but on a busy machine it says more about the neighbours.
    for (const [row, goal] of ratioRows) {
      const ratio = rps(row) / rps(bareRow);
      const cpuRatio = row.cpuUsPerReq && bareRow.cpuUsPerReq ? bareRow.cpuUsPerReq / row.cpuUsPerReq : Number.NaN;
      row.result += ` (${ratio.toFixed(2)}×; by CPU ${cpuRatio.toFixed(2)}×)`;
      row.goal = `≥ ${goal}× bare`;
      row.met = Number.isFinite(cpuRatio) ? cpuRatio >= goal : ratio >= goal;
    }
  }

  if (only.has('start')) {
    process.stderr.write(`  start-up × ${STARTS} …\n`);
    const configPath = join(dir, 'tessera-off.yaml');
    const port = (readFileSync(configPath, 'utf8').match(/port: (\d+)/) ?? [])[1];
    const times: number[] = [];
    for (let i = 0; i < STARTS; i++) {
      const { ms, child } = await timeToFirst200(
        ['dist/bundle/tessera.js', 'start', '--config', configPath],
        `http://127.0.0.1:${port}/_matrix/client/versions`,
      );
      times.push(ms);
      await stopChild(child);
    }
    const helps: number[] = [];
    for (let i = 0; i < STARTS; i++) helps.push(await timeToExit(['dist/bundle/tessera.js', '--help']));
    const start = median(times);
    const help = median(helps);
    rows.push({
      what: 'start → first 200 (median)',
      server: `tessera start, existing ${opts.postgres ? 'PostgreSQL' : 'SQLite'} db`,
      result: `${(start / 1000).toFixed(2)} s`,
      goal: `< ${GOALS.startMs / 1000} s`,
      met: start < GOALS.startMs,
    });
    rows.push({
      what: 'tessera --help (median)',
      server: '',
      result: `${(help / 1000).toFixed(2)} s`,
      goal: `< ${GOALS.helpMs / 1000} s`,
      met: help < GOALS.helpMs,
    });
  }

  const load1 = loadavg();
  const cpuModel = cpus()[0]?.model ?? readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1];
  console.log('');
  console.log(
    `Tessera benchmark: ${opts.postgres ? 'PostgreSQL' : 'SQLite'}, ${workers} server process${workers > 1 ? 'es' : ''}, ` +
      'argon2id defaults (19456 KiB, 2 iterations, 1 lane)',
  );
  console.log(
    `machine: ${machineCpus} × ${cpuModel}, Node ${process.version}, ${process.platform}; load average ` +
      `${load0[0]!.toFixed(2)} before, ${load1[0]!.toFixed(2)} after; ` +
      (serverCpu !== null
        ? 'whoami: servers on CPU 0, wrk on CPU 1; register/login: server on both'
        : 'no CPU pinning'),
  );
  console.log(
    `wrk -t1 -c${CONNECTIONS}, ${WARMUP_S} s warm-up + ${DURATION_S} s measured per row, 127.0.0.1; ` +
      'CPU/req: user+system time of the server process per 2xx response, from /proc; ' +
      'others %: CPU used by everything but the server and wrk (100 = one CPU)',
  );
  console.log('');
  printTable(rows);
  const broken = rows.filter((r) => r.what.startsWith('GET') && (r.non2xx ?? 0) > 0);
  for (const r of broken) console.log(`WARNING: ${r.what} on ${r.server}: ${r.non2xx} failed responses`);
  return broken.length > 0 ? 1 : 0;
}

const deadline = setTimeout(() => {
  console.error(`bench: still running after ${HARD_DEADLINE_MS / 1000} s, giving up`);
  void cleanup().finally(() => process.exit(1));
}, HARD_DEADLINE_MS);
deadline.unref();

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error(`bench: ${(err as Error).stack ?? String(err)}`);
} finally {
  await cleanup();
}
process.exit(code);
