import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ClientAddresses } from '../../src/api/client-address.js';
import { type App, createApp } from '../../src/app.js';
import { ConfigError, validateConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { AddressSet } from '../../src/util/address-set.js';
import { assertError } from '../helpers/assert.js';
import { dropSchema, POSTGRES_URL, uniqueSchemaName } from '../helpers/backends.js';
import { type Backend, describeEachBackend, startServer, type TestServer } from '../helpers/server.js';
import { passwordLogin } from '../helpers/users.js';

/**
 * Which address a request comes from (rate limits are per address): X-Forwarded-For counts only
 * on a listener with `x_forwarded: true`, only from a peer in `trusted_proxies`, and then only
 * its rightmost hop that is not itself a trusted proxy.
 */

const LOGIN = '/_matrix/client/v3/login';
/** Every POST /login counts against the address; three, then 429 for a long while. */
const LOGIN_LIMIT = {
  rc_login: {
    address: { per_second: 0.001, burst_count: 3 },
    account: { per_second: 1000, burst_count: 1000 },
    failed_attempts: { per_second: 1000, burst_count: 1000 },
  },
};

function loginFrom(url: string, forwardedFor: string | null) {
  return fetch(url + LOGIN, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(forwardedFor !== null && { 'x-forwarded-for': forwardedFor }) },
    body: JSON.stringify(passwordLogin('nobody', 'wrong')),
  }).then(async (res) => ({ status: res.status, body: (await res.json()) as any }));
}

/** Four logins, each with another X-Forwarded-For made by `header(i)`: the fourth must be 429. */
async function assertLimitedDespiteRotation(url: string, header: (i: number) => string): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const res = await loginFrom(url, header(i));
    assert.notEqual(res.status, 429, `attempt ${i + 1}: ${JSON.stringify(res.body)}`);
  }
  assertError(await loginFrom(url, header(3)), 429, 'M_LIMIT_EXCEEDED');
}

describe('client address resolution', () => {
  const addresses = new ClientAddresses(new AddressSet(['127.0.0.1/8', '::1/128', '10.0.0.0/8']));

  it('ignores X-Forwarded-For on a listener without x_forwarded', () => {
    assert.equal(addresses.resolve('127.0.0.1', '203.0.113.7', false), '127.0.0.1');
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    assert.equal(addresses.resolve('198.51.100.1', '203.0.113.7', true), '198.51.100.1');
    assert.equal(addresses.resolve('::ffff:198.51.100.1', '203.0.113.7', true), '198.51.100.1');
  });

  it('takes the rightmost hop that is not a trusted proxy', () => {
    assert.equal(addresses.resolve('127.0.0.1', '203.0.113.7', true), '203.0.113.7');
    assert.equal(addresses.resolve('127.0.0.1', '1.1.1.1, 203.0.113.7', true), '203.0.113.7');
    assert.equal(addresses.resolve('127.0.0.1', '1.1.1.1, 203.0.113.7, 10.1.2.3', true), '203.0.113.7');
    assert.equal(addresses.resolve('127.0.0.1', '1.1.1.1,203.0.113.7,10.1.2.3,10.0.0.1', true), '203.0.113.7');
    assert.equal(addresses.resolve('127.0.0.1', '2001:db8::1', true), '2001:db8::1');
  });

  it('maps IPv4-mapped IPv6 peers and hops to their IPv4 address', () => {
    assert.equal(addresses.resolve('::ffff:127.0.0.1', '203.0.113.7', true), '203.0.113.7');
    assert.equal(addresses.resolve('::1', '::ffff:203.0.113.7', true), '203.0.113.7');
    assert.equal(addresses.resolve('::ffff:10.0.0.2', '203.0.113.7, ::ffff:10.9.9.9', true), '203.0.113.7');
  });

  it('reads hops written with ports or brackets', () => {
    assert.equal(addresses.resolve('127.0.0.1', '203.0.113.7:4711', true), '203.0.113.7');
    assert.equal(addresses.resolve('127.0.0.1', '[2001:db8::1]:4711', true), '2001:db8::1');
    assert.equal(addresses.resolve('127.0.0.1', '[2001:db8::2]', true), '2001:db8::2');
  });

  it('stops at the last trusted proxy when a hop is not an address', () => {
    assert.equal(addresses.resolve('127.0.0.1', 'unknown', true), '127.0.0.1');
    assert.equal(addresses.resolve('127.0.0.1', '203.0.113.7, garbage, 10.0.0.5', true), '10.0.0.5');
    assert.equal(addresses.resolve('127.0.0.1', '', true), '127.0.0.1');
  });

  it('takes the leftmost hop when every hop is a trusted proxy', () => {
    assert.equal(addresses.resolve('127.0.0.1', '10.0.0.9, 10.0.0.8', true), '10.0.0.9');
  });

  it('trusts nobody with an empty trusted_proxies', () => {
    const none = new ClientAddresses(new AddressSet([]));
    assert.equal(none.resolve('127.0.0.1', '203.0.113.7', true), '127.0.0.1');
  });
});

