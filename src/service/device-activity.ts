import type { Logger } from 'pino';
import { MAX_USER_AGENT_LENGTH } from '../limits.js';
import type { DeviceActivityRow } from '../storage/repos/devices.js';
import type { Storage } from '../storage/storage.js';
import type { Clock } from '../util/clock.js';
import type { Requester } from './tokens.js';

/**
 * How often the activity collected in memory is written (Synapse's client_ips.py flushes its
 * batch every 5 seconds).
 */
export const DEFAULT_ACTIVITY_FLUSH_MS = 5_000;

/**
 * A device seen again within this window from the same address with the same User-Agent is
 * not recorded again (Synapse's LAST_SEEN_GRANULARITY is 120 s). One minute keeps
 * `last_seen_ts` well within what the spec allows ("may be a few minutes out of date, for
 * efficiency reasons", `Device` in the client-server API) and writes each busy device at most
 * once a minute per process. A new address or User-Agent is recorded at once.
 */
export const DEFAULT_ACTIVITY_GRANULARITY_MS = 60_000;

export interface DeviceActivityOptions {
  storage: Storage;
  clock: Clock;
  log: Logger;
  flushIntervalMs?: number;
  granularityMs?: number;
}

/** What this process last recorded for a device (or a token's requester). */
interface Seen {
  ip: string;
  /** As written: truncated, without control characters; null without a User-Agent header. */
  userAgent: string | null;
  /**
   * The header exactly as it arrived when it was written unchanged, for the fast path's
   * comparison; null when it had to be cleaned (that request takes the slower path).
   */
  rawUserAgent: string | undefined | null;
  ts: number;
}

/**
 * Device activity: the address, time and User-Agent of each device's latest authenticated
 * request (the `last_seen_ip` and `last_seen_ts` of the spec's `Device`, and the user agent
 * Synapse's admin whois API shows). As in Synapse (storage/databases/main/client_ips.py), the
 * request path only updates memory; a timer writes the batch, one statement per 500 devices,
 * and shutdown writes the rest. A batch lost in a crash loses only activity.
 *
 * The per-request cost (`seen`) is one WeakMap lookup keyed by the token cache's Requester
 * object and two string comparisons, without allocation, while that token is seen again within
 * the window from the same address and User-Agent. Otherwise (a new address, a requester
 * revalidated by the token cache, once a window) a Map keyed by user and device decides.
 */
export class DeviceActivity {
  private readonly storage: Storage;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly flushIntervalMs: number;
  private readonly granularityMs: number;
  /** Fast path: what was recorded when this exact Requester object was last seen. */
  private readonly byRequester = new WeakMap<Requester, Seen>();
  /** What this process recorded per device within the window; pruned at each flush. */
  private readonly byDevice = new Map<string, Seen>();
  /** Not yet written, keyed by user and device: the latest activity of each. */
  private pending = new Map<string, DeviceActivityRow>();
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(opts: DeviceActivityOptions) {
    this.storage = opts.storage;
    this.clock = opts.clock;
    this.log = opts.log;
    this.flushIntervalMs = opts.flushIntervalMs ?? DEFAULT_ACTIVITY_FLUSH_MS;
    this.granularityMs = opts.granularityMs ?? DEFAULT_ACTIVITY_GRANULARITY_MS;
  }

  /**
   * An authenticated request of `requester`'s device from client address `ip` (the resolved
   * address, trusted proxies honoured) with this User-Agent header, at `now`. O(1).
   */
  seen(requester: Requester, ip: string, userAgent: string | undefined, now: number): void {
    const last = this.byRequester.get(requester);
    if (last !== undefined && now - last.ts < this.granularityMs && last.ip === ip && last.rawUserAgent === userAgent) {
      return;
    }
    this.record(requester, ip, userAgent, now);
  }

  private record(requester: Requester, ip: string, rawUserAgent: string | undefined, now: number): void {
    const userAgent = rawUserAgent === undefined ? null : cleanUserAgent(rawUserAgent);
    // A user id never contains a newline (spec "User Identifiers"), so the key is unambiguous.
    const key = `${requester.userId}\n${requester.deviceId}`;
    const last = this.byDevice.get(key);
    if (last !== undefined && now - last.ts < this.granularityMs && last.ip === ip && last.userAgent === userAgent) {
      this.byRequester.set(requester, last);
      return;
    }
    const kept = userAgent === (rawUserAgent ?? null) ? rawUserAgent : null;
    const seen: Seen = { ip, userAgent, rawUserAgent: kept, ts: now };
    this.byDevice.set(key, seen);
    this.byRequester.set(requester, seen);
    this.pending.set(key, { userId: requester.userId, deviceId: requester.deviceId, ip, userAgent, ts: now });
  }

  /** How many devices wait to be written. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Write what was collected, as one batch in one transaction. One flush at a time: a call
   * while one runs waits for it, then writes what arrived since. A failed write puts its rows
   * back (unless newer activity replaced them) for the next flush.
   */
  async flush(): Promise<void> {
    while (this.flushing !== null) await this.flushing;
    if (this.pending.size === 0) {
      this.prune();
      return;
    }
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = this.write(batch).finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  private async write(batch: Map<string, DeviceActivityRow>): Promise<void> {
    const rows = [...batch.values()];
    try {
      const updated = await this.storage.transaction((tx) => tx.devices.recordActivity(rows));
      this.log.debug({ devices: rows.length, updated }, 'device activity written');
    } catch (err) {
      this.log.warn({ err, devices: rows.length }, 'writing device activity failed; will retry');
      for (const [key, row] of batch) if (!this.pending.has(key)) this.pending.set(key, row);
    }
    this.prune();
  }

  /** Forget devices not seen within the window: memory stays bounded by the active devices. */
  private prune(): void {
    const cutoff = this.clock.now() - this.granularityMs;
    for (const [key, seen] of this.byDevice) if (seen.ts <= cutoff) this.byDevice.delete(key);
  }

  /** Flush every `flushIntervalMs`; the timer never keeps the process alive. */
  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => void this.flush(), this.flushIntervalMs);
    this.timer.unref();
  }

  /** Stop the timer and write what is left (graceful shutdown, before the database closes). */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}

/** At most MAX_USER_AGENT_LENGTH units, without control characters (PostgreSQL cannot store NUL). */
function cleanUserAgent(value: string): string {
  const cut = value.length > MAX_USER_AGENT_LENGTH ? value.slice(0, MAX_USER_AGENT_LENGTH) : value;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  return /[\u0000-\u001f\u007f]/.test(cut) ? cut.replace(/[\u0000-\u001f\u007f]/g, '') : cut;
}
