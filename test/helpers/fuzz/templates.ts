import type { Rng } from './random.js';
import type { FuzzValue } from './values.js';

/**
 * Valid-looking requests for every endpoint, which the fuzz test then mutates: a body and the
 * query parameters each endpoint reads. They use a real account, device ids, UIA sessions and
 * refresh tokens seen in earlier replies, so mutated requests get past the first checks.
 */

/** An account the request acts as (the token owner for authenticated endpoints). */
export interface Identity {
  userId: string;
  password: string;
  deviceId: string;
  token: string;
}

/** Values seen in earlier replies of one server, reused in later requests. */
export interface Pools {
  sessions: string[];
  refreshTokens: string[];
  deviceIds: string[];
  /** Accounts the admin endpoints may act on: never the shared fuzz accounts. */
  userIds: string[];
}

export interface TemplateContext {
  rng: Rng;
  me: Identity;
  pools: Pools;
}

type JsonObject = { [key: string]: FuzzValue };
type Template = (t: TemplateContext) => JsonObject;

/** A username nobody has yet. */
function freshName(t: TemplateContext): string {
  return t.rng.id('fz');
}

/** A session from an earlier reply, or none (a new UIA flow starts). */
function maybeSession(t: TemplateContext): JsonObject {
  if (t.pools.sessions.length === 0 || t.rng.chance(0.4)) return {};
  return { session: t.rng.pick(t.pools.sessions) };
}

function someDeviceId(t: TemplateContext): string {
  if (t.pools.deviceIds.length > 0 && t.rng.chance(0.3)) return t.rng.pick(t.pools.deviceIds);
  return t.me.deviceId;
}

/** The `auth` of a re-authentication: mostly the token owner, right password or not; sometimes absent. */
function reauth(t: TemplateContext): JsonObject {
  if (t.rng.chance(0.25)) return {};
  const user = t.rng.weighted([
    [6, t.me.userId],
    [1, t.me.userId.slice(1).split(':')[0]!],
    [1, '@someone-else:localhost'],
  ]);
  const password = t.rng.chance(0.6) ? t.me.password : 'wrong password';
  const auth = t.rng.chance(0.8)
    ? { type: 'm.login.password', identifier: { type: 'm.id.user', user }, password, ...maybeSession(t) }
    : t.rng.pick<JsonObject>([
        { type: 'm.login.password', user, password, ...maybeSession(t) },
        { type: 'm.login.dummy', ...maybeSession(t) },
        { ...maybeSession(t) },
      ]);
  return { auth };
}

function loginBody(t: TemplateContext): JsonObject {
  const user = t.rng.chance(0.7) ? t.me.userId : freshName(t);
  const password = t.rng.chance(0.7) ? t.me.password : 'wrong password';
  const identifier = t.rng.pick<JsonObject>([
    { type: 'm.id.user', user },
    { type: 'm.id.thirdparty', medium: 'email', address: 'a@example.org' },
    { type: 'm.id.phone', country: 'GB', phone: '123' },
  ]);
  const extra: JsonObject = {};
  // Never the identity's own device: a login with a known device_id revokes that device's old
  // tokens (as Synapse does), which would end the shared identity's session mid-run.
  if (t.rng.chance(0.3)) {
    const pooled = t.pools.deviceIds.filter((d) => d !== t.me.deviceId);
    extra.device_id = pooled.length > 0 && t.rng.chance(0.5) ? t.rng.pick(pooled) : t.rng.id('DEV');
  }
  if (t.rng.chance(0.3)) extra.initial_device_display_name = 'Fuzz phone';
  if (t.rng.chance(0.4)) extra.refresh_token = true;
  return t.rng.chance(0.8)
    ? { type: 'm.login.password', identifier, password, ...extra }
    : { type: t.rng.pick(['m.login.password', 'm.login.token', 'm.login.dummy']), user, password, ...extra };
}

/** A registration token: one the fuzz servers create (FUZZ_REGISTRATION_TOKEN), or another. */
export const FUZZ_REGISTRATION_TOKEN = 'fuzz-token';
function registrationToken(t: TemplateContext): string {
  return t.rng.pick([FUZZ_REGISTRATION_TOKEN, FUZZ_REGISTRATION_TOKEN, 'unknown-token', t.rng.id('tok')]);
}

