import { type Logger, pino } from 'pino';
import { redactUrl } from './logger.js';

interface LineStream {
  write(line: string): unknown;
}

/**
 * The one line per request, after its reply: `reqId`, `method`, `url` (credentials hidden by
 * `redactUrl`), `status`, `ms` and the client's `ip`, at level info, in pino's JSON line format
 * with the logger's own bindings (`pid`, `hostname`).
 *
 * The line is written as text straight to the logger's destination, not through `log.info`:
 * every field is set by the server, never taken whole from a request, so it needs none of the
 * logger's redaction or serializers, and building it by hand costs a fraction of a generic log
 * call, which on whoami cost as much as answering the request (`npm run bench`). The pretty
 * format reads the same JSON lines, so both formats show it alike.
 */
export class RequestLog {
  private readonly stream: LineStream | null;
  private readonly bindings: string;

  constructor(private readonly log: Logger) {
    const raw = log as unknown as Record<symbol, unknown>;
    const stream = raw[pino.symbols.streamSym] as LineStream | undefined;
    const bindings = raw[pino.symbols.chindingsSym];
    this.stream = typeof stream?.write === 'function' && typeof bindings === 'string' ? stream : null;
    this.bindings = typeof bindings === 'string' ? bindings : '';
  }

  /** The line of request number `n` (its `reqId`), unless the level leaves out info. */
  write(n: number, method: string, url: string, status: number, ms: number, ip: string): void {
    if (!this.log.isLevelEnabled('info')) return;
    const reqId = requestId(n);
    const rounded = Math.round(ms * 100) / 100;
    if (this.stream === null) {
      this.log.info({ reqId, method, url: redactUrl(url), status, ms: rounded, ip }, 'request');
      return;
    }
    this.stream.write(
      `{"level":30,"time":${Date.now()}${this.bindings},"reqId":"${reqId}","method":${JSON.stringify(method)},` +
        `"url":${JSON.stringify(redactUrl(url))},"status":${status},"ms":${rounded},"ip":${JSON.stringify(ip)},` +
        `"msg":"request"}\n`,
    );
  }
}

/** `req-1`, `req-2` … `req-a` …: the request's number in this process, in base 36. */
export function requestId(n: number): string {
  return `req-${n.toString(36)}`;
}
