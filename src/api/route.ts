import type { Static, TSchema } from 'typebox';
import type { Services } from '../service/index.js';
import type { Requester } from '../service/tokens.js';

/**
 * Whether a route needs an access token (spec: "Client Authentication"). 'admin': a token of
 * a server admin (Synapse's admin API, docs/usage/administration/admin_api): no token is 401
 * as for 'required', another user's token 403 M_FORBIDDEN before the handler runs.
 */
export type AuthMode = 'none' | 'optional' | 'required' | 'admin';
export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** Path prefixes of the client-server API versions a route may be served under. */
const CLIENT_PREFIX = {
  v3: '/_matrix/client/v3',
  r0: '/_matrix/client/r0',
  v1: '/_matrix/client/v1',
  'api/v1': '/_matrix/client/api/v1',
  unversioned: '/_matrix/client',
} as const;
export type ClientVersion = keyof typeof CLIENT_PREFIX;

/** `clientPaths('/login', 'v3', 'r0', 'api/v1')` → the route's full paths, one per version alias. */
export function clientPaths(path: string, ...versions: ClientVersion[]): string[] {
  return versions.map((v) => CLIENT_PREFIX[v] + path);
}

/** `adminPath('/v1/register')` → `/_synapse/admin/v1/register`: Synapse's admin API, which operators' tools speak. */
export function adminPath(path: string): string {
  return `/_synapse/admin${path}`;
}

export interface RouteContext<B, Q, P, A extends AuthMode> {
  body: B;
  query: Q;
  params: P;
  /** The token owner: present when `auth` is 'required' or 'admin', maybe when 'optional'. */
  requester: A extends 'required' | 'admin' ? Requester : Requester | null;
  remoteIp: string;
  services: Services;
  /** Request headers (lower-case names). */
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** A non-200 reply (or one with headers); plain values are sent as 200 JSON. */
export interface RouteReply {
  readonly kind: 'reply';
  status: number;
  body: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

export function reply(
  status: number,
  body: unknown,
  extra: { contentType?: string; headers?: Record<string, string> } = {},
): RouteReply {
  return { kind: 'reply', status, body, ...extra };
}

/** No framing by other sites (clickjacking), as Synapse sends for its HTML pages. */
export const NO_FRAMING = { 'x-frame-options': 'DENY', 'content-security-policy': "frame-ancestors 'none'" };

/** An HTML page Tessera serves (fallback pages, the terms, an emailed link's page). */
export function htmlReply(status: number, html: string): RouteReply {
  return reply(status, html, { contentType: 'text/html; charset=utf-8', headers: NO_FRAMING });
}

export interface Route {
  method: Method;
  /** One line for the OpenAPI document (api/openapi.ts); by default the method and path. */
  summary?: string;
  /** Every path alias of the endpoint (v3, r0, api/v1 …), declared in one place. */
  paths: string[];
  auth: AuthMode;
  body: TSchema | null;
  /** When false, an empty body is treated as `{}` (spec allows it for /logout and DELETE /devices). */
  bodyRequired: boolean;
  querystring: TSchema | null;
  /** May answer synchronously (a plain value), which saves a microtask hop on hot paths. */
  handler(ctx: RouteContext<unknown, unknown, unknown, AuthMode>): unknown;
}

export interface RouteSpec<B extends TSchema | undefined, Q extends TSchema | undefined, A extends AuthMode> {
  method: Method;
  summary?: string;
  paths: string[];
  auth: A;
  body?: B;
  bodyRequired?: boolean;
  querystring?: Q;
}

type StaticOr<S, D> = S extends TSchema ? Static<S> : D;

/**
 * Declare an endpoint: its method, all path aliases, whether it needs a token, and its body
 * and query schemas (TypeBox, compiled by api/validation.ts, no type coercion). One wrapper
 * extracts the token and validates before the handler runs (like Conduit's `Ruma<T>`).
 */
export function defineRoute<
  A extends AuthMode,
  B extends TSchema | undefined = undefined,
  Q extends TSchema | undefined = undefined,
  P = Record<string, string>,
>(
  spec: RouteSpec<B, Q, A>,
  handler: (
    ctx: RouteContext<StaticOr<B, Record<string, unknown>>, StaticOr<Q, Record<string, unknown>>, P, A>,
  ) => unknown,
): Route {
  return {
    method: spec.method,
    ...(spec.summary !== undefined && { summary: spec.summary }),
    paths: spec.paths,
    auth: spec.auth,
    body: spec.body ?? null,
    bodyRequired: spec.bodyRequired ?? true,
    querystring: spec.querystring ?? null,
    handler: handler as Route['handler'],
  };
}
