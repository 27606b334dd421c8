import type { Logger } from 'pino';
import type { Storage } from '../storage/storage.js';
import type { Clock } from '../util/clock.js';

/**
 * Periodic clean-up of rows nobody can use any more. Expired UIA sessions are already
 * refused on lookup (UiaSessionsRepo.find); this only keeps the table from growing. Safe to
 * run in every process at once: a DELETE of expired rows is idempotent.
 */
export function startHousekeeping(deps: { storage: Storage; clock: Clock; log: Logger; intervalMs?: number }): {
  stop(): void;
} {
  const run = async () => {
    try {
      const removed = await deps.storage.uiaSessions.deleteExpired(deps.clock.now());
      if (removed > 0) deps.log.debug({ removed }, 'deleted expired UIA sessions');
    } catch (err) {
      deps.log.warn({ err }, 'housekeeping failed; will retry');
    }
  };
  const timer = setInterval(() => void run(), deps.intervalMs ?? 10 * 60_000);
  // Never keep the process alive for housekeeping alone.
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
