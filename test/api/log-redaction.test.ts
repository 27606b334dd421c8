import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { type App, createApp } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { createLogger, redactUrl } from '../../src/observability/logger.js';
import { v1Password } from '../helpers/users.js';

/**
 * Nothing secret reaches the logs: passwords in bodies, tokens in the
 * Authorization header or the `access_token` query parameter, on success and on 4xx replies.
 * The server logs at `trace`, so every line it could ever write is captured.
 */

const PASSWORD = 'Correct-Horse-Battery-Staple-7';
const OTHER_PASSWORD = 'Another-Secret-Passphrase-9';
const WRONG_TOKEN = 'syt_not_a_real_token_but_secret_anyway';
const SESSION = 'uia-session-id-that-must-stay-secret';

interface RequestLine {
  msg: string;
  method: string;
  url: string;
  status: number;
}

describe('log redaction', () => {
  let app: App;
  let base: string;
  let dir: string;
  let output = '';
  const lines = (): Record<string, any>[] =>
    output
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-redact-'));
    const { config } = validateConfig(
      {
        server_name: 'localhost',
        listeners: [{ port: 0, bind_addresses: ['127.0.0.1'] }],
        database: { name: 'sqlite3', args: { database: join(dir, 'tessera.db') } },
        enable_registration: true,
        password_hashing: { memory_kib: 256, iterations: 1, parallelism: 1 },
        max_request_body_size: 2048,
      },
      dir,
    );
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    app = await createApp({ config, log: createLogger({ level: 'trace', format: 'json', destination: stream }) });
    [base] = (await app.listen()) as [string];
  });
  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function send(method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}) {
    const res = await fetch(base + path, { method, ...init });
    return { status: res.status, body: (await res.json()) as any };
  }

  it('keeps passwords and tokens out of every line while logging each request', async () => {
    const reg = await send('POST', '/_matrix/client/api/v1/register', {
      body: JSON.stringify(v1Password('redact', PASSWORD)),
    });
    assert.equal(reg.status, 200, JSON.stringify(reg.body));
    const token: string = reg.body.access_token;
    assert.ok(token.length >= 22);

    const expected: { method: string; url: string; status: number }[] = [
      { method: 'POST', url: '/_matrix/client/api/v1/register', status: 200 },
    ];
    const check = async (
      method: string,
      path: string,
      status: number,
      loggedUrl: string,
      init: { body?: string; headers?: Record<string, string> } = {},
      errcode?: string,
    ) => {
      const res = await send(method, path, init);
      assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
      if (errcode !== undefined) assert.equal(res.body.errcode, errcode);
      expected.push({ method, url: loggedUrl, status });
    };

    const whoami = '/_matrix/client/v3/account/whoami';
    await check('GET', `${whoami}?access_token=${token}`, 200, `${whoami}?access_token=[redacted]`);
    await check('GET', whoami, 200, whoami, { headers: { authorization: `Bearer ${token}` } });
    // A percent-encoded key is still the access_token parameter to the query parser.
    await check('GET', `${whoami}?access%5Ftoken=${token}`, 200, `${whoami}?access%5Ftoken=[redacted]`);
    await check(
      'GET',
      `${whoami}?x=1&access_token=${WRONG_TOKEN}`,
      401,
      `${whoami}?x=1&access_token=[redacted]`,
      {},
      'M_UNKNOWN_TOKEN',
    );
    await check('GET', whoami, 401, whoami, { headers: { authorization: `Bearer ${WRONG_TOKEN}` } }, 'M_UNKNOWN_TOKEN');
    await check(
      'GET',
      `/_matrix/client/v3/nowhere?access_token=${token}`,
      404,
      '/_matrix/client/v3/nowhere?access_token=[redacted]',
      {},
      'M_UNRECOGNIZED',
    );
    // The captcha fallback page carries the UIA session in its URL (spec: "Fallback").
    const fallback = '/_matrix/client/v3/auth/m.login.recaptcha/fallback/web';
    await check('GET', `${fallback}?session=${SESSION}`, 404, `${fallback}?session=[redacted]`, {}, 'M_UNKNOWN');
    const v1 = '/_matrix/client/api/v1/register';
    const body = (o: unknown) => ({ body: JSON.stringify(o) });
    const refusedV1 = (init: { body: string }, errcode: string) => check('POST', v1, 400, v1, init, errcode);
    await refusedV1(body(v1Password('REDACT', OTHER_PASSWORD)), 'M_USER_IN_USE');
    await refusedV1(body(v1Password('bad name', OTHER_PASSWORD)), 'M_INVALID_USERNAME');
    await refusedV1(body(v1Password(5, OTHER_PASSWORD)), 'M_BAD_JSON');
    await refusedV1({ body: `{"type":"m.login.password","password":"${OTHER_PASSWORD}"` }, 'M_NOT_JSON');
    await check(
      'POST',
      `${v1}?access_token=${token}`,
      413,
      `${v1}?access_token=[redacted]`,
      body({ type: 'm.login.password', password: OTHER_PASSWORD, pad: 'x'.repeat(4096) }),
      'M_TOO_LARGE',
    );

    // The log is written synchronously with the reply; give the stream one turn to deliver.
    await new Promise((r) => setImmediate(r));
    for (const secret of [PASSWORD, OTHER_PASSWORD, token, WRONG_TOKEN, SESSION]) {
      assert.ok(!output.includes(secret), `secret ${secret.slice(0, 6)}… appears in the log:\n${output}`);
    }
    const requests = lines().filter((l): l is RequestLine & Record<string, any> => l.msg === 'request');
    assert.deepEqual(
      requests.map((l) => ({ method: l.method, url: l.url, status: l.status })),
      expected,
    );
    for (const l of requests) {
      assert.equal(typeof l.ms, 'number');
      assert.equal(l.ip, '127.0.0.1');
    }
  });

  it('redacts credential parameters in URLs, however the key is written', () => {
    assert.equal(redactUrl('/p'), '/p');
    assert.equal(redactUrl('/p?a=1'), '/p?a=1');
    assert.equal(redactUrl('/p?access_token=abc'), '/p?access_token=[redacted]');
    assert.equal(redactUrl('/p?a=1&access_token=abc&b=2'), '/p?a=1&access_token=[redacted]&b=2');
    assert.equal(redactUrl('/p?ACCESS_TOKEN=abc'), '/p?ACCESS_TOKEN=[redacted]');
    assert.equal(redactUrl('/p?access%5Ftoken=abc'), '/p?access%5Ftoken=[redacted]');
    assert.equal(redactUrl('/p?access%5ftoken=%zz&a=%'), '/p?access%5ftoken=[redacted]&a=%');
    assert.equal(redactUrl('/p?%zz&access_token=abc'), '/p?%zz&access_token=[redacted]');
    assert.equal(redactUrl('/p?refresh_token=abc&token=def'), '/p?refresh_token=[redacted]&token=[redacted]');
    assert.equal(redactUrl('/p?access_token'), '/p?access_token=[redacted]');
    assert.equal(redactUrl('/p?note=access_token=abc'), '/p?note=access_token=abc');
  });

  it('redacts UIA session ids and other credential parameters in URLs', () => {
    const fallback = '/_matrix/client/v3/auth/m.login.recaptcha/fallback/web';
    assert.equal(redactUrl(`${fallback}?session=AbCdEf123`), `${fallback}?session=[redacted]`);
    assert.equal(redactUrl(`${fallback}?Session=x&lang=en`), `${fallback}?Session=[redacted]&lang=en`);
    assert.equal(redactUrl('/p?client_secret=c&sid=s'), '/p?client_secret=[redacted]&sid=[redacted]');
    assert.equal(redactUrl('/p?loginToken=t&login_token=u'), '/p?loginToken=[redacted]&login_token=[redacted]');
    assert.equal(redactUrl('/p?sess%69on=x'), '/p?sess%69on=[redacted]');
  });

  it('redacts secret fields in anything logged as an object', async () => {
    let captured = '';
    const stream = new PassThrough();
    stream.on('data', (c: Buffer) => {
      captured += c.toString('utf8');
    });
    const log = createLogger({ level: 'info', format: 'json', destination: stream });
    log.info(
      {
        password: 'p-one',
        body: { new_password: 'p-two', access_token: 't-one', refresh_token: 't-two', auth: { password: 'p-three' } },
        headers: { authorization: 'Bearer t-three' },
        config: { registration_shared_secret: 's-one', recaptcha_private_key: 's-two' },
        uia: { auth: { session: 'u-one' }, session: 'u-two', client_secret: 'u-three', sid: 'u-four' },
      },
      'object',
    );
    await new Promise((r) => setImmediate(r));
    for (const secret of [
      'p-one',
      'p-two',
      'p-three',
      't-one',
      't-two',
      't-three',
      's-one',
      's-two',
      'u-one',
      'u-two',
      'u-three',
      'u-four',
    ]) {
      assert.ok(!captured.includes(secret), `${secret} leaked: ${captured}`);
    }
    assert.equal(JSON.parse(captured).msg, 'object');
    assert.equal(JSON.parse(captured).body.auth.password, '[redacted]');
  });
});
