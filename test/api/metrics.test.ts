import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, it } from 'node:test';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';
import { login, loginErrcode, registerUser, whoami } from '../helpers/users.js';

/** Prometheus text → sample value, by `name{labels}` exactly as printed (labels in prom-client's order). */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

await describeEachBackend('Prometheus metrics (enable_metrics, type: metrics listener)', (backend) => {
  let s: TestServer;
  let metricsUrl: string;
  const scrape = async () => {
    const res = await fetch(`${metricsUrl}/_synapse/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    return samples(await res.text());
  };

  before(async () => {
    s = await startServer({
      backend,
      config: {
        enable_metrics: true,
        listeners: [
          { port: 0, bind_addresses: ['127.0.0.1'] },
          { type: 'metrics', port: 0, bind_addresses: ['127.0.0.1'] },
        ],
        rc_login: {
          address: { per_second: 1000, burst_count: 1000 },
          account: { per_second: 1000, burst_count: 1000 },
          failed_attempts: { per_second: 0.001, burst_count: 2 },
        },
      },
    });
    assert.equal(s.app.metricsUrls.length, 1);
    metricsUrl = s.app.metricsUrls[0]!;
  });
  after(() => s.close());

  it('counts requests by route pattern, method and status, with their latency', async () => {
    const alice = await registerUser(s, 'alice');
    for (let i = 0; i < 3; i++) assert.equal((await whoami(s, alice.token)).status, 200);
    await whoami(s, 'not-a-token');
    await s.request('GET', '/_matrix/client/v3/devices/SOMEDEVICE', undefined, { token: alice.token });
    const m = await scrape();
    const route = '/_matrix/client/v3/account/whoami';
    assert.equal(m.get(`tessera_http_requests_total{method="GET",route="${route}",status="200"}`), 3);
    assert.equal(m.get(`tessera_http_requests_total{method="GET",route="${route}",status="401"}`), 1);
    assert.equal(m.get(`tessera_http_request_duration_seconds_count{method="GET",route="${route}"}`), 4);
    // Path parameters stay patterns: one series, whatever the device id.
    assert.equal(
      m.get('tessera_http_requests_total{method="GET",route="/_matrix/client/v3/devices/:deviceId",status="404"}'),
      1,
    );
  });

  it('counts accounts, UIA stages, logins and rate-limit refusals', async () => {
    const before = await scrape();
    const v3 = await s.request('POST', '/_matrix/client/v3/register', {
      username: 'bob',
      password: 'pw-bob-1',
      auth: { type: 'm.login.dummy' },
    });
    assert.equal(v3.status, 200, JSON.stringify(v3.body));
    await login(s, 'bob', 'pw-bob-1');
    assert.equal(await loginErrcode(s, 'carol-unknown', 'x'), 'M_FORBIDDEN');
    assert.equal(await loginErrcode(s, 'carol-unknown', 'x'), 'M_FORBIDDEN');
    const limited = await s.request('POST', '/_matrix/client/v3/login', {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: 'carol-unknown' },
      password: 'x',
    });
    assert.equal(limited.status, 429);
    const m = await scrape();
    const grew = (name: string) => (m.get(name) ?? 0) - (before.get(name) ?? 0);
    assert.equal(grew('tessera_registrations_total{kind="user"}'), 1);
    assert.equal(grew('tessera_uia_stages_total{stage="m.login.dummy",outcome="passed"}'), 1);
    assert.equal(grew('tessera_logins_total{outcome="success"}'), 1);
    assert.equal(grew('tessera_logins_total{outcome="failure"}'), 2);
    assert.equal(grew('tessera_rate_limited_total{limit="login.failed"}'), 1);
    assert.ok(grew('tessera_password_hash_seconds_count') >= 2, 'hashes and checks are timed');
  });

  it('reports UIA sessions open, database queries, the pool, and Node process metrics', async () => {
    const challenge = await s.request('POST', '/_matrix/client/v3/register', {});
    assert.equal(challenge.status, 401);
    const m = await scrape();
    // The challenge above stored a session: the gauge reads the database at scrape time.
    assert.ok((m.get('tessera_uia_sessions_open') ?? 0) >= 1, String(m.get('tessera_uia_sessions_open')));
    assert.ok((m.get('tessera_db_query_seconds_count') ?? 0) > 0);
    assert.ok(m.has('process_cpu_user_seconds_total'));
    assert.ok(m.has('nodejs_eventloop_lag_seconds'));
    if (backend === 'postgres') assert.ok((m.get('tessera_db_pool_connections{state="total"}') ?? 0) >= 1);
  });

  it('docs/grafana-dashboard.json asks only for metrics that exist', async () => {
    const dashboard = readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8');
    const names = new Set([...dashboard.matchAll(/\b((?:tessera|process|nodejs)_[a-z_]+)/g)].map((m) => m[1]!));
    assert.ok(names.size >= 10);
    const text = await (await fetch(`${metricsUrl}/metrics`)).text();
    for (const name of names) {
      const family = name.replace(/_(bucket|count|sum)$/, '');
      assert.match(text, new RegExp(`^# TYPE ${family} `, 'm'), `${name} is not served`);
    }
  });

  it('the metrics port serves only metrics; the client port does not serve them', async () => {
    assert.equal((await fetch(`${metricsUrl}/_matrix/client/versions`)).status, 404);
    assert.equal((await fetch(`${metricsUrl}/metrics`)).status, 200);
    const onClient = await s.request('GET', '/_synapse/metrics');
    assert.equal(onClient.status, 404);
    assert.equal(onClient.body.errcode, 'M_UNRECOGNIZED');
  });
});
