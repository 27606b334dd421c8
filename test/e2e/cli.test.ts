import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import SQLite from 'better-sqlite3';
import { call, freePort, type LogLine, spawnTessera } from '../helpers/processes.js';

/**
 * The `tessera` command as an operator runs it: a real process (spawnTessera), started from a
 * scratch working directory, talking JSON logs on standard output.
 */

const V1 = '/_matrix/client/api/v1/register';

const isListening = (l: LogLine) => l.msg === 'Tessera is listening';

describe('tessera CLI', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A fresh working directory per test. */
  const workdir = (name: string) => mkdtempSync(join(dir, `${name}-`));

  it('start --config serves v1 register from a Synapse-style homeserver.yaml, one JSON line per request', async () => {
    const cwd = workdir('synapse-cwd');
    const port = await freePort();
    const file = join(dir, 'homeserver.yaml');
    writeFileSync(
      file,
      `# copied from a Synapse deployment
server_name: "example.org"
pid_file: /data/homeserver.pid
report_stats: false
listeners:
  - port: ${port}
    tls: false
    type: http
    x_forwarded: true
    bind_addresses: ['127.0.0.1']
    resources:
      - names: [client, federation]
        compress: false
  - port: 9000
    type: metrics
    bind_addresses: ['127.0.0.1']
database:
  name: sqlite3
  args:
    database: synapse-data/homeserver.db
enable_registration: yes
enable_registration_without_verification: true
registration_shared_secret: "not-used-yet"
rc_registration: {per_second: 10, burst_count: 50}
password_hashing: {memory_kib: 1024, iterations: 1}
`,
    );
    const proc = spawnTessera(['start', '--config', file], cwd);
    try {
      const listening = await proc.waitForLog(isListening);
      assert.deepEqual(listening.urls, [`http://127.0.0.1:${port}`]);
      assert.equal(listening.server_name, 'example.org');
      const base = `http://127.0.0.1:${port}`;

      const flows = await call(base, 'GET', V1);
      assert.equal(flows.status, 200);
      assert.deepEqual(flows.body, { flows: [{ type: 'm.login.password' }] });
      const reg = await call(base, 'POST', V1, { type: 'm.login.password', user: 'Alice', password: 'pw-cli' });
      assert.equal(reg.status, 200, JSON.stringify(reg.body));
      assert.equal(reg.body.user_id, '@alice:example.org');
      assert.equal(reg.body.home_server, 'example.org');
      const who = await call(base, 'GET', `/_matrix/client/v3/account/whoami?access_token=${reg.body.access_token}`);
      assert.equal(who.status, 200);
      assert.equal(who.body.user_id, '@alice:example.org');
      const missing = await call(base, 'GET', '/_matrix/client/v3/nowhere');
      assert.equal(missing.status, 404);

      // The SQLite path is relative to the config file, not to the working directory.
      assert.ok(existsSync(join(dir, 'synapse-data/homeserver.db')));
      assert.ok(!existsSync(join(cwd, 'synapse-data')));

      // Unknown keys and the metrics listener are warned about by name.
      const warnings = proc.logs.filter((l) => l.level === 40).map((l) => l.msg as string);
      assert.ok(
        warnings.some((w) => w.includes("'pid_file'")),
        JSON.stringify(warnings),
      );
      assert.ok(
        warnings.some((w) => w.includes("'report_stats'")),
        JSON.stringify(warnings),
      );
      assert.ok(
        warnings.some((w) => w.includes('listeners[1]') && w.includes('metrics')),
        JSON.stringify(warnings),
      );
      assert.ok(!warnings.some((w) => w.includes('enable_registration_without_verification')));

      await proc.waitForLog((l) => l.msg === 'request' && l.status === 404);
      const requests = proc.logs.filter((l) => l.msg === 'request');
      assert.deepEqual(
        requests.map((l) => [l.method, l.status]),
        [
          ['GET', 200],
          ['POST', 200],
          ['GET', 200],
          ['GET', 404],
        ],
      );
      assert.equal(requests[2]!.url, '/_matrix/client/v3/account/whoami?access_token=[redacted]');
    } finally {
      proc.child.kill('SIGTERM');
      const { code } = await proc.exited;
      assert.equal(code, 0, proc.stderr());
    }
    // Not a terminal: every line on standard output is JSON (no log_format in the config).
    assert.ok(proc.lines.length >= 7);
    for (const line of proc.lines) assert.doesNotThrow(() => JSON.parse(line), line);
    assert.ok(!proc.lines.join('\n').includes('pw-cli'));
  });

  it('generate-config writes a commented config that start accepts', async () => {
    const cwd = workdir('generate');
    const file = join(cwd, 'generated.yaml');
    const gen = spawnTessera(['generate-config', '--server-name', 'x.example', '--output', file], cwd);
    assert.equal((await gen.exited).code, 0, gen.stderr());
    assert.match(gen.stderr(), /wrote/);
    const yaml = readFileSync(file, 'utf8');
    assert.match(yaml, /^# /);
    assert.match(yaml, /^server_name: "x\.example"$/m);
    assert.match(yaml, /^enable_registration: false$/m);
    assert.ok(yaml.split('\n').filter((l) => l.trimStart().startsWith('#')).length >= 10);

    // It refuses to overwrite.
    const again = spawnTessera(['generate-config', '--output', file], cwd);
    assert.equal((await again.exited).code, 2);
    assert.match(again.stderr(), /cannot write/);
    assert.equal(readFileSync(file, 'utf8'), yaml);

    // A server name that is not one is refused, and nothing is written.
    const bad = spawnTessera(['generate-config', '--server-name', 'bad name!', '--output', join(cwd, 'bad.yaml')], cwd);
    assert.equal((await bad.exited).code, 2);
    assert.match(bad.stderr(), /^tessera: --server-name "bad name!" is not a server name/);
    assert.equal(existsSync(join(cwd, 'bad.yaml')), false);

    // Without --output it prints the config.
    const printed = spawnTessera(['generate-config', '--server-name', 'y.example'], cwd);
    assert.equal((await printed.exited).code, 0);
    assert.match(printed.lines.join('\n'), /^server_name: "y\.example"$/m);

    // The file as written, on a free port instead of 8008 (parallel tests).
    writeFileSync(file, yaml.replace(/port: 8008/, 'port: 0'));
    const proc = spawnTessera(['start', '--config', file], cwd);
    try {
      const listening = await proc.waitForLog(isListening);
      assert.equal(listening.server_name, 'x.example');
      const versions = await call(listening.urls[0], 'GET', '/_matrix/client/versions');
      assert.equal(versions.status, 200);
      const closed = await call(listening.urls[0], 'POST', V1, { type: 'm.login.password', user: 'a', password: 'b' });
      assert.equal(closed.status, 403);
      assert.equal(closed.body.errcode, 'M_FORBIDDEN');
      assert.deepEqual(
        proc.logs.filter((l) => l.level >= 40),
        [],
      );
      assert.ok(existsSync(join(cwd, 'data/tessera.db')));
    } finally {
      proc.child.kill('SIGTERM');
      assert.equal((await proc.exited).code, 0, proc.stderr());
    }
  });

  it('with no --config and no ./tessera.yaml writes the development config and says so first', async () => {
    const cwd = workdir('dev');
    const proc = spawnTessera(['start'], cwd);
    try {
      // It then listens on 127.0.0.1:8008, which another process may hold: only the first
      // line and the written file are asserted.
      await proc.waitForLog(() => true);
      const first = JSON.parse(proc.lines[0]!);
      assert.equal(first.level, 30);
      assert.match(first.msg, /development config/);
      assert.equal(first.config, join(cwd, 'tessera.yaml'));
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
    }
    const yaml = readFileSync(join(cwd, 'tessera.yaml'), 'utf8');
    assert.match(yaml, /^server_name: "localhost"$/m);
    assert.match(yaml, /^ {2}- port: 8008$/m);
    assert.match(yaml, /bind_addresses: \["127\.0\.0\.1"\]/);
    assert.match(yaml, /^ {4}database: data\/tessera\.db$/m);
    assert.match(yaml, /^enable_registration: true$/m);

    // Next time ./tessera.yaml is found and used as is (here moved to a free port).
    writeFileSync(join(cwd, 'tessera.yaml'), yaml.replace(/port: 8008/, 'port: 0'));
    const second = spawnTessera(['start'], cwd);
    try {
      const listening = await second.waitForLog(isListening);
      const first = JSON.parse(second.lines[0]!);
      assert.equal(first.msg, 'config loaded');
      assert.equal(first.config, join(cwd, 'tessera.yaml'));
      const reg = await call(listening.urls[0], 'POST', V1, { type: 'm.login.password', user: 'dev', password: 'pw' });
      assert.equal(reg.body.user_id, '@dev:localhost');
      assert.ok(existsSync(join(cwd, 'data/tessera.db')));
    } finally {
      second.child.kill('SIGINT');
      assert.equal((await second.exited).code, 0, second.stderr());
    }
  });

  describe('an invalid config exits with status 2 naming the key', () => {
    const cases: [string, string, RegExp][] = [
      ['a bad port', 'server_name: a\nlisteners: [{port: eighty}]\n', /listeners\[0\]\.port/],
      ['a duplicate key', 'server_name: a\nserver_name: b\n', /duplicate key 'server_name'/],
      [
        'a gate Tessera cannot enforce, and a typo (both named, one line each)',
        'server_name: a\nenable_registration: true\nregistrations_require_3pid: [msisdn]\nenable_registraton: false\n',
        /^tessera: config key 'registrations_require_3pid' is not supported: .*\ntessera: unknown config key 'enable_registraton' \(did you mean 'enable_registration'\?\)/m,
      ],
    ];
    // Every other message is covered in test/unit/config.test.ts; a process costs seconds.
    for (const [name, yaml, expected] of cases) {
      it(name, async () => {
        const cwd = workdir('invalid');
        writeFileSync(join(cwd, 'bad.yaml'), yaml);
        const proc = spawnTessera(['start', '--config', 'bad.yaml'], cwd);
        const { code } = await proc.exited;
        assert.equal(code, 2, proc.stderr());
        assert.match(proc.stderr(), expected);
        assert.match(proc.stderr(), /^tessera: /);
        assert.ok(!proc.logs.some(isListening));
      });
    }

    it('a config file that does not exist', async () => {
      const cwd = workdir('missing');
      const proc = spawnTessera(['start', '--config', 'nope.yaml'], cwd);
      assert.equal((await proc.exited).code, 2);
      assert.match(proc.stderr(), /cannot read config file .*nope\.yaml/);
      assert.ok(!existsSync(join(cwd, 'tessera.yaml')), 'no development config when --config is given');
    });
  });

  it('SIGTERM stops accepting, finishes the in-flight request, closes the database and exits 0', async () => {
    const cwd = workdir('sigterm');
    // A siteverify endpoint that answers only when told to: the captcha request stays in flight.
    let release: () => void = () => {};
    const released = new Promise<void>((r) => {
      release = r;
    });
    let arrived: () => void = () => {};
    const arrivedP = new Promise<void>((r) => {
      arrived = r;
    });
    const verifier: Server = createHttpServer((req, res) => {
      req.resume();
      arrived();
      void released.then(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"success": true}');
      });
    });
    await new Promise<void>((r) => verifier.listen(0, '127.0.0.1', () => r()));
    const verifyPort = (verifier.address() as { port: number }).port;
    const dbPath = join(cwd, 'tessera.db');
    writeFileSync(
      join(cwd, 'tessera.yaml'),
      `server_name: localhost
listeners: [{port: 0, bind_addresses: ['127.0.0.1']}]
database: {name: sqlite3, args: {database: tessera.db}}
enable_registration: true
enable_registration_captcha: true
recaptcha_public_key: pub
recaptcha_private_key: priv
recaptcha_siteverify_api: "http://127.0.0.1:${verifyPort}/siteverify"
`,
    );
    const proc = spawnTessera(['start', '--config', 'tessera.yaml'], cwd);
    try {
      const base = (await proc.waitForLog(isListening)).urls[0] as string;
      assert.ok(existsSync(`${dbPath}-wal`), 'WAL mode while open');

      const inFlight = call(base, 'POST', V1, { type: 'm.login.recaptcha', response: 'r' });
      await arrivedP;
      proc.child.kill('SIGTERM');
      await proc.waitForLog((l) => l.msg === 'stopping: finishing in-flight requests');

      // No new connections once stopping (a refused connection or 503, never served).
      const late = await fetch(`${base}/_matrix/client/versions`).then(
        (r) => r.status,
        () => 'refused',
      );
      assert.ok(late === 'refused' || late === 503, `a request after SIGTERM got ${late}`);

      release();
      const res = await inFlight;
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.next, 'm.login.password');
      assert.equal(typeof res.body.session, 'string');

      const answeredAt = Date.now();
      const { code, signal } = await proc.exited;
      assert.equal(code, 0, proc.stderr());
      // The client's keep-alive connection must not hold the exit back (Fastify keeps idle
      // connections 72 s): the reply during shutdown closes it.
      assert.ok(Date.now() - answeredAt < 15_000, `exit took ${Date.now() - answeredAt} ms after the last reply`);
      assert.equal(signal, null);
      assert.ok(proc.logs.some((l) => l.msg === 'stopped'));
      assert.ok(proc.logs.some((l) => l.msg === 'request' && l.method === 'POST' && l.status === 200));
      // A cleanly closed SQLite database checkpoints and removes its WAL file.
      assert.ok(!existsSync(`${dbPath}-wal`), 'the database was not closed');
      const db = new SQLite(dbPath, { readonly: true });
      try {
        const row = db.prepare('SELECT COUNT(*) AS n FROM uia_sessions WHERE session_id = ?').get(res.body.session) as {
          n: number;
        };
        assert.equal(row.n, 1, 'the in-flight request committed its session');
      } finally {
        db.close();
      }
    } finally {
      release();
      proc.child.kill('SIGKILL');
      await new Promise<void>((r) => verifier.close(() => r()));
    }
  });
});
