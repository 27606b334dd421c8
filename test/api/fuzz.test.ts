import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type { Agent } from 'node:http';
import { after, before, it } from 'node:test';
import { allRoutes } from '../../src/api/routes.js';
import { type CaptchaServer, startCaptchaServer } from '../helpers/captcha.js';
import { type Failure, failureOf, problemWith, report } from '../helpers/fuzz/check.js';
import { createAgent, type RawFailure, type RawResponse, send } from '../helpers/fuzz/http.js';
import { fuzzSeed, Rng } from '../helpers/fuzz/random.js';
import {
  buildRequest,
  type FuzzRequest,
  type RouteUnderTest,
  strayRequest,
  type TokenMode,
} from '../helpers/fuzz/requests.js';
import {
  FUZZ_REGISTRATION_TOKEN,
  type Identity,
  isDestructive,
  isDestructiveAdmin,
  type Pools,
  routeKey,
  takesToken,
  wantsAdmin,
} from '../helpers/fuzz/templates.js';
import { describeEachBackend, startServer, type TestServer, UNLIMITED_RATES } from '../helpers/server.js';
import { consentConfig, policyDir } from '../helpers/terms.js';
import { v1Password } from '../helpers/users.js';

/**
 * Seeded fuzzing of every endpoint: mutated valid-looking bodies, wrong types, deep nesting, long
 * strings, NUL and lone surrogates, bodies that are not JSON or not UTF-8, odd Content-Types,
 * odd path parameters and query strings, with and without a valid access token. Every reply must
 * be a Matrix reply (never 5xx; errors are `{errcode, error}`). A failure lists every bad reply,
 * grouped, with the seed: `TESSERA_FUZZ_SEED=<seed> node scripts/run-tests.mjs fuzz` replays it
 * (TESSERA_FUZZ_SEED=random tries a new one; TESSERA_FUZZ_REQUESTS sets the count per backend;
 * TESSERA_FUZZ_REPORT=<file> also writes every failure to <file>.<backend>.jsonl).
 */

const SEED = fuzzSeed();
const REQUESTS = Number(process.env.TESSERA_FUZZ_REQUESTS ?? 2100);
const CONCURRENCY = 4;
const STRAY_SHARE = 0.05;
const POOL_SIZE = 64;

/** Endpoints that behave differently with the registration captcha on: fuzzed on a second server too. */
const CAPTCHA_KEYS = new Set([
  'GET /v1-register',
  'POST /v1-register',
  'POST /register',
  'GET /auth/:stage/fallback/web',
  'POST /auth/:stage/fallback/web',
  'GET /register/m.login.registration_token/validity',
  'GET /_matrix/consent',
]);

interface Target {
  server: TestServer;
  agent: Agent;
  pools: Pools;
  harvested: number;
}

const routes: (RouteUnderTest & { auth: string })[] = allRoutes.flatMap((r) =>
  r.paths.map((path) => ({ method: r.method, path, key: routeKey(r.method, path), auth: r.auth })),
);

function newPools(): Pools {
  return { sessions: [], refreshTokens: [], deviceIds: [], userIds: [] };
}

function remember(target: Target, list: string[], value: unknown, keep: (v: string) => boolean): void {
  if (typeof value !== 'string' || value.length > 255 || !keep(value)) return;
  if (list.length < POOL_SIZE) list.push(value);
  else list[target.harvested++ % POOL_SIZE] = value;
}

/** Keep sessions, refresh tokens and device ids from a reply for later requests to the same server. */
function harvest(target: Target, res: RawResponse | RawFailure, shared: Identity, sharedAdmin: Identity): void {
  if ('error' in res || !res.contentType.startsWith('application/json')) return;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(res.text);
  } catch {
    return;
  }
  if (typeof body !== 'object' || body === null) return;
  remember(target, target.pools.sessions, body.session, () => true);
  remember(target, target.pools.refreshTokens, body.refresh_token, () => true);
  // Never the shared account's device: logging in with its id would revoke the shared token.
  remember(target, target.pools.deviceIds, body.device_id, (id) => id !== shared.deviceId);
  // Accounts the admin endpoints may reset, deactivate or log out: never the shared ones.
  remember(target, target.pools.userIds, body.user_id, (id) => id !== shared.userId && id !== sharedAdmin.userId);
}

