import type { Config, RateLimitConfig } from '../config/config.js';
import { MatrixError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import type { Clock } from '../util/clock.js';
import type { Telemetry } from './telemetry.js';

/**
 * The rate limits Synapse applies to account actions, each a
 * leaky bucket per key kept in the database, so every process of the server shares them:
 * - `registration` (`rc_registration`), per client IP: accounts created;
 * - `login.address` (`rc_login.address`), per client IP: login requests;
 * - `login.account` (`rc_login.account`), per user id: successful logins;
 * - `login.failed` (`rc_login.failed_attempts`), per user id as given: wrong passwords (login
 *   and re-authentication alike);
 * - `registration.requests` (Tessera's `rc_registration_requests`), per client IP: every
 *   request to the registration API, counted before it stores or checks anything;
 * - `registration_token.validity` (`rc_registration_token_validity`), per client IP: checks of
 *   a registration token's validity (the spec asks to rate-limit them against guessing);
 * - `3pid_validation.ip` and `3pid_validation.address` (`rc_3pid_validation`, both, as Synapse
 *   applies it): requests for a validation mail, per client IP and per email address.
 */
export type RateLimitKind =
  | 'registration'
  | 'login.address'
  | 'login.account'
  | 'login.failed'
  | 'registration.requests'
  | 'registration_token.validity'
  | '3pid_validation.ip'
  | '3pid_validation.address';

export class RateLimiter {
  private readonly limits: Record<RateLimitKind, RateLimitConfig>;

  constructor(
    private readonly deps: {
      storage: Storage;
      clock: Clock;
      config: Pick<
        Config,
        'rcRegistration' | 'rcLogin' | 'rcRegistrationRequests' | 'rcRegistrationTokenValidity' | 'rc3pidValidation'
      >;
      telemetry?: Pick<Telemetry, 'rateLimited'>;
    },
  ) {
    const { rcRegistration, rcLogin, rcRegistrationRequests, rcRegistrationTokenValidity } = deps.config;
    this.limits = {
      registration: rcRegistration,
      'login.address': rcLogin.address,
      'login.account': rcLogin.account,
      'login.failed': rcLogin.failedAttempts,
      'registration.requests': rcRegistrationRequests,
      'registration_token.validity': rcRegistrationTokenValidity,
      '3pid_validation.ip': deps.config.rc3pidValidation,
      '3pid_validation.address': deps.config.rc3pidValidation,
    };
  }

  /** How long the slowest bucket takes to drain from full: older idle buckets are empty. */
  longestDrainMs(): number {
    return Math.ceil(Math.max(...Object.values(this.limits).map((l) => (l.burstCount / l.perSecond) * 1000)));
  }

  /** Count one action against `key`, or throw 429 M_LIMIT_EXCEEDED (and count nothing). */
  async assert(kind: RateLimitKind, key: string): Promise<void> {
    const { perSecond, burstCount } = this.limits[kind];
    const r = await this.deps.storage.rateLimits.consume(
      `${kind}:${key}`,
      perSecond,
      burstCount,
      this.deps.clock.now(),
    );
    if (!r.allowed) throw this.refused(kind, r.retryAfterMs);
  }

  /** Throw 429 if one more action would be refused now, without counting one (Synapse's `update=False`). */
  async check(kind: RateLimitKind, key: string): Promise<void> {
    const { perSecond, burstCount } = this.limits[kind];
    const r = await this.deps.storage.rateLimits.peek(`${kind}:${key}`, perSecond, burstCount, this.deps.clock.now());
    if (!r.allowed) throw this.refused(kind, r.retryAfterMs);
  }

  private refused(kind: RateLimitKind, retryAfterMs: number): MatrixError {
    this.deps.telemetry?.rateLimited(kind);
    return limitExceeded(retryAfterMs);
  }

  /**
   * Empty buckets by hand (`tessera ratelimit clear`): those of one client address or user id
   * (every kind that is keyed by it), or all of them when `key` is null. Returns how many.
   */
  async clear(key: string | null): Promise<number> {
    const keys = key === null ? null : (Object.keys(this.limits) as RateLimitKind[]).map((kind) => `${kind}:${key}`);
    return this.deps.storage.rateLimits.clear(keys);
  }

  /** Return an action taken with `assert` that turned out not to count. */
  async refund(kind: RateLimitKind, key: string): Promise<void> {
    await this.deps.storage.rateLimits.refund(`${kind}:${key}`, this.limits[kind].perSecond, this.deps.clock.now());
  }
}

/** Spec "Rate limiting": 429 with `retry_after_ms`; the server adds `Retry-After` (E7). */
function limitExceeded(retryAfterMs: number): MatrixError {
  return new MatrixError('M_LIMIT_EXCEEDED', 'Too Many Requests', { retry_after_ms: retryAfterMs });
}
