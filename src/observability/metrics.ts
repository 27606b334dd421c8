import { AggregatorRegistry, Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Telemetry } from '../service/telemetry.js';

/**
 * Prometheus metrics (prom-client), in a registry of their own: HTTP requests by route, method
 * and status with their latency; logins, accounts created, UIA stage outcomes, rate-limit
 * refusals; password hashing in flight and its duration; database query time and pool use; UIA
 * sessions open; and Node's default process metrics. Served on Synapse's `type: metrics`
 * listener (observability/metrics-server.ts) when `enable_metrics` is true.
 *
 * The per-request cost is two map lookups and two additions: the labelled children are created
 * once per route, method and status and kept.
 */

/** Seconds: fine steps around a fast request, coarse ones up to a slow password hash. */
const REQUEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const QUERY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const HASH_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What the metrics read at scrape time; each may be absent. */
export interface MetricsSources {
  uiaSessionsOpen?: () => Promise<number>;
  databasePool?: () => { total: number; idle: number; waiting: number } | null;
}

interface RequestChildren {
  count: { inc(): void };
  duration: { observe(seconds: number): void };
}

export class Metrics implements Telemetry {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly requestDuration: Histogram<'method' | 'route'>;
  private readonly logins: Counter<'outcome'>;
  private readonly accounts: Counter<'kind'>;
  private readonly uiaStages: Counter<'stage' | 'outcome'>;
  private readonly refusals: Counter<'limit'>;
  private readonly hashSeconds: Histogram;
  private readonly hashInFlight: Gauge;
  private readonly querySeconds: Histogram;
  private readonly children = new Map<string, RequestChildren>();
  private sources: MetricsSources = {};

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'tessera_http_requests_total',
      help: 'HTTP requests answered, by route pattern, method and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'tessera_http_request_duration_seconds',
      help: 'Time from receiving a request to its reply, by route pattern and method',
      labelNames: ['method', 'route'],
      buckets: REQUEST_BUCKETS,
      registers,
    });
    this.logins = new Counter({
      name: 'tessera_logins_total',
      help: 'Password logins: success, or failure (wrong password, deactivated or locked account)',
      labelNames: ['outcome'],
      registers,
    });
    this.accounts = new Counter({
      name: 'tessera_registrations_total',
      help: 'Accounts created (every way: v1, v3, guests, shared secret, admin API)',
      labelNames: ['kind'],
      registers,
    });
    this.uiaStages = new Counter({
      name: 'tessera_uia_stages_total',
      help: 'User-interactive authentication stages submitted, by stage type and outcome',
      labelNames: ['stage', 'outcome'],
      registers,
    });
    this.refusals = new Counter({
      name: 'tessera_rate_limited_total',
      help: 'Requests refused by a rate limit (or a full password hashing queue), by limit',
      labelNames: ['limit'],
      registers,
    });
    this.hashSeconds = new Histogram({
      name: 'tessera_password_hash_seconds',
      help: 'Time a password hash or check took, waiting for a hashing thread included',
      buckets: HASH_BUCKETS,
      registers,
    });
    this.hashInFlight = new Gauge({
      name: 'tessera_password_hashing_in_flight',
      help: 'Password hashes and checks running or waiting (password_hashing.max_queue caps it)',
      registers,
    });
    this.querySeconds = new Histogram({
      name: 'tessera_db_query_seconds',
      help: 'Database query time',
      buckets: QUERY_BUCKETS,
      registers,
    });
    const sources = () => this.sources;
    new Gauge({
      name: 'tessera_uia_sessions_open',
      help: 'User-interactive authentication sessions not yet expired (all processes)',
      registers,
      async collect() {
        const count = sources().uiaSessionsOpen;
        if (count !== undefined) this.set(await count());
      },
    });
    new Gauge({
      name: 'tessera_db_pool_connections',
      help: 'PostgreSQL pool of this process: connections by state (total, idle), and clients waiting',
      labelNames: ['state'],
      registers,
      collect() {
        const pool = sources().databasePool?.() ?? null;
        if (pool === null) return;
        this.set({ state: 'total' }, pool.total);
        this.set({ state: 'idle' }, pool.idle);
        this.set({ state: 'waiting' }, pool.waiting);
      },
    });
  }

  /** Where scrape-time values come from; set once the database is open. */
  setSources(sources: MetricsSources): void {
    this.sources = sources;
  }

  /** One answered request; `route` is the route pattern (or a fixed name when none matched). */
  request(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let c = this.children.get(key);
    if (c === undefined) {
      c = {
        count: this.requests.labels(method, route, String(status)),
        duration: this.requestDuration.labels(method, route),
      };
      this.children.set(key, c);
    }
    c.count.inc();
    c.duration.observe(seconds);
  }

  query(durationMs: number): void {
    this.querySeconds.observe(durationMs / 1000);
  }

  login(outcome: 'success' | 'failure'): void {
    this.logins.labels(outcome).inc();
  }

  accountCreated(kind: 'user' | 'guest'): void {
    this.accounts.labels(kind).inc();
  }

  uiaStage(stage: string, outcome: 'passed' | 'failed'): void {
    this.uiaStages.labels(stage, outcome).inc();
  }

  rateLimited(limit: string): void {
    this.refusals.labels(limit).inc();
  }

  passwordHashing(seconds: number, inFlight: number): void {
    this.hashSeconds.observe(seconds);
    this.hashInFlight.set(inFlight);
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * In a `--workers` cluster worker: answer the primary's requests for this registry, so the
 * primary serves the sum of all workers on the metrics listener (prom-client's cluster support).
 */
export function reportToClusterPrimary(metrics: Metrics): void {
  AggregatorRegistry.setRegistries([metrics.registry]);
  // Constructing one is what makes a worker answer the primary (prom-client's addListeners).
  new AggregatorRegistry();
}

/** In a `--workers` primary: the workers' metrics, summed, fetched at each scrape. */
export function clusterMetricsSource(): { text(): Promise<string>; contentType: string } {
  const aggregator = new AggregatorRegistry();
  return { text: () => aggregator.clusterMetrics(), contentType: aggregator.contentType };
}
