import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ClientAddresses } from '../../src/api/client-address.js';
import { MAX_JSON_DEPTH, nestingExceeds } from '../../src/api/json-body.js';
import { clientErrorHandler } from '../../src/api/listener.js';
import { defineRoute } from '../../src/api/route.js';
import { buildServer } from '../../src/api/server.js';
import { createLogger } from '../../src/observability/logger.js';
import type { Services } from '../../src/service/index.js';
import { AddressSet } from '../../src/util/address-set.js';
import { assertError } from '../helpers/assert.js';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';
import { passwordAuth, registerUser, type TestUser } from '../helpers/users.js';

/**
 * What the HTTP edge refuses before any endpoint runs, and that every refusal is a Matrix
 * error `{errcode, error}` with a 4xx status, never a framework's own body or a 5xx.
 */

const V1_REGISTER = '/_matrix/client/api/v1/register';
const V3_REGISTER = '/_matrix/client/v3/register';
const LOGIN = '/_matrix/client/v3/login';
const DEVICES = '/_matrix/client/v3/devices';

function nestedArrays(depth: number, inner: string): string {
  return `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
}
function nestedObjects(depth: number, inner: string): string {
  return `${'{"a":'.repeat(depth)}${inner}${'}'.repeat(depth)}`;
}

/** Exactly `{errcode, error}` (plus the spec's optional extras such as retry_after_ms). */
function assertMatrixBody(body: unknown): void {
  assert.equal(typeof body, 'object', String(body));
  const b = body as Record<string, unknown>;
  assert.equal(typeof b.errcode, 'string', JSON.stringify(body));
  assert.equal(typeof b.error, 'string', JSON.stringify(body));
}

/** Send raw bytes on a fresh connection and read the whole reply (the server closes it). */
function rawExchange(url: string, bytes: string): Promise<{ status: number; headers: string; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let data = '';
    socket.on('data', (c: Buffer) => {
      data += c.toString('utf8');
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const split = data.indexOf('\r\n\r\n');
      const head = data.slice(0, split);
      resolve({ status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body: data.slice(split + 4) });
    });
    socket.write(bytes);
  });
}

await describeEachBackend('request edge', (backend) => {
  let s: TestServer;
  let user: TestUser;
  before(async () => {
    s = await startServer({ backend });
    user = await registerUser(s, 'edge', 'pw-edge-1');
  });
  after(() => s.close());

  describe('nesting', () => {
    it('refuses 4,000-deep arrays holding a NUL with 400 M_BAD_JSON on an unauthenticated endpoint', async () => {
      for (const path of [V1_REGISTER, V3_REGISTER, LOGIN]) {
        const res = await s.request('POST', path, undefined, { raw: nestedArrays(4000, '"\\u0000"') });
        assertError(res, 400, 'M_BAD_JSON');
      }
    });

    it('refuses 5,000-deep objects in a UIA body with 400 M_BAD_JSON and deletes nothing', async () => {
      const deep = nestedObjects(5000, '1');
      const auth = JSON.stringify(passwordAuth(user.userId, user.password));
      const bodies: [string, string][] = [
        ['POST', `${DEVICES.replace('/devices', '/delete_devices')}`],
        ['DELETE', `${DEVICES}/${user.deviceId}`],
        ['POST', '/_matrix/client/v3/account/deactivate'],
      ];
      for (const [method, path] of bodies) {
        const raw = `{"devices":[],"auth":${auth},"deep":${deep}}`;
        const res = await s.request(method, path, undefined, { raw, token: user.token });
        assertError(res, 400, 'M_BAD_JSON');
      }
      const whoami = await s.request('GET', '/_matrix/client/v3/account/whoami', undefined, { token: user.token });
      assert.equal(whoami.status, 200, 'the device and the account are still there');
    });

    it('reads 64 levels of nesting and refuses 65', async () => {
      const ok = await s.request('POST', LOGIN, undefined, {
        raw: `{"type":"m.login.password","x":${nestedArrays(63, '1')}}`,
      });
      assert.notEqual(ok.body.errcode, 'M_BAD_JSON', JSON.stringify(ok.body));
      const deep = await s.request('POST', LOGIN, undefined, {
        raw: `{"type":"m.login.password","x":${nestedArrays(64, '1')}}`,
      });
      assertError(deep, 400, 'M_BAD_JSON');
    });

    it('counts brackets inside strings as text, not nesting', async () => {
      const res = await s.request('POST', V1_REGISTER, {
        type: 'm.login.password',
        user: 'brackets',
        password: `${'['.repeat(200)}\\"{`,
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    });
  });

  describe('unpaired surrogates', () => {
    it('refuses a password with a lone surrogate with 400 M_BAD_JSON and creates no account', async () => {
      for (const lone of ['\\ud800', '\\udfff', '\\uDBFF']) {
        const res = await s.request('POST', V1_REGISTER, undefined, {
          raw: `{"type":"m.login.password","user":"lone","password":"pw${lone}"}`,
        });
        assertError(res, 400, 'M_BAD_JSON');
      }
      const available = await s.request('GET', `${V3_REGISTER}/available?username=lone`);
      assert.equal(available.status, 200, JSON.stringify(available.body));
    });

    it('refuses a lone surrogate in an object key', async () => {
      const res = await s.request('POST', LOGIN, undefined, { raw: '{"type":"m.login.password","\\udc00":1}' });
      assertError(res, 400, 'M_BAD_JSON');
    });

    it('accepts surrogate pairs, escaped or not, as the characters they encode', async () => {
      const res = await s.request('POST', V1_REGISTER, undefined, {
        raw: '{"type":"m.login.password","user":"paired","password":"pw\\ud83d\\ude00😀"}',
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const login = await s.request('POST', LOGIN, {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: 'paired' },
        password: 'pw😀😀',
      });
      assert.equal(login.status, 200, JSON.stringify(login.body));
    });

    it('refuses NUL and lone surrogates in the query string with 400 M_INVALID_PARAM', async () => {
      for (const q of ['%00', '%ED%A0%80']) {
        const res = await s.request('GET', `${V3_REGISTER}/available?username=a${q}`);
        assert.ok(res.status === 400, JSON.stringify(res.body));
        assertMatrixBody(res.body);
      }
    });
  });

  describe('paths', () => {
    it('answers a path that is not percent-encoded UTF-8 with 400 M_INVALID_PARAM', async () => {
      for (const path of [`${DEVICES}/%FF`, '/_matrix/client/%FF/versions', `${DEVICES}/%E0%A4%A`]) {
        const res = await s.request('GET', path, undefined, { token: user.token });
        assertError(res, 400, 'M_INVALID_PARAM');
        assert.equal(res.headers.get('access-control-allow-origin'), '*');
      }
    });

    it('addresses a device id of 512 characters, percent-encoded, and refuses longer parameters', async () => {
      for (const id of ['D'.repeat(512), 'é'.repeat(512), '😀'.repeat(512), '/'.repeat(512)]) {
        const res = await s.request('GET', `${DEVICES}/${encodeURIComponent(id)}`, undefined, { token: user.token });
        assertError(res, 404, 'M_NOT_FOUND');
      }
      for (const path of [`${DEVICES}/${'D'.repeat(512 * 3 + 1)}`, `${DEVICES}/${'D'.repeat(5000)}`]) {
        const res = await s.request('GET', path, undefined, { token: user.token });
        assertError(res, 400, 'M_INVALID_PARAM');
        const put = await s.request('PUT', path, { display_name: 'x' }, { token: user.token });
        assertError(put, 400, 'M_INVALID_PARAM');
      }
    });
  });

  describe('content types', () => {
    it('reads the body as JSON whatever the Content-Type, or without one', async () => {
      const body = JSON.stringify({
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: 'edge' },
        password: 'pw-edge-1',
      });
      for (const contentType of ['garbage', 'text/plain', 'application/x-www-form-urlencoded', '', ';;', 'a/b; c']) {
        const res = await s.request('POST', LOGIN, undefined, { raw: body, headers: { 'content-type': contentType } });
        assert.equal(res.status, 200, `${contentType}: ${JSON.stringify(res.body)}`);
      }
      const none = await fetch(s.url + LOGIN, { method: 'POST', body: new Blob([body]) });
      assert.equal(none.status, 200, await none.text());
    });
  });

  describe('malformed HTTP', () => {
    it('answers a malformed request line or header with a 400 Matrix error', async () => {
      for (const bytes of ['GARBAGE\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n']) {
        const res = await rawExchange(s.url, bytes);
        assert.equal(res.status, 400, res.body);
        assert.match(res.headers, /content-type: application\/json/);
        assertMatrixBody(JSON.parse(res.body));
      }
    });

    it('answers headers over node’s size limit with 431 M_TOO_LARGE', async () => {
      const res = await rawExchange(
        s.url,
        `GET /_matrix/client/versions HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`,
      );
      assert.equal(res.status, 431, res.body);
      assert.equal(JSON.parse(res.body).errcode, 'M_TOO_LARGE');
    });
  });
});

