import { MatrixError } from '../errors.js';
import { MAX_TOKEN_LENGTH } from '../limits.js';
import type { Storage } from '../storage/storage.js';
import type { Clock } from '../util/clock.js';
import type { Random } from '../util/random.js';
import { sha256Hex } from '../util/secrets.js';

/** Who is making an authenticated request. */
export interface Requester {
  userId: string;
  deviceId: string;
  isGuest: boolean;
  isAdmin: boolean;
  /** SHA-256 of the presented token: names it for logout without keeping the secret. */
  tokenHash: string;
}

export interface IssuedTokens {
  accessToken: string;
  /** Set when the client opted in to refresh tokens. */
  refreshToken: string | null;
  /** Lifetime of the access token in ms; null when it does not expire. */
  expiresInMs: number | null;
}

const ACCESS_PREFIX = 'tsa_';
const REFRESH_PREFIX = 'tsr_';
/** 32 random bytes = 256 bits, above the 128-bit floor. */
const TOKEN_BYTES = 32;

interface CacheEntry {
  requester: Requester;
  /** When this cache entry must be re-checked against the database. */
  freshUntil: number;
  /** The token's own expiry, or Infinity. */
  expiresTs: number;
}

export interface TokenServiceOptions {
  storage: Storage;
  clock: Clock;
  random: Random;
  /**
   * How long a validated token may be served from this process's cache. Invalidation is
   * immediate in the process that revoked the token; other processes see a revocation within
   * this time (README: "within a second").
   */
  cacheTtlMs?: number;
  cacheMaxEntries?: number;
}

/**
 * Access tokens: issuing, validating (the hot path of every authenticated request) and revoking.
 * Tokens are opaque random strings; the database holds only their SHA-256.
 */
export class TokenService {
  private readonly storage: Storage;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly cacheTtlMs: number;
  private readonly cacheMaxEntries: number;

  constructor(opts: TokenServiceOptions) {
    this.storage = opts.storage;
    this.clock = opts.clock;
    this.random = opts.random;
    this.cacheTtlMs = opts.cacheTtlMs ?? 500;
    this.cacheMaxEntries = opts.cacheMaxEntries ?? 10_000;
  }

  newAccessToken(): { token: string; hash: string; id: string } {
    const token = ACCESS_PREFIX + this.random.urlSafe(TOKEN_BYTES);
    return { token, hash: sha256Hex(token), id: this.random.urlSafe(12) };
  }

  newRefreshToken(): { token: string; hash: string; id: string } {
    const token = REFRESH_PREFIX + this.random.urlSafe(TOKEN_BYTES);
    return { token, hash: sha256Hex(token), id: this.random.urlSafe(12) };
  }

  /**
   * Issue an access token for an existing device, inside the caller's transaction if any.
   * `expiresInMs` null: the token does not expire.
   */
  async issueAccessToken(
    storage: Storage,
    userId: string,
    deviceId: string,
    expiresInMs: number | null,
    refreshTokenId: string | null,
  ): Promise<string> {
    const now = this.clock.now();
    const t = this.newAccessToken();
    await storage.accessTokens.create({
      id: t.id,
      tokenHash: t.hash,
      userId,
      deviceId,
      createdTs: now,
      expiresTs: expiresInMs === null ? null : now + expiresInMs,
      refreshTokenId,
    });
    return t.token;
  }

  /** Store a new refresh token for a device; `used` true when it has no predecessor to retire. */
  async issueRefreshToken(
    storage: Storage,
    userId: string,
    deviceId: string,
    expiresTs: number | null,
    used: boolean,
  ): Promise<{ token: string; id: string }> {
    const t = this.newRefreshToken();
    await storage.refreshTokens.create({
      id: t.id,
      tokenHash: t.hash,
      userId,
      deviceId,
      createdTs: this.clock.now(),
      expiresTs,
      used: used ? 1 : 0,
    });
    return { token: t.token, id: t.id };
  }

  /**
   * The first use of refresh token `refreshTokenId` (exchanged, or an access token issued with
   * it presented). The spec keeps the previous refresh token valid "until the new access token
   * or refresh token is used" (refresh.yaml; client-server API "Refreshing access tokens"):
   * from now on the predecessor is dead (a later use of it is theft), and the access tokens
   * issued with it stop working. The spec lets a server keep or drop the old access token; we
   * drop it here, not at refresh time, so requests a client has in flight with it do not fail.
   * Returns the access-token hashes deleted; the caller forgets them after committing.
   */
  async confirmRefreshUse(storage: Storage, refreshTokenId: string): Promise<string[]> {
    if (!(await storage.refreshTokens.markUsed(refreshTokenId))) return [];
    return storage.accessTokens.deleteByPredecessorOf(refreshTokenId);
  }

