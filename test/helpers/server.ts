import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type App, createApp } from '../../src/app.js';
import type { Config } from '../../src/config/config.js';
import { validateConfig } from '../../src/config/load.js';
import type { Mailer } from '../../src/service/mailer.js';
import type { Clock } from '../../src/util/clock.js';
import { type Backend, backendRuns, describeOrSkip, dropSchema, POSTGRES_URL, uniqueSchemaName } from './backends.js';

export type { Backend } from './backends.js';

export interface TestResponse {
  status: number;
  /** Parsed JSON, or the raw text when the body is not JSON. */
  body: any;
  headers: Headers;
}

export interface RequestOptions {
  token?: string;
  /** Send this string as the body verbatim (malformed-input tests). */
  raw?: string | Buffer;
  headers?: Record<string, string>;
}

export interface TestServer {
  backend: Backend;
  url: string;
  app: App;
  config: Config;
  request(method: string, path: string, body?: unknown, opts?: RequestOptions): Promise<TestResponse>;
  /** Stop and start again on the same database (new port; `url` is updated). */
  restart(): Promise<void>;
  /** Stop the server and delete its database. */
  close(): Promise<void>;
}

export interface StartOptions {
  backend?: Backend;
  /** Config keys in YAML form (snake_case), merged over the test defaults. */
  config?: Record<string, unknown>;
  clock?: Clock;
  fetch?: typeof fetch;
  /** Sends mail instead of SMTP (an SMTP sink test uses the `email:` block instead). */
  mailer?: Mailer;
  /** Reuse the database of another test server (multi-process tests). */
  shareDatabaseWith?: TestServer;
  /** Device activity batching (flush interval, granularity in ms). */
  deviceActivity?: { flushIntervalMs?: number; granularityMs?: number };
}

const unlimited = { per_second: 1000, burst_count: 1000 };
/** Rate limits no test reaches by accident (YAML form). */
export const UNLIMITED_RATES = {
  rc_registration: unlimited,
  rc_login: { address: unlimited, account: unlimited, failed_attempts: unlimited },
  rc_registration_requests: unlimited,
  rc_registration_token_validity: unlimited,
  rc_3pid_validation: unlimited,
};

/** Test defaults: open registration, a throwaway database, cheap hashing, no logs. */
function baseConfig(backend: Backend, dir: string, schema: string): Record<string, unknown> {
  return {
    server_name: 'localhost',
    listeners: [{ port: 0, bind_addresses: ['127.0.0.1'] }],
    database:
      backend === 'sqlite'
        ? { name: 'sqlite3', args: { database: join(dir, 'tessera.db') } }
        : { name: 'psycopg2', args: { url: POSTGRES_URL, schema, cp_max: 5 } },
    enable_registration: true,
    // Tests register and log in many users quickly from one IP: rate limits only where a test
    // asks for them (test/api/rate-limit.test.ts).
    ...UNLIMITED_RATES,
    password_hashing: { memory_kib: 256, iterations: 1, parallelism: 1 },
    log_level: process.env.TESSERA_TEST_LOG ?? 'silent',
    log_format: 'json',
  };
}

/** Start a real Tessera on 127.0.0.1 with a random port and its own database. */
export async function startServer(opts: StartOptions = {}): Promise<TestServer> {
  const shared = opts.shareDatabaseWith;
  const backend = shared?.backend ?? opts.backend ?? 'sqlite';
  const dir = mkdtempSync(join(tmpdir(), 'tessera-test-'));
  const schema = uniqueSchemaName();
  const raw: Record<string, unknown> = { ...baseConfig(backend, dir, schema), ...(opts.config ?? {}) };
  if (shared)
    raw.database = {
      ...(shared.app.config.database.kind === 'sqlite'
        ? { name: 'sqlite3', args: { database: shared.app.config.database.path } }
        : {
            name: 'psycopg2',
            args: {
              url: POSTGRES_URL,
              schema: (shared.app.config.database as { schema: string }).schema,
              cp_max: 5,
            },
          }),
    };
  const { config } = validateConfig(raw, dir);

  const boot = async () => {
    const app = await createApp({
      config,
      ...(opts.clock && { clock: opts.clock }),
      ...(opts.fetch && { fetch: opts.fetch }),
      ...(opts.mailer && { mailer: opts.mailer }),
      ...(opts.deviceActivity && { deviceActivity: opts.deviceActivity }),
    });
    const [url] = await app.listen();
    return { app, url: url! };
  };
  let { app, url } = await boot();

  const server: TestServer = {
    backend,
    url,
    app,
    config,
    async request(method, path, body, ropts = {}) {
      const headers: Record<string, string> = { ...(ropts.headers ?? {}) };
      if (ropts.token !== undefined) headers.authorization = `Bearer ${ropts.token}`;
      let payload: string | Buffer | undefined;
      if (ropts.raw !== undefined) payload = ropts.raw;
      else if (body !== undefined) {
        payload = JSON.stringify(body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(server.url + path, {
        method,
        headers,
        ...(payload !== undefined && { body: payload }),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text.length > 0 ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON: keep the text */
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    async restart() {
      await app.close();
      ({ app, url } = await boot());
      server.app = app;
      server.url = url;
    },
    async close() {
      await app.close();
      if (shared) return;
      rmSync(dir, { recursive: true, force: true });
      if (backend === 'postgres') await dropSchema(schema);
    },
  };
  return server;
}

/**
 * Run a suite once per available backend: `describeEachBackend('v1 register', (backend) => …)`.
 * The suite body gets the backend to pass to startServer.
 */
export async function describeEachBackend(name: string, fn: (backend: Backend) => void): Promise<void> {
  for (const { backend, skip } of await backendRuns()) {
    describeOrSkip(`${name} [${backend}]`, skip, () => fn(backend));
  }
}