function v3RegisterBody(t: TemplateContext): JsonObject {
  const body: JsonObject = { username: freshName(t), password: 'fuzz password' };
  if (t.rng.chance(0.4)) body.device_id = t.rng.id('DEV');
  if (t.rng.chance(0.4)) body.initial_device_display_name = 'Fuzz laptop';
  if (t.rng.chance(0.2)) body.inhibit_login = t.rng.chance(0.5);
  if (t.rng.chance(0.3)) body.refresh_token = true;
  if (t.rng.chance(0.7)) {
    body.auth = t.rng.pick<JsonObject>([
      { type: 'm.login.dummy', ...maybeSession(t) },
      { type: 'm.login.registration_token', token: registrationToken(t), ...maybeSession(t) },
      { type: 'm.login.recaptcha', response: t.rng.pick(['good', 'bad']), ...maybeSession(t) },
      { ...maybeSession(t) },
    ]);
  }
  return body;
}

function v1RegisterBody(t: TemplateContext): JsonObject {
  return t.rng.pick<JsonObject>([
    { type: 'm.login.password', user: freshName(t), password: 'fuzz password', ...maybeSession(t) },
    { type: 'm.login.password', password: 'fuzz password' },
    { type: 'm.login.recaptcha', response: t.rng.pick(['good', 'bad']), ...maybeSession(t) },
    { type: 'm.login.recaptcha' },
    { type: 'm.login.dummy' },
    { type: 'm.login.registration_token', token: registrationToken(t), ...maybeSession(t) },
  ]);
}

/** A requestToken body (spec registration.yaml, EmailRequestToken). */
function requestTokenBody(t: TemplateContext): JsonObject {
  const body: JsonObject = {
    client_secret: t.rng.pick(['fuzz-secret', t.rng.id('cs'), 'bad secret!']),
    email: t.rng.pick(['fuzz@example.org', `${freshName(t)}@example.org`, 'not-an-email']),
    send_attempt: t.rng.int(3),
  };
  if (t.rng.chance(0.2)) body.next_link = t.rng.pick(['https://example.org/next', 'javascript:alert(1)']);
  return body;
}

/** The query of an emailed link: mostly made up, so it is refused. */
function submitTokenQuery(t: TemplateContext): Record<string, string> {
  const q: Record<string, string> = {};
  if (t.rng.chance(0.8)) q.token = t.rng.id('tok');
  if (t.rng.chance(0.8)) q.client_secret = 'fuzz-secret';
  if (t.rng.chance(0.8)) q.sid = t.rng.id('sid');
  return q;
}

/** Synapse's admin API, for `routeKey`s under /_synapse/admin. */
const A = '/_synapse/admin';

function putUserBody(t: TemplateContext): JsonObject {
  const body: JsonObject = {};
  if (t.rng.chance(0.4)) body.password = 'admin set password';
  if (t.rng.chance(0.3)) body.logout_devices = t.rng.chance(0.5);
  if (t.rng.chance(0.3)) body.admin = t.rng.chance(0.5);
  if (t.rng.chance(0.2)) body.deactivated = t.rng.chance(0.5);
  if (t.rng.chance(0.2)) body.locked = t.rng.chance(0.3);
  if (t.rng.chance(0.3)) body.displayname = t.rng.pick(['Fuzzy', '']);
  if (t.rng.chance(0.2)) body.avatar_url = 'mxc://localhost/fuzz';
  if (t.rng.chance(0.2)) body.user_type = t.rng.pick<FuzzValue>(['bot', 'support', null, 'wizard']);
  if (t.rng.chance(0.1)) body.threepids = t.rng.pick<FuzzValue>([[], [{ medium: 'email', address: 'a@b.c' }]]);
  return body;
}

