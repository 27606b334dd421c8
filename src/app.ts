import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { ClientAddresses } from './api/client-address.js';
import { closeServer } from './api/listener.js';
import { allRoutes } from './api/routes.js';
import { buildServer, type HttpServer } from './api/server.js';
import type { Config } from './config/config.js';
import { createLogger } from './observability/logger.js';
import type { Metrics } from './observability/metrics.js';
import { startHousekeeping } from './service/housekeeping.js';
import { createServices, type Services } from './service/index.js';
import type { Mailer } from './service/mailer.js';
import { createArgon2Hasher, type Hasher } from './service/passwords.js';
import { openDatabase } from './storage/open.js';
import { createStorage, type Storage } from './storage/storage.js';
import { AddressSet } from './util/address-set.js';
import { type Clock, systemClock } from './util/clock.js';
import { cryptoRandom, type Random } from './util/random.js';

export interface AppDeps {
  config: Config;
  log?: Logger;
  clock?: Clock;
  random?: Random;
  hasher?: Hasher;
  fetch?: typeof fetch;
  /** Sends validation mail instead of SMTP per the `email:` block (tests: a sink or a recorder). */
  mailer?: Mailer;
  /** Device activity batching: how often it is written, and its granularity (ms). */
  deviceActivity?: { flushIntervalMs?: number; granularityMs?: number };
  /**
   * Whether this process listens on the `type: metrics` listeners itself (default). A cluster
   * worker counts but does not listen: its primary serves the sum of all workers (cli/cluster.ts).
   */
  serveMetrics?: boolean;
}

export interface App {
  config: Config;
  /** The HTTP front (api/server.ts) shared by every listener. */
  http: HttpServer;
  services: Services;
  storage: Storage;
  log: Logger;
  /** Listen on every configured listener; returns the base URLs. */
  listen(): Promise<string[]>;
  /** Where Prometheus metrics are served (`type: metrics` listeners), once listening. */
  metricsUrls: string[];
  /** The metrics this process counts; null unless `enable_metrics` and a metrics listener. */
  metrics: Metrics | null;
  /** Stop accepting, finish in-flight requests, close the database. */
  close(): Promise<void>;
}

/** The database and the services on it, without any listener or timer. */
export interface OpenServices {
  services: Services;
  storage: Storage;
  log: Logger;
  clock: Clock;
  /** Counting when a metrics listener is configured, else null. */
  metrics: Metrics | null;
  /** Close the database. */
  close(): Promise<void>;
}

/**
 * Storage → services: open the database (bringing its schema up to date) and build every
 * service on it. `createApp` puts the HTTP server on top; the `tessera users` commands use
 * the services alone, acting on the database of a config without a running server.
 */
export async function openServices(deps: AppDeps): Promise<OpenServices> {
  const { config } = deps;
  const log = deps.log ?? createLogger({ level: config.logLevel, format: config.logFormat });
  const clock = deps.clock ?? systemClock;
  // Metrics cost nothing unless a metrics listener is configured: not even loading prom-client.
  const metrics =
    config.metricsListeners.length > 0 ? new (await import('./observability/metrics.js')).Metrics() : null;
  const database = await openDatabase(config.database, metrics ? { onQuery: (ms) => metrics.query(ms) } : {});
  const storage = createStorage(database.db, database.dialect);
  metrics?.setSources({
    uiaSessionsOpen: () => storage.uiaSessions.countOpen(clock.now()),
    databasePool: database.poolStats,
  });
  const services = createServices({
    storage,
    config,
    clock,
    random: deps.random ?? cryptoRandom,
    hasher: deps.hasher ?? createArgon2Hasher(config.passwordHashing),
    log,
    ...(deps.fetch && { fetch: deps.fetch }),
    ...(deps.mailer && { mailer: deps.mailer }),
    ...(deps.deviceActivity && { deviceActivity: deps.deviceActivity }),
    ...(metrics && { telemetry: metrics }),
  });
  return { services, storage, log, clock, metrics, close: () => database.close() };
}

/**
 * The composition root: the only place that creates things and wires them together.
 * Storage → services → HTTP server; every dependency is passed in, never global.
 */
export async function createApp(deps: AppDeps): Promise<App> {
  const { config } = deps;
  const { services, storage, log, clock, metrics, close: closeDatabase } = await openServices(deps);
  // Every bind address of every listener, each knowing its own listener's `x_forwarded`.
  const addresses = config.listeners.flatMap((l) =>
    l.bindAddresses.map((host) => ({ host, port: l.port, trust: { xForwarded: l.xForwarded } })),
  );
  const http = buildServer({
    services,
    routes: allRoutes,
    log,
    bodyLimit: config.maxRequestBodySize,
    clientAddresses: new ClientAddresses(new AddressSet(config.trustedProxies)),
    metrics,
  });

  let closed = false;
  const metricsServers: Server[] = [];
  const metricsUrls: string[] = [];
  let housekeeping: { stop(): void } | null = null;
  return {
    config,
    http,
    services,
    storage,
    log,
    metricsUrls,
    metrics,
    async listen() {
      const urls: string[] = [];
      for (const address of addresses) {
        const s = http.createListenerServer(address.trust);
        await listenOn(s, address.port, address.host);
        urls.push(urlOf(address.host, s));
      }
      if (metrics !== null && deps.serveMetrics !== false) {
        const { listenForMetrics } = await import('./observability/metrics-server.js');
        const servers = await listenForMetrics(config, metrics);
        metricsServers.push(...servers.map((m) => m.server));
        metricsUrls.push(...servers.map((m) => m.url));
      }
      services.deviceActivity.start();
      housekeeping = startHousekeeping({
        storage,
        clock,
        log,
        rateLimitDrainMs: services.rateLimiter.longestDrainMs(),
      });
      return urls;
    },
    async close() {
      if (closed) return;
      closed = true;
      housekeeping?.stop();
      await Promise.all(metricsServers.map(closeServer));
      await http.close();
      // After the last request finished, before the database closes: write the last activity.
      await services.deviceActivity.stop();
      services.mailer?.close();
      await closeDatabase();
    },
  };
}

function listenOn(s: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, host, () => resolve());
  });
}

function urlOf(host: string, s: Server): string {
  const { port } = s.address() as { port: number };
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
