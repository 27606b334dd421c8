import { createServer, type Server } from 'node:http';
import type { Config } from '../config/config.js';

/** Paths the metrics are served on: Synapse's, and the usual Prometheus one. */
const METRICS_PATHS = new Set(['/_synapse/metrics', '/metrics']);

/** Where the text comes from: one process's registry, or a cluster's aggregate. */
export interface MetricsSource {
  text(): Promise<string>;
  readonly contentType: string;
}

/**
 * Synapse's `type: metrics` listener: Prometheus text on its own port, nothing else. Keep it
 * off the public network (bind it to 127.0.0.1 or a private address), as Synapse advises.
 */
export function createMetricsServer(source: MetricsSource): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method !== 'GET' || !METRICS_PATHS.has(path)) {
      res
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        .end('Not found: metrics are at /_synapse/metrics\n');
      return;
    }
    source.text().then(
      (text) => res.writeHead(200, { 'content-type': source.contentType }).end(text),
      (err: Error) =>
        res
          .writeHead(503, { 'content-type': 'text/plain; charset=utf-8' })
          .end(`metrics unavailable: ${err.message}\n`),
    );
  });
}

/** A metrics server on every address of every `type: metrics` listener. */
export async function listenForMetrics(
  config: Config,
  source: MetricsSource,
): Promise<{ server: Server; url: string }[]> {
  const out: { server: Server; url: string }[] = [];
  for (const l of config.metricsListeners) {
    for (const host of l.bindAddresses) {
      const server = createMetricsServer(source);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(l.port, host, () => resolve());
      });
      const { port } = server.address() as { port: number };
      out.push({ server, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}` });
    }
  }
  return out;
}
