import { type Logger, pino } from 'pino';

/**
 * The process logger: JSON lines by default, pretty when asked (or on a terminal). Secrets
 * never reach it: authorization headers, passwords and tokens are redacted, and request URLs
 * are logged through `redactUrl`.
 */
export function createLogger(opts: { level: string; format: 'json' | 'pretty' }): Logger {
  const redact = {
    paths: [
      'req.headers.authorization',
      'headers.authorization',
      '*.password',
      '*.new_password',
      '*.access_token',
      '*.refresh_token',
      '*.token',
      'password',
      'access_token',
    ],
    censor: '[redacted]',
  };
  if (opts.format === 'pretty') {
    return pino({
      level: opts.level,
      redact,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
      },
    });
  }
  return pino({ level: opts.level, redact });
}

/** The URL with any `access_token` query parameter hidden. */
export function redactUrl(url: string): string {
  return url.replace(/([?&]access_token=)[^&#]*/gi, '$1[redacted]');
}
