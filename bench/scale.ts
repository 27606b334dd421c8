// `npm run bench -- --scale [--postgres] [--accounts 10000,1000000]`: register, login and whoami
// latency with the database holding 10,000 and then 1,000,000 accounts. The accounts are bulk
// inserted through the storage layer (UsersRepo.createMany), all with one argon2id hash of the
// bench password, so any of them can log in. Each size: Tessera started on the filled database,
// then wrk (-t1 -c32, 1 s warm-up, 4 s measured) per endpoint.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { stringify } from 'yaml';
import { loadConfigFile } from '../src/config/load.js';
import { createArgon2Hasher } from '../src/service/passwords.js';
import { openDatabase } from '../src/storage/open.js';
import type { NewUser } from '../src/storage/repos/users.js';
import { createStorage } from '../src/storage/storage.js';
import { canPin, freePort, spawnNode, stopChild, waitReady } from './procs.js';
import { fmt, printTable, type Row } from './table.js';
import { runWrk, writeScripts } from './wrk.js';

const PASSWORD = 'bench-password-1';
const BATCH = 10_000;

export interface ScaleOptions {
  postgres: boolean;
  accounts: number[];
  pgUrl: string;
}

export async function runScale(opts: ScaleOptions): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-scale-'));
  const schema = `bench_scale_${process.pid}_${Date.now().toString(36)}`;
  const port = await freePort();
  const configPath = join(dir, 'tessera.yaml');
  const unlimited = { per_second: 1e6, burst_count: 1e6 };
  writeFileSync(
    configPath,
    stringify({
      server_name: 'localhost',
      listeners: [{ port, bind_addresses: ['127.0.0.1'] }],
      database: opts.postgres
        ? { name: 'psycopg2', args: { url: opts.pgUrl, schema, cp_max: 10 } }
        : { name: 'sqlite3', args: { database: join(dir, 'tessera.db') } },
      enable_registration: true,
      rc_registration: unlimited,
      rc_registration_requests: unlimited,
      rc_login: { address: unlimited, account: unlimited, failed_attempts: unlimited },
      log_level: 'warn',
      log_format: 'json',
    }),
  );
  const { config } = loadConfigFile(configPath);
  const scripts = writeScripts(dir);
  const base = `http://127.0.0.1:${port}`;
  const rows: Row[] = [];
  const load0 = loadavg()[0]!;
  const database = await openDatabase(config.database);
  try {
    const storage = createStorage(database.db, database.dialect);
    const hash = await createArgon2Hasher(config.passwordHashing).hash(PASSWORD);
    let filled = 0;
    for (const target of opts.accounts) {
      const t0 = performance.now();
      while (filled < target) {
        const n = Math.min(BATCH, target - filled);
        const users: NewUser[] = [];
        for (let i = filled; i < filled + n; i++) {
          users.push({
            userId: `@s${i}:localhost`,
            localpart: `s${i}`,
            numericId: null,
            passwordHash: hash,
            isGuest: false,
            isAdmin: false,
            createdTs: Date.now(),
          });
        }
        await storage.users.createMany(users);
        filled += n;
      }
      // As a server that grew to this size would be: its statistics current, and no autovacuum
      // of the bulk insert taking the CPUs while the rows below are measured.
      if (database.dialect === 'postgres') await sql`VACUUM ANALYZE users`.execute(database.db);
      else await sql`ANALYZE`.execute(database.db);
      const fillS = (performance.now() - t0) / 1000;
      process.stderr.write(`  ${target} accounts (filled and analysed in ${fillS.toFixed(1)} s) …\n`);
      rows.push(...(await measureAt(target, fillS)));
    }
  } finally {
    await database.close();
  }

  async function measureAt(accounts: number, fillS: number): Promise<Row[]> {
    const child = spawnNode(['dist/bundle/tessera.js', 'start', '--config', configPath], null);
    try {
      await waitReady(`${base}/_matrix/client/versions`, child);
      const someone = `s${Math.floor(accounts / 2)}`;
      const login = await fetch(`${base}/_matrix/client/v3/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          type: 'm.login.password',
          identifier: { type: 'm.id.user', user: someone },
          password: PASSWORD,
        }),
      });
      if (login.status !== 200) throw new Error(`login as ${someone}: ${login.status} ${await login.text()}`);
      const token = ((await login.json()) as { access_token: string }).access_token;
      const wrkCpu = canPin ? 1 : null;
      const stamp = `${accounts}x${Date.now().toString(36)}`;
      const runs = [
        {
          what: 'GET whoami',
          url: `${base}/_matrix/client/v3/account/whoami`,
          script: scripts.report,
          headers: { authorization: `Bearer ${token}` },
        },
        {
          what: 'POST register',
          url: `${base}/_matrix/client/v3/register`,
          script: scripts.post,
          args: ['register', `n${stamp}`],
        },
        { what: 'POST login', url: `${base}/_matrix/client/v3/login`, script: scripts.post, args: ['login', someone] },
      ];
      const out: Row[] = [];
      for (const r of runs) {
        const common = {
          url: r.url,
          connections: 32,
          script: r.script,
          cpu: wrkCpu,
          ...(r.headers && { headers: r.headers }),
        };
        const args = (phase: string) => (r.args ? { scriptArgs: [r.args[0]!, `${r.args[1]}${phase}`, PASSWORD] } : {});
        await runWrk({
          ...common,
          ...(r.args && { scriptArgs: [r.args[0]!, r.args[0] === 'login' ? r.args[1]! : `${r.args[1]}w`, PASSWORD] }),
          durationS: 1,
        });
        await new Promise((res) => setTimeout(res, 1000));
        const m = await runWrk({
          ...common,
          ...(r.args && (r.args[0] === 'login' ? { scriptArgs: [r.args[0], r.args[1]!, PASSWORD] } : args('m'))),
          durationS: 4,
        });
        out.push({
          what: r.what,
          server: `${accounts.toLocaleString('en')} accounts${r.what === 'GET whoami' ? ` (fill ${fillS.toFixed(0)} s)` : ''}`,
          result: `${fmt((m.requests - m.non2xx) / m.durationS)} req/s`,
          p50Ms: m.p50Ms,
          p99Ms: m.p99Ms,
          non2xx: m.non2xx + m.errors,
        });
      }
      return out;
    } finally {
      await stopChild(child);
    }
  }

  console.log('');
  console.log(
    `Tessera at scale: ${opts.postgres ? 'PostgreSQL' : 'SQLite'}, server unpinned, wrk -t1 -c32 on CPU 1, ` +
      `1 s warm-up + 4 s measured; load average ${load0.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after`,
  );
  console.log('');
  printTable(rows);
  rmSync(dir, { recursive: true, force: true });
  if (opts.postgres) {
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: opts.pgUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => client.end());
  }
  return rows.some((r) => (r.non2xx ?? 0) > 0) ? 1 : 0;
}