describe('trusted_proxies config', () => {
  const base = { server_name: 'localhost', log_format: 'json' };

  it('defaults to this machine: 127.0.0.1/8 and ::1/128', () => {
    assert.deepEqual(validateConfig(base, '/tmp').config.trustedProxies, ['127.0.0.1/8', '::1/128']);
  });

  it('accepts addresses and CIDR ranges of both families', () => {
    const list = ['10.0.0.0/8', '192.0.2.1', 'fd00::/8', '2001:db8::1', '::ffff:192.0.2.0/120'];
    assert.deepEqual(validateConfig({ ...base, trusted_proxies: list }, '/tmp').config.trustedProxies, list);
  });

  it('names the first bad entry', () => {
    for (const [bad, at] of [
      [['10.0.0.0/8', 'proxy.example'], 'trusted_proxies[1]'],
      [['10.0.0.0/33'], 'trusted_proxies[0]'],
      [['::1/129'], 'trusted_proxies[0]'],
      [['10.0.0.0/'], 'trusted_proxies[0]'],
      [['10.0.0.0/-1'], 'trusted_proxies[0]'],
      [['', '10.0.0.1'], 'trusted_proxies[0]'],
    ] as const) {
      assert.throws(
        () => validateConfig({ ...base, trusted_proxies: bad }, '/tmp'),
        (err: unknown) => err instanceof ConfigError && err.message.includes(`invalid config value at ${at}:`),
        JSON.stringify(bad),
      );
    }
    assert.throws(
      () => validateConfig({ ...base, trusted_proxies: '10.0.0.0/8' }, '/tmp'),
      (err: unknown) => err instanceof ConfigError && err.message.includes('trusted_proxies'),
    );
  });
});

await describeEachBackend('X-Forwarded-For and per-address rate limits', (backend) => {
  const servers: TestServer[] = [];
  const start = async (config: Record<string, unknown>) => {
    const s = await startServer({ backend, config: { ...LOGIN_LIMIT, ...config } });
    servers.push(s);
    return s;
  };
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it('does not let a peer that is not a trusted proxy escape the limit by rotating the header', async () => {
    const s = await start({
      listeners: [{ port: 0, bind_addresses: ['127.0.0.1'], x_forwarded: true }],
      trusted_proxies: ['10.0.0.0/8'],
    });
    await assertLimitedDespiteRotation(s.url, (i) => `203.0.113.${i + 1}`);
  });

  it('from a trusted proxy, limits the rightmost untrusted hop whatever the client puts left of it', async () => {
    const s = await start({ listeners: [{ port: 0, bind_addresses: ['127.0.0.1'], x_forwarded: true }] });
    await assertLimitedDespiteRotation(s.url, (i) => `198.51.100.${i + 1}, 203.0.113.9`);
    // Another client behind the same proxy has its own bucket.
    const other = await loginFrom(s.url, '203.0.113.10');
    assert.notEqual(other.status, 429, JSON.stringify(other.body));
  });

  it('ignores the header on a listener with x_forwarded false, even when another listener has it', async () => {
    for (const order of ['plain first', 'plain second'] as const) {
      const plain = { port: 0, bind_addresses: ['127.0.0.1'], x_forwarded: false };
      const proxied = { port: 0, bind_addresses: ['127.0.0.1'], x_forwarded: true };
      const running = await startListeners(backend, order === 'plain first' ? [plain, proxied] : [proxied, plain]);
      try {
        const [plainUrl, proxiedUrl] = order === 'plain first' ? running.urls : [...running.urls].reverse();
        await assertLimitedDespiteRotation(plainUrl!, (i) => `203.0.113.${i + 1}`);
        // The listener with x_forwarded still sees each forwarded client on its own.
        const res = await loginFrom(proxiedUrl!, '203.0.113.200');
        assert.notEqual(res.status, 429, `${order}: ${JSON.stringify(res.body)}`);
      } finally {
        await running.close();
      }
    }
  });
});

/** A Tessera with several listeners (startServer knows only the first URL) on `backend`. */
async function startListeners(backend: Backend, listeners: Record<string, unknown>[]) {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-xff-'));
  const schema = uniqueSchemaName();
  const { config } = validateConfig(
    {
      server_name: 'localhost',
      listeners,
      database:
        backend === 'sqlite'
          ? { name: 'sqlite3', args: { database: join(dir, 't.db') } }
          : { name: 'psycopg2', args: { url: POSTGRES_URL, schema, cp_max: 5 } },
      enable_registration: true,
      password_hashing: { memory_kib: 256, iterations: 1, parallelism: 1 },
      log_level: 'silent',
      log_format: 'json',
      ...LOGIN_LIMIT,
    },
    dir,
  );
  const app = await createApp({ config });
  const urls = await app.listen();
  return {
    urls,
    async close() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
      if (backend === 'postgres') await dropSchema(schema);
    },
  };
}

describe('request log', () => {
  let app: App;
  let dir: string;
  let output = '';
  let url: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-xff-'));
    const { config } = validateConfig(
      {
        server_name: 'localhost',
        listeners: [{ port: 0, bind_addresses: ['127.0.0.1'], x_forwarded: true }],
        database: { name: 'sqlite3', args: { database: join(dir, 't.db') } },
      },
      dir,
    );
    const stream = new PassThrough();
    stream.on('data', (c: Buffer) => {
      output += c.toString('utf8');
    });
    app = await createApp({ config, log: createLogger({ level: 'info', format: 'json', destination: stream }) });
    [url] = (await app.listen()) as [string];
  });
  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs the resolved client address', async () => {
    await fetch(`${url}/_matrix/client/versions`, { headers: { 'x-forwarded-for': '192.0.2.1, 203.0.113.5' } });
    await fetch(`${url}/_matrix/client/versions`);
    await new Promise((r) => setImmediate(r));
    const ips = output
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l))
      .filter((l) => l.msg === 'request')
      .map((l) => l.ip);
    assert.deepEqual(ips, ['203.0.113.5', '127.0.0.1']);
  });
});
