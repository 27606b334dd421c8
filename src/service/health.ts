/**
 * Whether this process can serve: its database answers within a bound. For `GET /health`, which
 * load balancers and `--workers` set-ups poll (Synapse serves the same path). The path needs no
 * token and has no rate limit, so the answer is shared: at most one database ping per
 * `cacheMs`, however many requests ask (concurrent ones wait for the same ping).
 */
export class HealthService {
  private last: { at: number; healthy: boolean } | null = null;
  private pending: Promise<boolean> | null = null;

  constructor(
    private readonly deps: {
      ping(): Promise<void>;
      /** A database slower than this counts as down: a health check must not hang. */
      timeoutMs: number;
      /** How long an answer is reused (default 1 s). */
      cacheMs?: number;
      now?: () => number;
    },
  ) {}

  async healthy(): Promise<boolean> {
    const now = (this.deps.now ?? Date.now)();
    if (this.last !== null && now - this.last.at < (this.deps.cacheMs ?? 1000)) return this.last.healthy;
    this.pending ??= this.check().then((healthy) => {
      this.last = { at: (this.deps.now ?? Date.now)(), healthy };
      this.pending = null;
      return healthy;
    });
    return this.pending;
  }

  private async check(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), this.deps.timeoutMs);
    });
    try {
      return await Promise.race([this.deps.ping().then(() => true), timeout]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}
