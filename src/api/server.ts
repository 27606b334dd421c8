import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { Logger } from 'pino';
import { MatrixError, UiaChallenge } from '../errors.js';
import { redactUrl } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { RequestLog, requestId } from '../observability/request-log.js';
import type { Services } from '../service/index.js';
import type { Requester } from '../service/tokens.js';
import type { ClientAddresses, ListenerTrust } from './client-address.js';
import { checkParameters, parseJsonBody } from './json-body.js';
import { CORS_HEADERS, clientErrorHandler, closeServer, createListenerServer } from './listener.js';
import { ClientGone, readBody } from './request-body.js';
import { extractToken, requireRequester } from './requester.js';
import type { Route, RouteReply } from './route.js';
import { NO_PARAMS, type RouteMatch, Router, WRONG_METHOD } from './router.js';
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

/** One request in flight: what the reply, the log line and the metrics need of it. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  started: number;
  /** The request's number in this process (the log's `reqId`). */
  n: number;
  method: string;
  url: string;
  /** The route's declared path once found (the metrics' label). */
  pattern: string | null;
  remoteIp: string;
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

  function sendError(x: Exchange, err: unknown): void {
    const { res } = x;
    if (err instanceof UiaChallenge) {
      send(res, 401, JSON.stringify(err.body), null, null);
    } else if (err instanceof MatrixError) {
      // Spec "Rate limiting" (v1.10): a 429 SHOULD carry Retry-After in seconds.
      const retryMs = err.extra.retry_after_ms;
      const extra = typeof retryMs === 'number' ? ['retry-after', String(Math.ceil(retryMs / 1000))] : null;
      send(res, err.status, JSON.stringify(err.toJSON()), null, extra);
    } else {
      log.error({ err, reqId: requestId(x.n), url: redactUrl(x.url) }, 'internal error');
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

  /**
   * One request from routing to reply. Written without `async` so that a request needing no
   * I/O (whoami with a cached token) is answered in the same turn, with no promise or
   * microtask; only a body to read, a token to look up or an asynchronous handler continue later.
   */
  function run(
    x: Exchange,
    endpoint: Endpoint,
    match: RouteMatch,
    query: Record<string, unknown>,
  ): Promise<void> | undefined {
    if (BODY_METHODS.has(x.method)) {
      // Matrix bodies are JSON whatever the Content-Type says (Synapse does not check it either).
      // Invalid UTF-8 or JSON → M_NOT_JSON; too deep, NUL or unpaired surrogates → M_BAD_JSON
      // (json-body.ts); an empty body is decided per route.
      return readBody(x.req, bodyLimit).then((raw) => authorize(x, endpoint, match, query, parseJsonBody(raw)));
    }
    return authorize(x, endpoint, match, query, undefined);
  }

  function authorize(
    x: Exchange,
    endpoint: Endpoint,
    match: RouteMatch,
    query: Record<string, unknown>,
    received: unknown,
  ): Promise<void> | undefined {
    const { route } = endpoint;
    let body = received;
    if (endpoint.checkBody !== null) {
      if (body === undefined) {
        if (route.bodyRequired) throw new MatrixError('M_NOT_JSON', 'Content not JSON.');
        body = {};
      }
      endpoint.checkBody(body);
    }
    if (endpoint.checkQuery !== null) {
      endpoint.checkQuery(query);
      checkParameters(query);
    }
    // Nor can NUL or unpaired surrogates come in through path parameters or a validated query.
    if (match.params !== NO_PARAMS) checkParameters(match.params);
    const call = (requester: Requester | null) => respond(x, route, body ?? {}, query, match.params, requester);
    if (route.auth === 'none') return call(null);
    const token = extractToken(x.req.headers.authorization, query);
    if (route.auth === 'optional' && token === null) return call(null);
    // A cached token is answered at once; otherwise the database is asked.
    const cached = token !== null ? services.tokens.peek(token) : null;
    if (cached !== null) return call(admit(x, route, cached));
    return requireRequester(services.tokens, token).then((requester) => call(admit(x, route, requester)));
  }

  /** Record the device's activity; the admin API only for server admins (before its handler runs). */
  function admit(x: Exchange, route: Route, requester: Requester): Requester {
    // Synapse records the client address and User-Agent of every authenticated request; in
    // memory here, written in batches (service/device-activity.ts).
    services.deviceActivity.seen(requester, x.remoteIp, x.req.headers['user-agent'], services.clock.now());
    if (route.auth === 'admin' && !requester.isAdmin)
      throw new MatrixError('M_FORBIDDEN', 'You are not a server admin');
    return requester;
  }

  function respond(
    x: Exchange,
    route: Route,
    body: unknown,
    query: Record<string, unknown>,
    params: Record<string, string>,
    requester: Requester | null,
  ): Promise<void> | undefined {
    const result = route.handler({
      body,
      query,
      params,
      requester,
      remoteIp: x.remoteIp,
      services,
      headers: x.req.headers,
    });
    if (result instanceof Promise) return result.then((r) => sendResult(x.res, r));
    sendResult(x.res, result);
    return undefined;
  }

  function handle(req: IncomingMessage, res: ServerResponse, listener: ListenerTrust): void {
    const x: Exchange = {
      req,
      res,
      started: performance.now(),
      n: ++requestCount,
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      pattern: null,
      remoteIp: clientAddresses.of(req, listener),
    };
    inFlight++;
    let pending: Promise<void> | undefined;
    try {
      pending = route(x);
    } catch (err) {
      fail(x, err);
    }
    if (pending === undefined) finish(x);
    else
      pending.then(
        () => finish(x),
        (err: unknown) => {
          fail(x, err);
          finish(x);
        },
      );
  }

  function route(x: Exchange): Promise<void> | undefined {
    const { res, method, url } = x;
    if (closing) {
      send(res, 503, JSON.stringify({ errcode: 'M_UNKNOWN', error: 'Server is shutting down' }), null, null);
      return undefined;
    }
    // OPTIONS on any path succeeds without running an endpoint (CORS preflight).
    if (method === 'OPTIONS') {
      x.pattern = '*';
      send(res, 204, undefined, null, null);
      return undefined;
    }
    const q = url.indexOf('?');
    const match = router.find(method, q === -1 ? url : url.slice(0, q));
    if (match === null || match === WRONG_METHOD) {
      // Spec v1.6 (MSC3743): unknown path → 404; known path, other method → 405.
      throw new MatrixError('M_UNRECOGNIZED', 'Unrecognized request', {}, match === null ? 404 : 405);
    }
    x.pattern = match.pattern;
    const query = q === -1 ? EMPTY_QUERY : (parseQuery(url.slice(q + 1)) as Record<string, unknown>);
    return run(x, endpoints.get(match.route)!, match, query);
  }

  function fail(x: Exchange, err: unknown): void {
    if (err instanceof ClientGone || x.res.headersSent) x.res.destroy();
    else sendError(x, err);
  }

  /** After the reply: metrics, the request's log line, and the shutdown's wait for in-flight requests. */
  function finish(x: Exchange): void {
    const ms = performance.now() - x.started;
    const status = x.res.statusCode;
    metrics?.request(x.method, x.pattern ?? 'unmatched', status, ms / 1000);
    requestLog.write(x.n, x.method, x.url, status, ms, x.remoteIp);
    if (--inFlight === 0 && idle !== null) idle();
  }

  const servers = new Set<Server>();
  const requestHandler =
    (listener: ListenerTrust): RequestListener =>
    (req, res) =>
      handle(req, res, listener);
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
      await Promise.all([...servers].map(closeServer));
      if (inFlight > 0) await new Promise<void>((resolve) => (idle = resolve));
    },
  };
}
