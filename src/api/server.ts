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
import { redactUrl } from '../observability/logger.js';
import type { Services } from '../service/index.js';
import { extractToken, requireRequester } from './requester.js';
import type { Route, RouteReply } from './route.js';

/** CORS on every response (spec: "Web Browser Clients"; conformance E4). */
const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, HEAD, POST, PUT, DELETE, OPTIONS',
  'access-control-allow-headers': 'X-Requested-With, Content-Type, Authorization, Date',
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface ServerOptions {
  services: Services;
  routes: Route[];
  log: Logger;
  bodyLimit: number;
  /** Trust X-Forwarded-For for the client address (Synapse's `x_forwarded`). */
  trustProxy: boolean;
}

/** One log line per request, after the reply, with any `access_token` in the URL hidden. */
class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}
  override routeNotFound(): void {}
  override requestCompleted(_error: unknown, req: FastifyRequest, rep: FastifyReply): void {
    if (!(req.log as unknown as Logger).isLevelEnabled('info')) return;
    req.log.info(
      {
        reqId: req.id,
        method: req.method,
        url: redactUrl(req.url),
        status: rep.statusCode,
        ms: Math.round(rep.elapsedTime * 100) / 100,
        ip: req.ip,
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
export function buildServer(opts: ServerOptions): FastifyInstance {
  const { services, log } = opts;
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new OneLinePerRequest(),
    bodyLimit: opts.bodyLimit,
    // Every accepted device id must fit `/devices/{deviceId}`; the router counts the decoded
    // parameter in UTF-16 units, at most two per character (src/util/device-id.ts).
    routerOptions: { maxParamLength: 3 * MAX_DEVICE_ID_LENGTH },
    trustProxy: opts.trustProxy,
    // No type coercion: `{"type": 5}` must fail, not become "5" (shared/docs/deps.md §2).
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    return503OnClosing: true,
    // No per-request child logger: with redaction configured, pino's child() costs ~5 µs, a
    // tenth of a whoami (bench/). Request lines carry `reqId` explicitly instead.
    childLoggerFactory: (logger) => logger,
  });

  // Headers every reply gets; set where replies are made (handlers, not-found, errors) rather
  // than in per-request hooks, which cost measurable time on the token-check hot path.
  let closing = false;
  const finish = (rep: FastifyReply): FastifyReply => {
    rep.headers(CORS_HEADERS);
    // A request still in flight at shutdown ends its connection with its reply; otherwise the
    // client's keep-alive socket would hold `close()` open for Fastify's 72 s keep-alive timeout.
    if (closing) rep.header('connection', 'close');
    return rep;
  };
  app.addHook('preClose', async () => {
    closing = true;
  });

  // Matrix bodies are JSON whatever the Content-Type says (Synapse does not check it either).
  // Invalid UTF-8 or JSON → M_NOT_JSON; an empty body is `undefined` and decided per route.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body: Buffer, done) => {
    if (body.length === 0) return done(null, undefined);
    let text: string;
    let parsed: unknown;
    try {
      text = utf8.decode(body);
      parsed = JSON.parse(text);
    } catch {
      return done(new MatrixError('M_NOT_JSON', 'Content not JSON.'), undefined);
    }
    // NUL cannot be stored in PostgreSQL text; refuse it at the edge so both databases behave
    // alike. Only the escape `\u0000` can produce one (a raw NUL byte is not valid JSON).
    if (text.includes('\\u0000') && containsNul(parsed)) {
      return done(new MatrixError('M_BAD_JSON', 'Strings may not contain NUL characters'), undefined);
    }
    done(null, parsed);
  });

  // OPTIONS on any path succeeds without running an endpoint (conformance E4, A0.3).
  app.route({ method: 'OPTIONS', url: '*', handler: async (_req, rep) => finish(rep).code(204).send() });

  const patterns: { regex: RegExp; method: string }[] = [];
  for (const route of opts.routes) {
    for (const path of route.paths) {
      patterns.push({ regex: patternRegex(path), method: route.method });
      // NUL cannot reach the database from path parameters or a validated query either.
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
          if ((checkParams && containsNul(req.params)) || (checkQuery && containsNul(req.query))) {
            throw new MatrixError('M_INVALID_PARAM', 'Parameters may not contain NUL characters');
          }
          let requester = null;
          if (route.auth !== 'none') {
            const token = extractToken(req.headers.authorization, req.query);
            if (route.auth === 'required' || token !== null) {
              // Cache hit: no await, no microtask hop (measurable on whoami; bench/).
              requester =
                (token !== null && services.tokens.peek(token)) || (await requireRequester(services.tokens, token));
            }
          }
          let result = route.handler({
            body: req.body ?? {},
            query: req.query ?? {},
            params: req.params ?? {},
            requester,
            remoteIp: req.ip,
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
      // Spec "Rate limiting" (v1.10): a 429 SHOULD carry Retry-After in seconds (conformance E7).
      const retryMs = matrix.extra.retry_after_ms;
      if (typeof retryMs === 'number') rep.header('retry-after', String(Math.ceil(retryMs / 1000)));
      return rep.code(matrix.status).send(matrix.toJSON());
    }
    req.log.error({ err: error, reqId: req.id, url: redactUrl(req.url) }, 'internal error');
    return rep.code(500).send({ errcode: 'M_UNKNOWN', error: 'Internal server error' });
  });

  return app;
}

function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (typeof value !== 'object' || value === null) return false;
  for (const [k, v] of Object.entries(value)) {
    if (k.includes('\u0000') || containsNul(v)) return true;
  }
  return false;
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