/** Body templates by route key (see routeKey). Routes without a body have none. */
const BODIES: Record<string, Template> = {
  'POST /v1-register': v1RegisterBody,
  'POST /register': v3RegisterBody,
  'POST /login': loginBody,
  'POST /logout': () => ({}),
  'POST /logout/all': () => ({}),
  'POST /refresh': (t) => ({
    refresh_token:
      t.pools.refreshTokens.length > 0 && t.rng.chance(0.7) ? t.rng.pick(t.pools.refreshTokens) : 'tsr_unknown',
  }),
  'POST /account/password': (t) => ({
    new_password: 'new fuzz password',
    ...(t.rng.chance(0.5) && { logout_devices: t.rng.chance(0.5) }),
    ...(t.rng.chance(0.2)
      ? {
          auth: {
            type: 'm.login.email.identity',
            threepid_creds: { sid: t.rng.id('sid'), client_secret: 'fuzz-secret' },
            ...maybeSession(t),
          },
        }
      : reauth(t)),
  }),
  'POST /register/email/requestToken': requestTokenBody,
  'POST /account/password/email/requestToken': requestTokenBody,
  'POST /account/deactivate': (t) => ({ ...(t.rng.chance(0.3) && { erase: false }), ...reauth(t) }),
  'PUT /devices/:deviceId': (t) => ({ display_name: t.rng.pick<FuzzValue>(['Fuzz tablet', null]) }),
  'DELETE /devices/:deviceId': (t) => reauth(t),
  'POST /delete_devices': (t) => ({ devices: [someDeviceId(t), 'NOPE'], ...reauth(t) }),
  [`PUT ${A}/v2/users/:userId`]: putUserBody,
  [`PUT ${A}/v1/users/:userId/admin`]: (t) => ({ admin: t.rng.chance(0.5) }),
  [`POST ${A}/v1/reset_password/:userId`]: (t) => ({
    new_password: 'admin reset password',
    ...(t.rng.chance(0.5) && { logout_devices: t.rng.chance(0.5) }),
  }),
  [`POST ${A}/v1/deactivate/:userId`]: (t) => (t.rng.chance(0.5) ? {} : { erase: t.rng.chance(0.5) }),
  [`POST ${A}/v1/users/:userId/login`]: (t) => (t.rng.chance(0.5) ? {} : { valid_until_ms: Date.now() + 60_000 }),
  [`POST ${A}/v1/users/:userId/shadow_ban`]: () => ({}),
  [`DELETE ${A}/v1/users/:userId/shadow_ban`]: () => ({}),
  [`PUT ${A}/v2/users/:userId/devices/:deviceId`]: (t) => ({
    display_name: t.rng.pick<FuzzValue>(['Fuzz admin', null]),
  }),
  [`DELETE ${A}/v2/users/:userId/devices/:deviceId`]: () => ({}),
  [`POST ${A}/v2/users/:userId/delete_devices`]: (t) => ({ devices: [someDeviceId(t), 'NOPE'] }),
  [`POST ${A}/v1/registration_tokens/new`]: (t) =>
    t.rng.pick<JsonObject>([
      {},
      { length: t.rng.int(70) },
      { token: t.rng.id('tok'), uses_allowed: t.rng.pick<FuzzValue>([null, 0, 1, 5]) },
      { expiry_time: t.rng.pick<FuzzValue>([null, Date.now() + 60_000, 5]), uses_allowed: t.rng.int(3) },
    ]),
  [`PUT ${A}/v1/registration_tokens/:token`]: (t) =>
    t.rng.pick<JsonObject>([
      {},
      { uses_allowed: t.rng.pick<FuzzValue>([null, 0, 3, -1]) },
      { expiry_time: t.rng.pick<FuzzValue>([null, Date.now() + 60_000, 5]) },
    ]),
  'POST /auth/:stage/fallback/web': (t) => ({
    session: t.pools.sessions.length > 0 ? t.rng.pick(t.pools.sessions) : 'no-such-session',
    response: t.rng.pick(['good', 'bad']),
    ...(t.rng.chance(0.5) && { token: registrationToken(t) }),
  }),
};

/** Query templates by route key: name → value (already percent-encoded). */
const QUERIES: Record<string, (t: TemplateContext) => Record<string, string>> = {
  'POST /register': (t) => (t.rng.chance(0.5) ? {} : { kind: t.rng.pick(['user', 'guest']) }),
  'GET /register/available': (t) => ({ username: t.rng.chance(0.7) ? freshName(t) : t.me.userId }),
  [`GET ${A}/v2/users`]: (t) => {
    const q: Record<string, string> = {};
    if (t.rng.chance(0.5)) q.from = String(t.rng.int(5));
    if (t.rng.chance(0.5)) q.limit = String(t.rng.int(20));
    if (t.rng.chance(0.3)) q.guests = t.rng.pick(['true', 'false']);
    if (t.rng.chance(0.3)) q.deactivated = t.rng.pick(['true', 'false']);
    if (t.rng.chance(0.3)) q.name = t.rng.pick(['fuzz', 'fz', '%25', '_']);
    if (t.rng.chance(0.2)) q.user_id = encodeURIComponent('@fuzz');
    if (t.rng.chance(0.3)) q.order_by = t.rng.pick(['name', 'creation_ts', 'last_seen_ts', 'displayname', 'admin']);
    if (t.rng.chance(0.3)) q.dir = t.rng.pick(['f', 'b']);
    return q;
  },
  [`GET ${A}/v1/registration_tokens`]: (t): Record<string, string> =>
    t.rng.chance(0.5) ? {} : { valid: t.rng.pick(['true', 'false', 'maybe']) },
  'GET /register/m.login.registration_token/validity': (t) => ({ token: registrationToken(t) }),
  [`GET ${A}/v1/username_available`]: (t) => ({ username: t.rng.chance(0.7) ? freshName(t) : 'fuzzer' }),
  'GET /unstable/registration/email/submit_token': submitTokenQuery,
  'GET /_synapse/client/password_reset/email/submit_token': submitTokenQuery,
  'GET /_matrix/consent': (t) => ({
    ...(t.rng.chance(0.7) && { v: t.rng.pick(['1.0', '2.0', '..%2F1.0']) }),
    ...(t.rng.chance(0.7) && { lang: t.rng.pick(['en', 'fr', 'de', '__proto__']) }),
    ...(t.rng.chance(0.2) && { u: 'fuzzer', h: 'abc' }),
  }),
  'GET /auth/:stage/fallback/web': (t) => ({
    session: t.pools.sessions.length > 0 ? encodeURIComponent(t.rng.pick(t.pools.sessions)) : 'no-such-session',
  }),
};

