import { createRequire } from 'node:module';
import { type DestinationStream, type Logger, pino } from 'pino';

export interface LoggerOptions {
  level: string;
  format: 'json' | 'pretty';
  /** Where lines go (default standard output); tests pass a stream they read back. */
  destination?: DestinationStream;
}

/** Keys whose values never reach the log, up to three levels deep. */
const SECRET_KEYS = [
  'authorization',
  'password',
  'new_password',
  'access_token',
  'refresh_token',
  'token',
  'login_token',
  // A UIA session id stands for the stages already completed in it (spec: "User-interactive
  // authentication API"): whoever holds a finished registration session can use it.
  'session',
  'client_secret',
  'sid',
  'registration_shared_secret',
  'recaptcha_private_key',
];
const REDACT_PATHS = ['req.headers.authorization', ...SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`])];

/**
 * The process logger: JSON lines by default, pretty when asked (or on a terminal). Secrets
 * never reach it: authorization headers, passwords and tokens are redacted, and request URLs
 * are logged through `redactUrl`.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const base = { level: opts.level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  if (opts.format === 'pretty') {
    const pretty = {
      // Colour codes only for a person at a terminal, never into a file or a pipe.
      colorize: opts.destination === undefined && process.stdout.isTTY === true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
    };
    // Loaded only for this format: pino-pretty and its dependencies cost a start ~20 ms. It
    // formats in this thread (the format is for a person reading along, not for a busy server),
    // so pino needs no transport, no worker thread, and can be bundled (scripts/bundle.mjs).
    const { build: prettyStream } = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
    const destination = (opts.destination as NodeJS.WritableStream | undefined) ?? 1;
    return pino(base, prettyStream({ ...pretty, destination }));
  }
  if (opts.destination !== undefined) return pino(base, opts.destination);
  // Standard output written asynchronously: while one write(2) is under way the next lines
  // gather in memory and go out together, so a busy server makes one write per batch, not per
  // line, and a quiet one writes each line at once. pino writes what is left when the process exits.
  const stdout = pino.destination({ dest: 1, sync: false });
  return pino(base, stdout);
}

/**
 * Query parameters whose values are credentials: the spec's `access_token` query parameter,
 * the UIA `session` of the fallback page (spec: "Fallback"), 3PID validation's `client_secret`
 * and `sid`, SSO's `loginToken`, and anything named like a token or password.
 */
const SECRET_QUERY_KEYS = new Set([
  'access_token',
  'refresh_token',
  'token',
  'login_token',
  'logintoken',
  'password',
  'session',
  'client_secret',
  'sid',
]);

/**
 * The URL with the values of credential query parameters hidden. Keys are compared after
 * percent-decoding, as the query parser decodes them: `access%5Ftoken=` is a token too.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const hash = url.indexOf('#', q);
  const query = url.slice(q + 1, hash === -1 ? undefined : hash);
  const redacted = query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const rawKey = eq === -1 ? pair : pair.slice(0, eq);
      return SECRET_QUERY_KEYS.has(decodeKey(rawKey).toLowerCase()) ? `${rawKey}=[redacted]` : pair;
    })
    .join('&');
  return `${url.slice(0, q + 1)}${redacted}${hash === -1 ? '' : url.slice(hash)}`;
}

function decodeKey(key: string): string {
  try {
    return decodeURIComponent(key.replaceAll('+', ' '));
  } catch {
    // Malformed escapes: decode what can be decoded so `access%5Ftoken%` is still caught.
    return key.replace(/%([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  }
}
