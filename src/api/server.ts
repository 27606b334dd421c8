import type { Server } from 'node:http';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import { MatrixError, UiaChallenge } from '../errors.js';
import { MAX_DEVICE_ID_LENGTH } from '../limits.js';
import { redactUrl, requestLogger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Services } from '../service/index.js';
import type { ClientAddresses, ListenerTrust } from './client-address.js';
import { checkParameters, parseJsonBody } from './json-body.js';
import { CORS_HEADERS, clientErrorHandler, createListenerServer, listenerRequestHandler } from './listener.js';
import { extractToken, requireRequester } from './requester.js';
import type { Route, RouteReply } from './route.js';

/**
 * Longest path parameter. The router counts the decoded parameter in UTF-16 units; a device id
 * of MAX_DEVICE_ID_LENGTH characters takes at most two units per character, so every id the
 * server accepts can be addressed as `/devices/{deviceId}` (src/util/device-id.ts). Longer
 * parameters are 400 M_INVALID_PARAM instead of Fastify's own 414 body.
 */
const MAX_PARAM_LENGTH = 3 * MAX_DEVICE_ID_LENGTH;

export interface ServerOptions {
  services: Services;
  routes: Route[];
  log: Logger;
  bodyLimit: number;
  /** Resolves each request's client address (per listener, `trusted_proxies`). */
  clientAddresses: ClientAddresses;
  /** The listener Fastify itself listens on (the first address of the first listener). */
  firstListener: ListenerTrust;
  /** Counts every answered request when metrics are on (observability/metrics.ts). */
  metrics?: Metrics | null;
}

export interface HttpServer {
  fastify: FastifyInstance;
  /** A node:http server for one more listener, handing its requests to Fastify's routing. */
  createListenerServer(listener: ListenerTrust): Server;
}

/** One log line per request, after the reply, with credentials in the URL hidden. */
class OneLinePerRequest extends LogController {
  private readonly log: Logger;
  constructor(
    log: Logger,
    private readonly clientAddresses: ClientAddresses,
    private readonly metrics: Metrics | null,
  ) {
    super();
    this.log = requestLogger(log);
  }
  override incomingRequest(): void {}
  override routeNotFound(): void {}
  override requestCompleted(_error: unknown, req: FastifyRequest, rep: FastifyReply): void {
    this.metrics?.request(req.method, req.routeOptions.url ?? 'unmatched', rep.statusCode, rep.elapsedTime / 1000);
    if (!this.log.isLevelEnabled('info')) return;
    this.log.info(
      {
        reqId: req.id,
        method: req.method,
        url: redactUrl(req.url),
        status: rep.statusCode,
        ms: Math.round(rep.elapsedTime * 100) / 100,
        ip: this.clientAddresses.of(req.raw),
      },
      'request',
    );
  }
}

/** Compile a route pattern (`/devices/:deviceId`) to a regex, for the 405-vs-404 decision. */
function patternRegex(path: string): RegExp {
  const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z]+/g, '[^/]+');
  return new RegExp(`^${escaped}$`);
}

