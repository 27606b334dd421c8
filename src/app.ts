import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ClientAddresses } from './api/client-address.js';
import { allRoutes } from './api/routes.js';
import { buildServer } from './api/server.js';
import type { Config } from './config/config.js';
import { createLogger } from './observability/logger.js';
import { startHousekeeping } from './service/housekeeping.js';
import { createServices, type Services } from './service/index.js';
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
}

export interface App {
  config: Config;
  server: FastifyInstance;
  services: Services;
  storage: Storage;
  log: Logger;
  /** Listen on every configured listener; returns the base URLs. */
  listen(): Promise<string[]>;
  /** Stop accepting, finish in-flight requests, close the database. */
  close(): Promise<void>;
}

/** The database and the services on it, without any listener or timer. */
export interface OpenServices {
  services: Services;
  storage: Storage;
  log: Logger;
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
  const database = await openDatabase(config.database);
  const storage = createStorage(database.db, database.dialect);
  const services = createServices({
    storage,
    config,
    clock: deps.clock ?? systemClock,
    random: deps.random ?? cryptoRandom,
    hasher: deps.hasher ?? createArgon2Hasher(config.passwordHashing),
    log,
    ...(deps.fetch && { fetch: deps.fetch }),
  });
  return { services, storage, log, close: () => database.close() };
}

/**
 * The composition root: the only place that creates things and wires them together.
 * Storage → services → HTTP server; every dependency is passed in, never global.
 */
export async function createApp(deps: AppDeps): Promise<App> {
  const { config } = deps;
  const { services, storage, log, close: closeDatabase } = await openServices(deps);
  // Every bind address of every listener, each knowing its own listener's `x_forwarded`.
  const [first, ...rest] = config.listeners.flatMap((l) =>
    l.bindAddresses.map((host) => ({ host, port: l.port, trust: { xForwarded: l.xForwarded } })),
  );
  const http = buildServer({
    services,
    routes: allRoutes,
    log,
    bodyLimit: config.maxRequestBodySize,
    clientAddresses: new ClientAddresses(new AddressSet(config.trustedProxies)),
    firstListener: first?.trust ?? { xForwarded: false },
  });
  const server = http.fastify;

  let closed = false;
  const extraServers: Server[] = [];
  let housekeeping: { stop(): void } | null = null;
  return {
    config,
    server,
    services,
    storage,
    log,
    async listen() {
      const urls: string[] = [];
      if (first === undefined) return urls;
      urls.push(await server.listen({ host: first.host, port: first.port }));
      // Fastify listens on one address per instance; further addresses get a plain node:http
      // server that hands requests to the same routing.
      for (const extra of rest) {
        const s = http.createListenerServer(extra.trust);
        await new Promise<void>((resolve, reject) => {
          s.once('error', reject);
          s.listen(extra.port, extra.host, () => resolve());
        });
        extraServers.push(s);
        const { port } = s.address() as { port: number };
        urls.push(`http://${extra.host.includes(':') ? `[${extra.host}]` : extra.host}:${port}`);
      }
      const buckets = [
        config.rcRegistration,
        config.rcLogin.address,
        config.rcLogin.account,
        config.rcLogin.failedAttempts,
        config.rcRegistrationRequests,
      ];
      housekeeping = startHousekeeping({
        storage,
        clock: deps.clock ?? systemClock,
        log,
        rateLimitDrainMs: Math.ceil(Math.max(...buckets.map((b) => (b.burstCount / b.perSecond) * 1000))),
      });
      return urls;
    },
    async close() {
      if (closed) return;
      closed = true;
      housekeeping?.stop();
      await Promise.all(
        extraServers.map(
          (s) =>
            new Promise<void>((r) => {
              s.close(() => r());
              s.closeIdleConnections();
            }),
        ),
      );
      await server.close();
      await closeDatabase();
    },
  };
}