  /**
   * The requester a token belongs to, or null when the token is unknown or its account
   * deactivated. An expired token (refresh-token sessions) throws 401 M_UNKNOWN_TOKEN with
   * `soft_logout: true` (spec "Soft logout": the client may refresh and keep its data), unless
   * `allowExpired` (logout accepts an expired token, as Synapse does). Served from a small cache
   * keyed by the token's hash.
   */
  async validate(token: string, opts: { allowExpired?: boolean } = {}): Promise<Requester | null> {
    // Longer than any token we issue (src/limits.ts): unknown, without hashing or a lookup.
    if (token.length > MAX_TOKEN_LENGTH) return null;
    const hash = sha256Hex(token);
    const now = this.clock.now();
    const cached = this.cache.get(hash);
    if (cached !== undefined && cached.freshUntil > now && cached.expiresTs > now) return cached.requester;
    const owner = await this.storage.accessTokens.findOwnerByHash(hash);
    if (owner === null || owner.deactivated === 1) {
      this.cache.delete(hash);
      return null;
    }
    const requester: Requester = {
      userId: owner.user_id,
      deviceId: owner.device_id,
      isGuest: owner.is_guest === 1,
      isAdmin: owner.is_admin === 1,
      tokenHash: hash,
    };
    if (owner.locked === 1 && opts.allowExpired !== true) {
      // Synapse's admin API "locked" (spec v1.8 M_USER_LOCKED): every request but logout is
      // refused, as a soft logout, until an admin unlocks the account. Never cached.
      this.cache.delete(hash);
      throw new MatrixError('M_USER_LOCKED', 'User account has been locked', { soft_logout: true });
    }
    if (owner.expires_ts !== null && owner.expires_ts <= now) {
      this.cache.delete(hash);
      if (opts.allowExpired === true) return requester;
      throw new MatrixError('M_UNKNOWN_TOKEN', 'Access token has expired', { soft_logout: true });
    }
    if (owner.refresh_token_id !== null && owner.refresh_used === 0) {
      // First use of a refreshed token: retire the previous link of the chain (only once: the
      // flag is set now, and cached validations skip this branch).
      const refreshTokenId = owner.refresh_token_id;
      this.forget(await this.storage.transaction((tx) => this.confirmRefreshUse(tx, refreshTokenId)));
    }
    if (this.cache.size >= this.cacheMaxEntries) {
      // Drop the oldest entry (Map keeps insertion order): a cache, safe to lose.
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(hash, {
      requester,
      freshUntil: now + this.cacheTtlMs,
      expiresTs: owner.expires_ts ?? Number.POSITIVE_INFINITY,
    });
    return requester;
  }

  /**
   * The requester of `token` if this process validated it recently, without touching the
   * database or the event loop: the hot path of every authenticated request (a sha256 and a
   * Map lookup). Null means "ask `validate`", not "invalid".
   *
   * Tokens are found by the SHA-256 of the presented value, never by comparing secrets: how
   * long a lookup keyed by a hash takes says nothing an attacker can use about stored tokens,
   * so no separate constant-time comparison is needed here.
   */
  peek(token: string): Requester | null {
    if (token.length > MAX_TOKEN_LENGTH) return null;
    const cached = this.cache.get(sha256Hex(token));
    if (cached === undefined) return null;
    const now = this.clock.now();
    return cached.freshUntil > now && cached.expiresTs > now ? cached.requester : null;
  }

  /** Forget cached validations of these token hashes (after the rows were deleted). */
  forget(hashes: Iterable<string>): void {
    for (const h of hashes) this.cache.delete(h);
  }

  /**
   * Forget every cached validation of `userId`'s tokens, so a change of the account (admin
   * flag, lock, deactivation) applies to this process's next request at once; other processes
   * see it within the cache lifetime. A walk over at most `cacheMaxEntries` entries, for rare
   * admin operations only.
   */
  forgetUser(userId: string): void {
    for (const [hash, entry] of this.cache) if (entry.requester.userId === userId) this.cache.delete(hash);
  }

  /** Revoke one access token (logout). */
  async revokeByHash(tokenHash: string): Promise<void> {
    this.forget(await this.storage.accessTokens.deleteByHash(tokenHash));
  }
}
