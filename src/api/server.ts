import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { Logger } from 'pino';
import { MatrixError, UiaChallenge } from '../errors.js';
import { redactUrl } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { RequestLog } from '../observability/request-log.js';
import type { Services } from '../service/index.js';
import { type ClientAddresses, type ListenerTrust, tagListener } from './client-address.js';
import { checkParameters, parseJsonBody } from './json-body.js';
import { CORS_HEADERS, clientErrorHandler, createListenerServer } from './listener.js';
import { ClientGone, readBody } from './request-body.js';
import { extractToken, requireRequester } from './requester.js';
import type { Route, RouteReply } from './route.js';
import { type RouteMatch, Router, WRONG_METHOD } from './router.js';
import { validator } from './validation.js';

export interface ServerOptions {
  services: Services;
  routes: Route[];
  log: Logger;
  bodyLimit: number;
  /** Resolves each request's client address (per listener, `trusted_proxies`). */
  clientAddresses: ClientAddresses;
  /** Counts every answered request when metrics are on (observability/metrics.ts). */
  metrics?: Metrics | null;
}

export interface HttpServer {
  /** The node:http request handler for requests arriving on `listener`. */
  requestHandler(listener: ListenerTrust): RequestListener;
  /** A node:http server for one listener address; every listener's server shares the routing. */
  createListenerServer(listener: ListenerTrust): Server;
  /**
   * Stop: requests still in flight finish, their replies close their connections, later
   * requests on open connections get 503. Resolves when no request is in flight.
   */
  close(): Promise<void>;
}

/** What the server needs of a route, prepared once: its validators and flags. */
interface Endpoint {
  route: Route;
  checkBody: ((value: unknown) => void) | null;
  checkQuery: ((value: unknown) => void) | null;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
/** CORS headers as node's flat header list, prepended to every reply. */
const CORS_LIST: string[] = Object.entries(CORS_HEADERS).flat();
const EMPTY_QUERY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;
/** Methods whose requests may carry a body Tessera reads (GET and HEAD bodies are ignored). */
const BODY_METHODS = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);

/**
 * Tessera's HTTP front: node:http, the route table (api/routes.ts), JSON bodies, validation,
 * the token check, Matrix errors, CORS, one log line and the metrics of each request. Built on
 * node:http directly: whoami, the request every client makes most, is then close to a bare
 * node:http server (`npm run bench`).
 */
