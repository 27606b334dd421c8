import { Agent, request } from 'node:http';
import type { FuzzRequest } from './requests.js';

/**
 * A raw HTTP client for the fuzz test: node:http sends the path exactly as given (fetch would
 * resolve `..` and re-encode it) and the body bytes as they are (invalid UTF-8, UTF-16 …).
 */

export interface RawResponse {
  status: number;
  contentType: string;
  text: string;
}

export interface RawFailure {
  error: string;
}

/**
 * One connection per request: a server may close a connection after an error reply (413, 431),
 * and a reused keep-alive socket would then look like a request without a reply.
 */
export function createAgent(concurrency: number): Agent {
  return new Agent({ keepAlive: false, maxSockets: concurrency });
}

const TIMEOUT_MS = 30_000;

export function send(agent: Agent, baseUrl: string, req: FuzzRequest): Promise<RawResponse | RawFailure> {
  const base = new URL(baseUrl);
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: RawResponse | RawFailure) => {
      if (!done) {
        done = true;
        resolve(r);
      }
    };
    let responded = false;
    let outgoing: ReturnType<typeof request>;
    try {
      outgoing = request(
        {
          host: base.hostname,
          port: base.port,
          method: req.method,
          path: req.path,
          agent,
          headers: { ...req.headers, ...(req.body !== undefined && { 'content-length': String(req.body.length) }) },
          timeout: TIMEOUT_MS,
        },
        (res) => {
          responded = true;
          const chunks: Buffer[] = [];
          const complete = () =>
            finish({
              status: res.statusCode ?? 0,
              contentType: String(res.headers['content-type'] ?? ''),
              text: Buffer.concat(chunks).toString('utf8'),
            });
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', complete);
          // The server may close the connection right after its reply (e.g. 413 while the body
          // is still being sent): the reply counts, the write error after it does not.
          res.on('close', complete);
        },
      );
    } catch (err) {
      // node:http refuses the request before sending (a bug in the test's input, not the server).
      throw new Error(`cannot send ${req.method} ${req.path.slice(0, 200)}: ${(err as Error).message}`);
    }
    outgoing.on('timeout', () => {
      outgoing.destroy(new Error(`no response within ${TIMEOUT_MS} ms`));
    });
    outgoing.on('error', (err) => {
      if (!responded) finish({ error: err.message });
    });
    outgoing.end(req.body);
  });
}
