import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertError, assertLoggedOut } from '../helpers/assert.js';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';
import { login as loginUser, registerUser, whoami as whoamiOf } from '../helpers/users.js';

const REFRESH = '/_matrix/client/v3/refresh';
const ACCESS_LIFETIME = 60_000;
const REFRESH_LIFETIME = 600_000;

interface Tokens {
  access: string;
  refresh: string;
  device: string;
}

/**
 * POST `body` to `path` over `count` connections at one moment: every connection is opened
 * (and accepted) first, then all requests are written in one go, so the server has every one
 * of them before it answers any. Returns the replies in connection order.
 */
async function burst(url: string, path: string, body: string, count: number): Promise<{ status: number; body: any }[]> {
  const { hostname, port } = new URL(url);
  const sockets = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = connect(Number(port), hostname, () => resolve(socket));
          socket.once('error', reject);
        }),
    ),
  );
  await sleep(50); // let the server accept every connection
  const replies = sockets.map(
    (socket) =>
      new Promise<{ status: number; body: any }>((resolve, reject) => {
        const chunks: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        socket.on('error', reject);
        socket.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = Number(text.slice('HTTP/1.1 '.length, 'HTTP/1.1 '.length + 3));
          resolve({ status, body: JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) });
        });
      }),
  );
  const request =
    `POST ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
  for (const socket of sockets) socket.write(request);
  return Promise.all(replies);
}

await describeEachBackend('POST /refresh (refresh tokens, spec v1.3)', (backend) => {
  let s: TestServer;
  let now = Date.now();
  const clock = { now: () => now };

  async function login(user: string, extra: Record<string, unknown> = {}): Promise<Tokens> {
    const { body, deviceId, token } = await loginUser(s, user, 'pw', { refresh_token: true, ...extra });
    assert.equal(typeof body.refresh_token, 'string');
    assert.equal(body.expires_in_ms, ACCESS_LIFETIME);
    return { access: token, refresh: body.refresh_token, device: deviceId };
  }

  async function refresh(token: string, server: TestServer = s) {
    return server.request('POST', REFRESH, { refresh_token: token });
  }

  async function refreshOk(token: string): Promise<{ access: string; refresh: string }> {
    const res = await refresh(token);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return { access: res.body.access_token, refresh: res.body.refresh_token };
  }

  const whoami = (token: string) => whoamiOf(s, token);

  before(async () => {
    s = await startServer({
      backend,
      clock,
      config: { refreshable_access_token_lifetime: '1m', refresh_token_lifetime: '10m' },
    });
    for (const user of ['alice', 'bob']) await registerUser(s, user, 'pw');
  });
  after(() => s.close());

  it('rotates: new access and refresh tokens for the same device', async () => {
    const t = await login('alice');
    const res = await refresh(t.refresh);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(Object.keys(res.body).sort(), ['access_token', 'expires_in_ms', 'refresh_token']);
    assert.equal(res.body.expires_in_ms, ACCESS_LIFETIME);
    assert.notEqual(res.body.access_token, t.access);
    assert.notEqual(res.body.refresh_token, t.refresh);
    const who = await whoami(res.body.access_token);
    assert.equal(who.status, 200);
    assert.deepEqual(who.body, { user_id: '@alice:localhost', device_id: t.device, is_guest: false });
  });

  it('the old access token works until the new one is first used, then stops', async () => {
    const t = await login('alice');
    assert.equal((await whoami(t.access)).status, 200); // cached now: the revocation must reach the cache
    const next = await refreshOk(t.refresh);
    assert.equal((await whoami(t.access)).status, 200, 'still valid: the client may not have the new one yet');
    assert.equal((await whoami(next.access)).status, 200);
    assertLoggedOut(await whoami(t.access));
  });

  it('a repeated refresh before the new tokens are used succeeds (lost response) and replaces them', async () => {
    const t = await login('alice');
    const lost = await refreshOk(t.refresh);
    const retry = await refreshOk(t.refresh);
    assert.notEqual(retry.access, lost.access);
    assertLoggedOut(await refresh(lost.refresh));
    assertLoggedOut(await whoami(lost.access));
    assert.equal((await whoami(retry.access)).status, 200, 'the retry did not count as theft');
    const after = await refreshOk(retry.refresh);
    assert.equal((await whoami(after.access)).status, 200);
  });

  it('a burst of refreshes of one token: one pair handed out stays alive, the others die', async () => {
    const t = await login('alice');
    const replies = await burst(s.url, REFRESH, JSON.stringify({ refresh_token: t.refresh }), 10);
    // How a burst splits between losers (401: read the token before another refresh committed)
    // and lost-response retries (200: read it after, replacing the pair handed out before) depends
    // on timing; what may never happen is two live pairs, a 5xx, or the winner taken for a thief.
    const statuses = JSON.stringify(replies.map((r) => r.status));
    for (const r of replies) if (r.status !== 200) assertLoggedOut(r);
    const won = replies.filter((r) => r.status === 200).map((r) => r.body);
    assert.ok(won.length >= 1, statuses);
    const alive: { access_token: string; refresh_token: string }[] = [];
    for (const pair of won) if ((await whoami(pair.access_token)).status === 200) alive.push(pair);
    assert.equal(alive.length, 1, `live pairs among ${statuses}`);
    for (const pair of won) if (pair !== alive[0]) assertLoggedOut(await refresh(pair.refresh_token));
    assert.equal((await refresh(alive[0]!.refresh_token)).status, 200, 'the live pair is not taken for a thief');
  });

  it('reusing a refresh token after its successor was used is theft: the whole chain dies', async () => {
    const t = await login('alice');
    const other = await login('alice');
    const next = await refreshOk(t.refresh);
    assert.equal((await whoami(next.access)).status, 200); // the successor is now in use
    assertLoggedOut(await refresh(t.refresh));
    assertLoggedOut(await whoami(next.access));
    assertLoggedOut(await refresh(next.refresh));
    assertLoggedOut(await whoami(t.access));
    assert.equal((await whoami(other.access)).status, 200, "another device's session is untouched");
    assert.equal((await refresh(other.refresh)).status, 200);
  });

  it('reusing a refresh token after its successor was exchanged is theft too', async () => {
    const t = await login('alice');
    const second = await refreshOk(t.refresh);
    const third = await refreshOk(second.refresh); // exchanging R2 uses it
    assertLoggedOut(await refresh(t.refresh));
    assertLoggedOut(await whoami(third.access));
    assertLoggedOut(await refresh(third.refresh));
  });

  it('an expired access token is 401 M_UNKNOWN_TOKEN with soft_logout: true; refresh revives it', async () => {
    const t = await login('alice');
    assert.equal((await whoami(t.access)).status, 200);
    now += ACCESS_LIFETIME + 1;
    const expired = await whoami(t.access);
    assertError(expired, 401, 'M_UNKNOWN_TOKEN');
    assert.equal(expired.body.soft_logout, true);
    const next = await refreshOk(t.refresh);
    assert.equal((await whoami(next.access)).status, 200);
  });

  it('an expired token may still log out (Synapse); then its refresh token is gone', async () => {
    const t = await login('alice');
    now += ACCESS_LIFETIME + 1;
    const res = await s.request('POST', '/_matrix/client/v3/logout', {}, { token: t.access });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assertLoggedOut(await refresh(t.refresh));
  });

  it('an expired refresh token is 401 M_UNKNOWN_TOKEN (soft_logout false)', async () => {
    const t = await login('alice');
    now += REFRESH_LIFETIME + 1;
    assertLoggedOut(await refresh(t.refresh));
  });

  it('an access token never outlives its refresh token', async () => {
    const local = await startServer({
      backend,
      clock,
      config: { refreshable_access_token_lifetime: '1h', refresh_token_lifetime: '5m' },
    });
    try {
      await registerUser(local, 'x', 'pw');
      const res = await local.request('POST', '/_matrix/client/v3/login', {
        type: 'm.login.password',
        user: 'x',
        password: 'pw',
        refresh_token: true,
      });
      assert.equal(res.status, 200);
      assert.equal(res.body.expires_in_ms, 300_000);
    } finally {
      await local.close();
    }
  });

  it('logout and device reuse end the refresh chain of that device', async () => {
    const t = await login('bob');
    assert.equal((await s.request('POST', '/_matrix/client/v3/logout', {}, { token: t.access })).status, 200);
    assertLoggedOut(await refresh(t.refresh));
    const a = await login('bob', { device_id: 'BOBPHONE' });
    const b = await login('bob', { device_id: 'BOBPHONE' });
    assertLoggedOut(await refresh(a.refresh));
    assert.equal((await refresh(b.refresh)).status, 200);
  });

  it('logout/all ends every refresh chain of the user', async () => {
    const a = await login('bob');
    const b = await login('bob');
    assert.equal((await s.request('POST', '/_matrix/client/v3/logout/all', {}, { token: a.access })).status, 200);
    assertLoggedOut(await refresh(a.refresh));
    assertLoggedOut(await refresh(b.refresh));
  });

  it('a deactivated account cannot refresh', async () => {
    await registerUser(s, 'carol', 'pw');
    const t = await login('carol');
    await s.app.storage.users.deactivate('@carol:localhost');
    assertLoggedOut(await refresh(t.refresh));
  });

  it('unknown tokens and malformed bodies get 4xx, never 5xx', async () => {
    const t = await login('alice');
    assertLoggedOut(await refresh('tsr_nope'));
    assertLoggedOut(await refresh(t.access));
    assertLoggedOut(await refresh(''));
    assertError(await s.request('POST', REFRESH, {}), 400, 'M_MISSING_PARAM');
    assertError(await s.request('POST', REFRESH, { refresh_token: 5 }), 400, 'M_BAD_JSON');
    assertError(await s.request('POST', REFRESH, { refresh_token: null }), 400, 'M_BAD_JSON');
    assertError(await s.request('POST', REFRESH, []), 400, 'M_BAD_JSON');
    assertError(await s.request('POST', REFRESH, undefined, { raw: '{' }), 400, 'M_NOT_JSON');
    assertError(await s.request('POST', REFRESH), 400, 'M_NOT_JSON');
    assert.equal((await refresh(t.refresh)).status, 200, 'none of that harmed the real token');
  });

  it('is served under r0 and needs no access token', async () => {
    const t = await login('alice');
    const res = await s.request('POST', '/_matrix/client/r0/refresh', { refresh_token: t.refresh });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(typeof res.body.access_token, 'string');
  });

  it('without refresh_token: true, no refresh token and no expiry', async () => {
    const res = await s.request('POST', '/_matrix/client/v3/login', {
      type: 'm.login.password',
      user: 'alice',
      password: 'pw',
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.refresh_token, undefined);
    assert.equal(res.body.expires_in_ms, undefined);
    now += 365 * 86_400_000;
    assert.equal((await whoami(res.body.access_token)).status, 200);
  });

  it('concurrent refreshes of one token, from two processes, leave exactly one live chain', async () => {
    const second = await startServer({ shareDatabaseWith: s, clock });
    try {
      const t = await login('alice');
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => refresh(t.refresh, i % 2 === 0 ? s : second)),
      );
      for (const r of results) {
        assert.ok(r.status === 200 || r.status === 401, JSON.stringify(r.body));
        if (r.status === 401) assert.equal(r.body.errcode, 'M_UNKNOWN_TOKEN');
      }
      const issued = results.filter((r) => r.status === 200).map((r) => r.body.refresh_token as string);
      assert.ok(issued.length >= 1);
      // Try each issued token: only the last committed successor is still live. A replaced one is
      // simply unknown (not theft), so trying it first does not revoke the live one.
      let live = 0;
      for (const r of issued) if ((await refresh(r)).status === 200) live += 1;
      assert.equal(live, 1);
    } finally {
      await second.close();
    }
  });
});