export function buildServer(opts: ServerOptions): HttpServer {
  const { services, log, clientAddresses, bodyLimit } = opts;
  const metrics = opts.metrics ?? null;
  const requestLog = new RequestLog(log);
  const router = new Router(opts.routes);
  const endpoints = new Map<Route, Endpoint>();
  for (const route of opts.routes) {
    endpoints.set(route, {
      route,
      checkBody: route.body === null ? null : validator(route.body, 'body'),
      checkQuery: route.querystring === null ? null : validator(route.querystring, 'query'),
    });
  }
  const onClientError = clientErrorHandler(log);
  let closing = false;
  let inFlight = 0;
  let idle: (() => void) | null = null;
  let requestCount = 0;

  function send(
    res: ServerResponse,
    status: number,
    body: string | undefined,
    contentType: string | null,
    extra: readonly string[] | null,
  ): void {
    const headers = extra === null ? CORS_LIST.slice() : CORS_LIST.concat(extra);
    if (body !== undefined) headers.push('content-type', contentType ?? JSON_TYPE);
    headers.push('content-length', body === undefined ? '0' : String(Buffer.byteLength(body)));
    // A request still in flight at shutdown ends its connection with its reply; otherwise the
    // client's keep-alive socket would hold `close()` open until its keep-alive timeout.
    if (closing) headers.push('connection', 'close');
    res.writeHead(status, headers);
    res.end(body);
  }

  function sendError(res: ServerResponse, err: unknown, req: IncomingMessage, reqId: string): void {
    if (err instanceof UiaChallenge) {
      send(res, 401, JSON.stringify(err.body), null, null);
    } else if (err instanceof MatrixError) {
      // Spec "Rate limiting" (v1.10): a 429 SHOULD carry Retry-After in seconds.
      const retryMs = err.extra.retry_after_ms;
      const extra = typeof retryMs === 'number' ? ['retry-after', String(Math.ceil(retryMs / 1000))] : null;
      send(res, err.status, JSON.stringify(err.toJSON()), null, extra);
    } else {
      log.error({ err, reqId, url: redactUrl(req.url ?? '') }, 'internal error');
      send(res, 500, JSON.stringify({ errcode: 'M_UNKNOWN', error: 'Internal server error' }), null, null);
    }
  }

  /** A handler's result: a RouteReply as it says, any other value as 200 JSON. */
  function sendResult(res: ServerResponse, result: unknown): void {
    if (typeof result !== 'object' || result === null || (result as { kind?: unknown }).kind !== 'reply') {
      send(res, 200, JSON.stringify(result), null, null);
      return;
    }
    const r = result as RouteReply;
    const extra = r.headers === undefined ? null : Object.entries(r.headers).flat();
    const text = typeof r.body === 'string';
    const body =
      r.body === undefined || r.body === null ? undefined : text ? (r.body as string) : JSON.stringify(r.body);
    const noBody = r.status === 204 || r.status === 304;
    send(res, r.status, noBody ? undefined : body, r.contentType ?? (text ? TEXT_TYPE : null), extra);
  }

  async function run(
    endpoint: Endpoint,
    match: RouteMatch,
    req: IncomingMessage,
    res: ServerResponse,
    query: Record<string, unknown>,
  ): Promise<void> {
    const { route } = endpoint;
    let body: unknown;
    if (BODY_METHODS.has(req.method ?? '')) {
      // Matrix bodies are JSON whatever the Content-Type says (Synapse does not check it either).
      // Invalid UTF-8 or JSON → M_NOT_JSON; too deep, NUL or unpaired surrogates → M_BAD_JSON
      // (json-body.ts); an empty body is decided per route.
      body = parseJsonBody(await readBody(req, bodyLimit));
    }
    if (endpoint.checkBody !== null) {
      if (body === undefined) {
        if (route.bodyRequired) throw new MatrixError('M_NOT_JSON', 'Content not JSON.');
        body = {};
      }
      endpoint.checkBody(body);
    }
    if (endpoint.checkQuery !== null) endpoint.checkQuery(query);
    // Nor can NUL or unpaired surrogates come in through path parameters or a validated query.
    if (match.pattern.includes(':')) checkParameters(match.params);
    if (endpoint.checkQuery !== null) checkParameters(query);
    let requester = null;
    const remoteIp = clientAddresses.of(req);
    if (route.auth !== 'none') {
      const token = extractToken(req.headers.authorization, query);
      if (route.auth !== 'optional' || token !== null) {
        // Cache hit: no await, no microtask hop (measurable on whoami; bench/).
        requester = (token !== null && services.tokens.peek(token)) || (await requireRequester(services.tokens, token));
        // Synapse records the client address and User-Agent of every authenticated
        // request; in memory here, written in batches (service/device-activity.ts).
        services.deviceActivity.seen(requester, remoteIp, req.headers['user-agent'], services.clock.now());
      }
      // Synapse's admin API: only server admins, refused before the handler can change anything.
      if (route.auth === 'admin' && requester?.isAdmin !== true) {
        throw new MatrixError('M_FORBIDDEN', 'You are not a server admin');
      }
    }
    let result = route.handler({
      body: body ?? {},
      query,
      params: match.params,
      requester,
      remoteIp,
      services,
      headers: req.headers,
    });
    if (result instanceof Promise) result = await result;
    sendResult(res, result);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, listener: ListenerTrust): Promise<void> {
    const started = performance.now();
    const reqId = `req-${(++requestCount).toString(36)}`;
    tagListener(req, listener);
    const url = req.url ?? '/';
    const method = req.method ?? 'GET';
    let pattern: string | null = null;
    inFlight++;
    try {
      if (closing) {
        send(res, 503, JSON.stringify({ errcode: 'M_UNKNOWN', error: 'Server is shutting down' }), null, null);
        return;
      }
      // OPTIONS on any path succeeds without running an endpoint (CORS preflight).
      if (method === 'OPTIONS') {
        send(res, 204, undefined, null, null);
        return;
      }
      const q = url.indexOf('?');
      const path = q === -1 ? url : url.slice(0, q);
      const match = router.find(method, path);
      if (match === null || match === WRONG_METHOD) {
        // Spec v1.6 (MSC3743): unknown path → 404; known path, other method → 405.
        throw new MatrixError('M_UNRECOGNIZED', 'Unrecognized request', {}, match === null ? 404 : 405);
      }
      pattern = match.pattern;
      const query = q === -1 ? EMPTY_QUERY : (parseQuery(url.slice(q + 1)) as Record<string, unknown>);
      await run(endpoints.get(match.route)!, match, req, res, query);
    } catch (err) {
      if (err instanceof ClientGone || res.headersSent) res.destroy();
      else sendError(res, err, req, reqId);
    } finally {
      const ms = performance.now() - started;
      metrics?.request(method, pattern ?? 'unmatched', res.statusCode, ms / 1000);
      requestLog.write(reqId, method, url, res.statusCode, ms, clientAddresses.of(req));
      if (--inFlight === 0 && idle !== null) idle();
    }
  }

  const servers = new Set<Server>();
  const requestHandler =
    (listener: ListenerTrust): RequestListener =>
    (req, res) =>
      void handle(req, res, listener);
  return {
    requestHandler,
    createListenerServer(listener) {
      const server = createListenerServer(requestHandler(listener));
      server.on('clientError', onClientError);
      servers.add(server);
      return server;
    },
    async close() {
      closing = true;
      await Promise.all(
        [...servers].map(
          (s) =>
            new Promise<void>((resolve) => {
              if (!s.listening) return resolve();
              s.close(() => resolve());
              s.closeIdleConnections();
            }),
        ),
      );
      if (inFlight > 0) await new Promise<void>((resolve) => (idle = resolve));
    },
  };
}