/** Every key a template uses, for mutations that add a field another endpoint would read. */
export const KNOWN_FIELDS = [
  'type',
  'user',
  'password',
  'identifier',
  'session',
  'device_id',
  'initial_device_display_name',
  'refresh_token',
  'username',
  'auth',
  'inhibit_login',
  'new_password',
  'logout_devices',
  'erase',
  'id_server',
  'display_name',
  'devices',
  'response',
  'medium',
  'address',
  'admin',
  'deactivated',
  'locked',
  'displayname',
  'avatar_url',
  'user_type',
  'threepids',
  'valid_until_ms',
  'token',
  'length',
  'uses_allowed',
  'expiry_time',
  'client_secret',
  'email',
  'send_attempt',
  'next_link',
  'threepid_creds',
] as const;

/** `POST /_matrix/client/r0/register` → `POST /register`; the 2014 API's register is `/v1-register`. */
export function routeKey(method: string, path: string): string {
  if (path.startsWith('/_matrix/client/api/v1/register')) return `${method} /v1-register`;
  return `${method} ${path.replace(/^\/_matrix\/client(\/(v3|r0|v1|api\/v1))?/, '')}`;
}

export function bodyTemplate(key: string, t: TemplateContext): JsonObject | null {
  const make = BODIES[key];
  return make ? make(t) : null;
}

export function queryTemplate(key: string, t: TemplateContext): Record<string, string> {
  const make = QUERIES[key];
  return make ? make(t) : {};
}

/** Endpoints that end the token's session or account, or delete devices: each gets a fresh account. */
export function isDestructive(key: string): boolean {
  return /^(POST \/logout|POST \/logout\/all|POST \/account\/(password|deactivate)|DELETE \/devices\/|POST \/delete_devices)/.test(
    key,
  );
}

/**
 * Admin endpoints that may end the acting admin's own session or account when they name it
 * (password, deactivation, devices): each gets a fresh admin. The others use the shared admin.
 */
export function isDestructiveAdmin(key: string): boolean {
  return /^(PUT \/_synapse\/admin\/v2\/users\/:userId$|POST \/_synapse\/admin\/v1\/(reset_password|deactivate)\/|DELETE \/_synapse\/admin\/v2\/users\/:userId\/devices\/|POST \/_synapse\/admin\/v2\/users\/:userId\/delete_devices)/.test(
    key,
  );
}

/** Routes that act for a server admin: their valid token is an admin's (whois also serves others). */
export function wantsAdmin(key: string, auth: string): boolean {
  return auth === 'admin' || key.includes('/whois/');
}

/** A user id for an admin path: mostly a victim account, sometimes the admin itself, unknown or remote. */
export function someUserId(t: TemplateContext): string | null {
  const choice = t.rng.weighted([
    [45, 'victim'],
    [15, 'self'],
    [10, 'unknown'],
    [10, 'remote'],
    [20, 'random'],
  ] as const);
  if (choice === 'victim' && t.pools.userIds.length > 0) return t.rng.pick(t.pools.userIds);
  if (choice === 'self') return t.me.userId;
  if (choice === 'unknown') return `@${freshName(t)}:localhost`;
  if (choice === 'remote') return '@someone:elsewhere.example';
  return null;
}

/** Endpoints that read an access token: `auth` other than 'none', and logout (which reads it itself). */
export function takesToken(key: string, auth: string): boolean {
  return auth !== 'none' || key.startsWith('POST /logout');
}
