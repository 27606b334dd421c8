import { contentType, mutateBody, wholeBody } from './mutate.js';
import type { Rng } from './random.js';
import { bodyTemplate, queryTemplate, someUserId, type TemplateContext } from './templates.js';
import { type Labelled, pathParam, queryValue, toJson } from './values.js';

/** One fuzzed HTTP request, exactly as it goes on the wire, and what it is made of. */
export interface FuzzRequest {
  method: string;
  /** Path and query, percent-encoded, sent verbatim (no `..` resolution). */
  path: string;
  /** The route pattern it targets (for grouping failures), or `unknown path`. */
  pattern: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
  /** The classes of input in it, e.g. `token:valid-header body: auth.password=long-string(3000,nul-inside)`. */
  label: string;
}

export type TokenMode = 'valid' | 'invalid' | 'none';

export interface RouteUnderTest {
  method: string;
  path: string;
  key: string;
}

function fillParams(rng: Rng, path: string, t: TemplateContext, labels: string[]): string {
  return path.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    if (name === 'stage' && rng.chance(0.7)) {
      return rng.pick(['m.login.recaptcha', 'm.login.recaptcha', 'm.login.terms', 'm.login.registration_token']);
    }
    if (name === 'userId') {
      const id = someUserId(t);
      if (id !== null) {
        labels.push('param-user-id');
        return rng.chance(0.5) ? encodeURIComponent(id) : id;
      }
    }
    if (name === 'token' && rng.chance(0.5)) return rng.pick(['fuzz-token', 'unknown-token']);
    if (name === 'deviceId' && rng.chance(0.5)) {
      labels.push('param-own-device');
      return encodeURIComponent(t.me.deviceId);
    }
    const p = pathParam(rng);
    labels.push(p.label);
    return p.value;
  });
}

const QUERY_NAMES = [
  'kind',
  'username',
  'session',
  'access_token',
  'unknown',
  'from',
  'limit',
  'guests',
  'deactivated',
  'order_by',
  'dir',
  'not_user_type',
] as const;

/** Mutate query parameters (name, value-already-encoded) in place; returns the labels. */
function mutateQuery(rng: Rng, query: [string, string][]): string[] {
  const op = rng.pick(['set', 'set', 'duplicate', 'drop', 'odd-name'] as const);
  if (op === 'drop' && query.length > 0) {
    const [name] = query.splice(rng.int(query.length), 1)[0]!;
    return [`-query.${name}`];
  }
  if (op === 'duplicate' && query.length > 0) {
    const [name] = rng.pick(query);
    query.push([name, 'second']);
    return [`duplicate-query.${name}`];
  }
  if (op === 'odd-name') {
    const name = rng.pick(['%FF', '%00', 'a[b]', '__proto__', '']);
    query.push([name, 'x']);
    return [`query-name(${name})`];
  }
  const name = query.length > 0 && rng.chance(0.6) ? rng.pick(query)[0] : rng.pick(QUERY_NAMES);
  const v = queryValue(rng);
  const i = query.findIndex(([n]) => n === name);
  if (i >= 0) query[i] = [name, v.value];
  else query.push([name, v.value]);
  return [`query.${name}=${v.label}`];
}

function invalidToken(rng: Rng, headers: Record<string, string>, query: [string, string][]): string {
  const kind = rng.pick([
    'unknown',
    'long-3000',
    'long-20000',
    'bearer-only',
    'basic',
    'query-odd',
    'header-and-query-differ',
  ] as const);
  switch (kind) {
    case 'unknown':
      headers.authorization = 'Bearer tsa_unknown';
      break;
    case 'long-3000':
      headers.authorization = `Bearer ${'t'.repeat(3000)}`;
      break;
    case 'long-20000':
      headers.authorization = `Bearer ${'t'.repeat(20_000)}`;
      break;
    case 'bearer-only':
      headers.authorization = 'Bearer';
      break;
    case 'basic':
      headers.authorization = 'Basic YTpi';
      break;
    case 'query-odd': {
      const v = queryValue(rng);
      query.push(['access_token', v.value]);
      return `token:query(${v.label})`;
    }
    case 'header-and-query-differ':
      headers.authorization = 'Bearer tsa_one';
      query.push(['access_token', 'tsa_two']);
      break;
  }
  return `token:${kind}`;
}

/** A fuzzed request to `route`, acting as `t.me` when the token is valid. */
export function buildRequest(rng: Rng, route: RouteUnderTest, t: TemplateContext, token: TokenMode): FuzzRequest {
  const labels: string[] = [];
  const path = fillParams(rng, route.path, t, labels);

  const query = Object.entries(queryTemplate(route.key, t));
  if (rng.chance(0.35)) labels.push(...mutateQuery(rng, query));

  const headers: Record<string, string> = {};
  if (token === 'valid') {
    if (rng.chance(0.8)) headers.authorization = `Bearer ${t.me.token}`;
    else query.push(['access_token', encodeURIComponent(t.me.token)]);
    labels.push('token:valid');
  } else if (token === 'invalid') {
    labels.push(invalidToken(rng, headers, query));
  }

  let body: Buffer | undefined;
  const template = bodyTemplate(route.key, t) ?? (rng.chance(0.05) ? {} : null);
  if (template !== null) {
    let made: Labelled<Buffer | undefined>;
    if (rng.chance(0.2)) made = wholeBody(rng, template);
    else {
      const m = mutateBody(rng, template);
      made = { label: m.label, value: Buffer.from(toJson(m.value), 'utf8') };
    }
    body = made.value;
    labels.push(`body:${made.label}`);
    const type = body === undefined ? undefined : contentType(rng);
    if (type !== undefined) {
      headers['content-type'] = type;
      if (type !== 'application/json') labels.push(`content-type:${JSON.stringify(type)}`);
    }
  }

  const qs = query.map(([k, v]) => `${k}=${v}`).join('&');
  return {
    method: route.method,
    path: qs === '' ? path : `${path}?${qs}`,
    pattern: route.path,
    headers,
    body,
    label: labels.join(' '),
  };
}

/** Paths no route serves, and known paths with a method they do not have (404 / 405). */
export function strayRequest(rng: Rng, routes: readonly RouteUnderTest[]): FuzzRequest {
  const known = rng.pick(routes).path.replace(/:[A-Za-z]+/g, 'X');
  const { label, path } = rng.pick([
    { label: 'unknown-path', path: '/_matrix/client/v3/nope' },
    { label: 'extra-segment', path: `${known}/extra` },
    { label: 'trailing-slash', path: `${known}/` },
    // Doubles the last slash, so it is stray for every path (`/health` has no `/client/`).
    { label: 'double-slash', path: known.replace(/\/(?=[^/]*$)/, '//') },
    { label: 'upper-case-path', path: known.toUpperCase() },
    { label: 'dot-dot-segment', path: `${known}/../versions` },
    { label: 'path-%FF', path: `${known}%FF` },
    { label: 'path-%00', path: `/_matrix/client/v3/%00` },
    { label: 'root', path: '/' },
    { label: 'long-path-3000', path: `/_matrix/client/v3/${'p'.repeat(3000)}` },
    { label: 'long-path-20000', path: `/_matrix/client/v3/${'p'.repeat(20_000)}` },
    { label: 'query-only-%FF', path: `${known}?%FF` },
  ]);
  const method = rng.pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH']);
  const body = method === 'GET' ? undefined : Buffer.from('{}');
  return {
    method,
    path,
    pattern: 'unknown path or method',
    headers: body ? { 'content-type': 'application/json' } : {},
    body,
    label: `stray:${label}`,
  };
}