describe('replies made outside routing', () => {
  it('answers a request not received within node’s requestTimeout with 408 and a Matrix body', () => {
    const written: string[] = [];
    let destroyed = false;
    const socket = {
      destroyed: false,
      writable: true,
      write: (chunk: string) => written.push(chunk),
      destroy: () => {
        destroyed = true;
      },
    };
    const err = Object.assign(new Error('timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });
    clientErrorHandler(createLogger({ level: 'silent', format: 'json' }))(err, socket as unknown as Duplex);
    assert.equal(destroyed, true);
    const reply = written.join('');
    assert.match(reply, /^HTTP\/1\.1 408 /);
    assert.deepEqual(Object.keys(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4))), ['errcode', 'error']);
  });

  it('answers 503 with a Matrix body once the server is shutting down', async () => {
    const log = createLogger({ level: 'silent', format: 'json' });
    const http = buildServer({
      services: {} as Services,
      routes: [
        defineRoute({ method: 'GET', paths: ['/ping'], auth: 'none' }, () => assert.fail('routing must not run')),
      ],
      log,
      bodyLimit: 1000,
      clientAddresses: new ClientAddresses(new AddressSet([])),
    });
    await http.close();
    // A request that still reaches the handler (a connection kept open) is answered, not routed.
    const server = createServer(http.requestHandler({ xForwarded: false }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/ping`);
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      assert.equal(res.headers.get('connection'), 'close');
      assert.equal(((await res.json()) as { errcode: string }).errcode, 'M_UNKNOWN');
    } finally {
      server.close();
    }
  });
});

describe('JSON nesting scan', () => {
  it('measures nesting of arrays and objects, ignoring brackets in strings and escapes', () => {
    assert.equal(nestingExceeds('[[1]]', 2), false);
    assert.equal(nestingExceeds('[[1]]', 1), true);
    assert.equal(nestingExceeds('{"a":{"b":[1]}}', 3), false);
    assert.equal(nestingExceeds('{"a":{"b":[1]}}', 2), true);
    assert.equal(nestingExceeds('["[[[[", "\\"[[[["]', 1), false);
    assert.equal(nestingExceeds('[1],[2],[3]', 1), false);
    assert.equal(nestingExceeds(nestedArrays(MAX_JSON_DEPTH, '1'), MAX_JSON_DEPTH), false);
    assert.equal(nestingExceeds(nestedArrays(MAX_JSON_DEPTH + 1, '1'), MAX_JSON_DEPTH), true);
  });
});