/** A fuzz account that is a server admin (set in the database, as an operator's tool would). */
async function registerAdmin(s: TestServer, rng: Rng): Promise<Identity> {
  const identity = await registerIdentity(s, rng);
  await s.app.storage.users.updateAdmin(identity.userId, true);
  return identity;
}

async function registerIdentity(s: TestServer, rng: Rng): Promise<Identity> {
  const localpart = rng.id('fuzzer');
  const password = `pw ${localpart}`;
  const res = await s.request('POST', '/_matrix/client/api/v1/register', v1Password(localpart, password));
  assert.equal(res.status, 200, `registering a fuzz account: ${JSON.stringify(res.body)}`);
  return { userId: res.body.user_id, password, deviceId: res.body.device_id, token: res.body.access_token };
}

function tokenMode(rng: Rng, route: RouteUnderTest & { auth: string }): TokenMode {
  if (takesToken(route.key, route.auth)) {
    return rng.weighted([
      [70, 'valid'],
      [15, 'invalid'],
      [15, 'none'],
    ] as const);
  }
  return rng.weighted([
    [5, 'valid'],
    [5, 'invalid'],
    [90, 'none'],
  ] as const);
}

await describeEachBackend('fuzzed requests', (backend) => {
  let open: Target;
  let captcha: Target;
  let captchaServer: CaptchaServer;
  let shared: Identity;
  let sharedAdmin: Identity;
  const policies = policyDir('1.0');
  before(async () => {
    // Email configured, its mail dropped: the email endpoints and stage get past their first checks.
    const server = await startServer({
      backend,
      config: { ...UNLIMITED_RATES, allow_guest_access: true, email: { smtp_host: '127.0.0.1', notif_from: 'fuzz' } },
      mailer: { send: async () => {}, close: () => {} },
    });
    open = { server, agent: createAgent(CONCURRENCY), pools: newPools(), harvested: 0 };
    // The second server also needs a registration token and the terms: its flows carry every
    // gate (captcha, token, terms), so every fallback page is served.
    captchaServer = await startCaptchaServer(backend, {
      config: { registration_requires_token: true, ...consentConfig(policies.dir) },
    });
    for (const s of [server, captchaServer.server]) {
      await s.app.services.registrationTokens.create({ token: FUZZ_REGISTRATION_TOKEN, usesAllowed: 1_000_000 });
    }
    captcha = { server: captchaServer.server, agent: createAgent(CONCURRENCY), pools: newPools(), harvested: 0 };
    shared = await registerIdentity(server, new Rng(SEED));
    sharedAdmin = await registerAdmin(server, new Rng(SEED + 1));
    open.pools.userIds.push((await registerIdentity(server, new Rng(SEED + 2))).userId);
  });
  after(async () => {
    open.agent.destroy();
    captcha.agent.destroy();
    await open.server.close();
    await captchaServer.close();
    policies.cleanup();
  });

  it(`${REQUESTS} seeded requests over every endpoint get only Matrix replies, never a 5xx`, {
    timeout: 600_000,
  }, async (t) => {
    const failures: Failure[] = [];
    const statuses = new Map<number | string, number>();
    const hits = new Map<string, number>();
    let routeTurn = 0;
    let next = 0;
    let unknownToken = 0;
    const slowest: { ms: number; what: string }[] = [];
    const dropsAnsweredOnRetry: string[] = [];
    const started = Date.now();

    /** Request `i`: its randomness depends only on the seed and `i`, not on timing. */
    const one = async (i: number) => {
      const rng = new Rng((SEED + Math.imul(i + 1, 0x9e3779b1)) >>> 0);
      let target = open;
      let req: FuzzRequest;
      let valid = false;
      if (rng.chance(STRAY_SHARE)) {
        req = strayRequest(rng, routes);
      } else {
        const route = routes[routeTurn++ % routes.length]!;
        if (CAPTCHA_KEYS.has(route.key) && rng.chance(0.4)) target = captcha;
        const token = target === open ? tokenMode(rng, route) : 'none';
        valid = token === 'valid';
        let me = valid && isDestructive(route.key) ? await registerIdentity(open.server, rng) : shared;
        if (wantsAdmin(route.key, route.auth)) {
          me = valid && isDestructiveAdmin(route.key) ? await registerAdmin(open.server, rng) : sharedAdmin;
        }
        req = buildRequest(rng, route, { rng, me, pools: target.pools }, token);
        if (target === captcha) req.label = `captcha-server ${req.label}`;
      }
      hits.set(`${req.method} ${req.pattern}`, (hits.get(`${req.method} ${req.pattern}`) ?? 0) + 1);
      const sentAt = performance.now();
      let res = await send(target.agent, target.server.url, req);
      if ('error' in res) {
        // A connection closed without a reply is retried once: on a loaded machine the first
        // attempt can fail outside the server; a second one tells a real drop from that.
        const retry = await send(target.agent, target.server.url, req);
        if (!('error' in retry)) dropsAnsweredOnRetry.push(`${req.method} ${req.path.slice(0, 80)} (${res.error})`);
        res = retry;
      }
      slowest.push({ ms: performance.now() - sentAt, what: `${req.method} ${req.pattern} ${req.label}` });
      slowest.sort((a, b) => b.ms - a.ms).splice(5);
      const status = 'error' in res ? 'no reply' : res.status;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (valid && status === 401 && !('error' in res) && res.text.includes('M_UNKNOWN_TOKEN')) unknownToken++;
      const problem = problemWith(req, res);
      if (problem !== null) failures.push(failureOf(req, res, problem));
      harvest(target, res, shared, sharedAdmin);
    };
    const worker = async () => {
      while (next < REQUESTS) await one(next++);
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const byStatus = [...statuses.entries()].sort().map(([s, n]) => `${s}: ${n}`);
    t.diagnostic(`seed ${SEED}, ${REQUESTS} requests in ${seconds} s; replies ${byStatus.join(', ')}`);
    t.diagnostic(`valid tokens refused as unknown: ${unknownToken}`);
    for (const d of dropsAnsweredOnRetry) t.diagnostic(`no reply at first, answered on retry: ${d}`);
    for (const s of slowest) t.diagnostic(`slow: ${Math.round(s.ms)} ms ${s.what.slice(0, 200)}`);

    // The fuzz reached every endpoint, and the shared account's token survived it (else the
    // authenticated requests would only have tested the 401 path).
    const missed = routes.filter((r) => !hits.has(`${r.method} ${r.path}`)).map((r) => `${r.method} ${r.path}`);
    assert.deepEqual(missed, [], 'endpoints the fuzz never reached');
    const whoami = await open.server.request('GET', '/_matrix/client/v3/account/whoami', undefined, {
      token: shared.token,
    });
    assert.equal(whoami.status, 200, `the shared fuzz account's token stopped working: ${JSON.stringify(whoami.body)}`);
    const adminWhoami = await open.server.request('GET', '/_synapse/admin/v2/users?limit=1', undefined, {
      token: sharedAdmin.token,
    });
    assert.equal(
      adminWhoami.status,
      200,
      `the shared admin's token stopped working: ${JSON.stringify(adminWhoami.body)}`,
    );

    const dump = process.env.TESSERA_FUZZ_REPORT;
    if (dump)
      writeFileSync(
        `${dump}.${backend}.jsonl`,
        failures
          .map((f) => `${JSON.stringify({ ...f, request: { ...f.request, body: f.request.body?.length } })}\n`)
          .join(''),
      );
    assert.equal(
      failures.length,
      0,
      `${failures.length} of ${REQUESTS} fuzzed requests got a bad reply ` +
        `(seed ${SEED}; replay: TESSERA_FUZZ_SEED=${SEED} node scripts/run-tests.mjs fuzz):\n${report(failures)}`,
    );
  });
});