/** Build the Fastify instance: parsing, validation, errors, CORS, request logs and routes. */
export function buildServer(opts: ServerOptions): HttpServer {
  const { services, log, clientAddresses } = opts;
  let closing = false;
  const isClosing = () => closing;
  const onClientError = clientErrorHandler(log);
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new OneLinePerRequest(log, clientAddresses, opts.metrics ?? null),
    bodyLimit: opts.bodyLimit,
    // The client address is computed per listener (client-address.ts), never by Fastify's
    // instance-wide `trustProxy`. Fastify's own server gets the same front handler as the others.
    serverFactory: (handler) => createListenerServer(listenerRequestHandler(handler, opts.firstListener, isClosing)),
    clientErrorHandler: onClientError,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Instead of Fastify's own bodies for a path it cannot decode or a parameter over maxParamLength.
    frameworkErrors: (error, _req, rep) => {
      const err =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new MatrixError('M_INVALID_PARAM', 'Path parameter too long')
          : new MatrixError('M_INVALID_PARAM', 'Path is not valid percent-encoded UTF-8');
      return finish(rep).code(err.status).send(err.toJSON());
    },
    // No type coercion: `{"type": 5}` must fail, not become "5".
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    // The front handler answers 503 itself once closing, with a Matrix body (listener.ts).
    return503OnClosing: false,
    // No per-request child logger: with redaction configured, pino's child() costs ~5 µs, a
    // tenth of a whoami (bench/). Request lines carry `reqId` explicitly instead.
    childLoggerFactory: (logger) => logger,
  });

  // Headers every reply gets; set where replies are made (handlers, not-found, errors) rather
  // than in per-request hooks, which cost measurable time on the token-check hot path.
  function finish(rep: FastifyReply): FastifyReply {
    rep.headers(CORS_HEADERS);
    // A request still in flight at shutdown ends its connection with its reply; otherwise the
    // client's keep-alive socket would hold `close()` open until its keep-alive timeout.
    if (closing) rep.header('connection', 'close');
    return rep;
  }
  app.addHook('preClose', async () => {
    closing = true;
  });

  // Matrix bodies are JSON whatever the Content-Type says (listener.ts sets it for every
  // request). Invalid UTF-8 or JSON → M_NOT_JSON; too deep, NUL or unpaired surrogates →
  // M_BAD_JSON (json-body.ts); an empty body is `undefined` and decided per route.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body: Buffer, done) => {
    let parsed: unknown;
    try {
      parsed = parseJsonBody(body);
    } catch (err) {
      return done(err as Error, undefined);
    }
    done(null, parsed);
  });

  // OPTIONS on any path succeeds without running an endpoint.
  app.route({ method: 'OPTIONS', url: '*', handler: async (_req, rep) => finish(rep).code(204).send() });

  const patterns: { regex: RegExp; method: string }[] = [];
  for (const route of opts.routes) {
    for (const path of route.paths) {
      patterns.push({ regex: patternRegex(path), method: route.method });
      // Nor can NUL or unpaired surrogates come in through path parameters or a validated query.
      const checkParams = path.includes(':');
      const checkQuery = route.querystring !== null;
      app.route({
        method: route.method,
        url: path,
        schema: {
          ...(route.body && { body: route.body }),
          ...(route.querystring && { querystring: route.querystring }),
        },
        ...(route.body !== null && {
          preValidation: async (req: FastifyRequest) => {
            if (req.body === undefined) {
              if (route.bodyRequired) throw new MatrixError('M_NOT_JSON', 'Content not JSON.');
              req.body = {};
            }
          },
        }),
        handler: async (req, rep) => {
          if (checkParams) checkParameters(req.params);
          if (checkQuery) checkParameters(req.query);
          let requester = null;
          const remoteIp = clientAddresses.of(req.raw);
          if (route.auth !== 'none') {
            const token = extractToken(req.headers.authorization, req.query);
            if (route.auth !== 'optional' || token !== null) {
              // Cache hit: no await, no microtask hop (measurable on whoami; bench/).
              requester =
                (token !== null && services.tokens.peek(token)) || (await requireRequester(services.tokens, token));
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
            body: req.body ?? {},
            query: req.query ?? {},
            params: req.params ?? {},
            requester,
            remoteIp,
            services,
            headers: req.headers,
          });
          if (result instanceof Promise) result = await result;
          if (typeof result === 'object' && result !== null && (result as { kind?: unknown }).kind === 'reply') {
            const r = result as RouteReply;
            if (r.headers) rep.headers(r.headers);
            if (r.contentType) rep.type(r.contentType);
            return finish(rep).code(r.status).send(r.body);
          }
          return finish(rep).code(200).send(result);
        },
      });
    }
  }

  app.setNotFoundHandler(async (req, rep) => {
    // E3 (spec v1.6, MSC3743): unknown path → 404; known path, other method → 405.
    const path = req.url.split('?')[0] ?? '';
    const known = patterns.some((p) => p.regex.test(path));
    const err = known
      ? new MatrixError('M_UNRECOGNIZED', 'Unrecognized request', {}, 405)
      : new MatrixError('M_UNRECOGNIZED', 'Unrecognized request');
    return finish(rep).code(err.status).send(err.toJSON());
  });

  app.setErrorHandler(async (error: FastifyError | Error, req: FastifyRequest, rep: FastifyReply) => {
    finish(rep);
    if (error instanceof UiaChallenge) return rep.code(401).send(error.body);
    const matrix = toMatrixError(error);
    if (matrix !== null) {
      // Spec "Rate limiting" (v1.10): a 429 SHOULD carry Retry-After in seconds.
      const retryMs = matrix.extra.retry_after_ms;
      if (typeof retryMs === 'number') rep.header('retry-after', String(Math.ceil(retryMs / 1000)));
      return rep.code(matrix.status).send(matrix.toJSON());
    }
    req.log.error({ err: error, reqId: req.id, url: redactUrl(req.url) }, 'internal error');
    return rep.code(500).send({ errcode: 'M_UNKNOWN', error: 'Internal server error' });
  });

  return {
    fastify: app,
    createListenerServer(listener) {
      const server = createListenerServer(
        listenerRequestHandler((req, res) => app.routing(req, res), listener, isClosing),
      );
      server.on('clientError', onClientError);
      return server;
    },
  };
}

/** Map framework and validation errors to Matrix errors; null for unexpected ones (→ 500). */
function toMatrixError(error: FastifyError | Error): MatrixError | null {
  if (error instanceof MatrixError) return error;
  const fe = error as FastifyError;
  if (fe.validation && fe.validation.length > 0) {
    const first = fe.validation[0]!;
    const where = fe.validationContext === 'querystring' ? 'query parameter' : 'JSON key';
    if (first.keyword === 'required') {
      const key = String((first.params as { missingProperty?: unknown }).missingProperty ?? '');
      return new MatrixError('M_MISSING_PARAM', `Missing ${where}: ${key}`);
    }
    const path = first.instancePath.replace(/^\//, '').replaceAll('/', '.');
    if (path === '' && first.keyword === 'type' && fe.validationContext === 'body') {
      return new MatrixError('M_BAD_JSON', 'Content must be a JSON object.');
    }
    const errcode = fe.validationContext === 'querystring' ? 'M_INVALID_PARAM' : 'M_BAD_JSON';
    return new MatrixError(errcode, `${path || where} ${first.message ?? 'is invalid'}`);
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new MatrixError('M_TOO_LARGE', 'Request body too large');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new MatrixError('M_NOT_JSON', 'Content not JSON.');
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new MatrixError('M_UNKNOWN', fe.message, {}, fe.statusCode);
  }
  return null;
}
