import { createServer, type Server } from 'node:http';

/**
 * A stand-in for a reCAPTCHA "siteverify" endpoint on 127.0.0.1: it accepts the response
 * `good` (for the configured secret) and records every form it receives.
 */
export interface FakeSiteverify {
  url: string;
  received: URLSearchParams[];
  close(): Promise<void>;
}

export async function startFakeSiteverify(opts: { secret: string; goodResponse?: string }): Promise<FakeSiteverify> {
  const received: URLSearchParams[] = [];
  const good = opts.goodResponse ?? 'good';
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const form = new URLSearchParams(body);
      received.push(form);
      const success = req.method === 'POST' && form.get('secret') === opts.secret && form.get('response') === good;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ success, ...(success ? {} : { 'error-codes': ['invalid-input-response'] }) }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${addr.port}/siteverify`,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
