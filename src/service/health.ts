/**
 * Whether this process can serve: its database answers within a bound. For `GET /health`, which
 * load balancers and `--workers` set-ups poll (Synapse serves the same path).
 */
export class HealthService {
  constructor(
    private readonly deps: {
      ping(): Promise<void>;
      /** A database slower than this counts as down: a health check must not hang. */
      timeoutMs: number;
    },
  ) {}

  async healthy(): Promise<boolean> {
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
