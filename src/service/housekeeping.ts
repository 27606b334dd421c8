import type { Logger } from 'pino';
import type { Storage } from '../storage/storage.js';
import type { Clock } from '../util/clock.js';

/**
 * Periodic clean-up of rows nobody can use any more: expired UIA sessions (already refused on
 * lookup, UiaSessionsRepo.find), rate-limit buckets that have drained to empty, and spent
 * shared-secret nonces past their expiry. It only keeps
 * tables from growing. Safe to run in every process at once: the DELETEs are idempotent.
 */
export function startHousekeeping(deps: {
  storage: Storage;
  clock: Clock;
  log: Logger;
  /**
   * How long the slowest rate-limit bucket takes to drain from full (max of burst/rate over
   * the configured limits): a bucket idle that long is empty, and deleting it changes nothing.
   */
  rateLimitDrainMs: number;
  intervalMs?: number;
}): {
  stop(): void;
} {
  const run = async () => {
    try {
      const now = deps.clock.now();
      const sessions = await deps.storage.uiaSessions.deleteExpired(now);
      const buckets = await deps.storage.rateLimits.deleteIdleSince(now - deps.rateLimitDrainMs);
      const nonces = await deps.storage.usedNonces.deleteExpired(now);
      const validations = await deps.storage.threepids.deleteExpired(now);
      if (sessions + buckets + nonces + validations > 0) {
        deps.log.debug({ sessions, buckets, nonces, validations }, 'housekeeping deleted stale rows');
      }
    } catch (err) {
      deps.log.warn({ err }, 'housekeeping failed; will retry');
    }
  };
  const timer = setInterval(() => void run(), deps.intervalMs ?? 10 * 60_000);
  // Never keep the process alive for housekeeping alone.
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
