import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { MatrixError } from '../errors.js';
import { MAX_TOKEN_LENGTH } from '../limits.js';
import type { Storage } from '../storage/storage.js';
import type { Clock } from '../util/clock.js';
import type { Random } from '../util/random.js';
import { sha256Hex } from '../util/secrets.js';
import { deleteAllDevicesIn, deleteDevicesIn } from './devices.js';
import type { TokenService } from './tokens.js';

export interface NewSession {
  userId: string;
  /** The client's device id to reuse, or null to create a new device. */
  deviceId: string | null;
  initialDisplayName: string | null;
  /** The client opted in to refresh tokens (`refresh_token: true`, spec v1.3). */
  refreshToken: boolean;
}

export interface StartedSession {
  deviceId: string;
  accessToken: string;
  /** Set when `refreshToken` was asked for. */
  refreshToken: string | null;
  /** The access token's lifetime in ms, when it expires (refresh-token sessions). */
  expiresInMs: number | null;
}

/** The answer of POST /refresh. */
export interface RefreshedTokens {
  accessToken: string;
  refreshToken: string;
  expiresInMs: number | null;
}

export interface SessionServiceDeps {
  storage: Storage;
  config: Pick<Config, 'refreshableAccessTokenLifetimeMs' | 'refreshTokenLifetimeMs'>;
  clock: Clock;
  random: Random;
  tokens: TokenService;
  log?: Logger;
}

/** Rolls back a refresh whose successor token was used while we were replacing it. */
class SuccessorUsed extends Error {}
/** Rolls back a refresh that lost the race for the same token to a concurrent one. */
class LostRace extends Error {}

function unknownRefreshToken(message: string): MatrixError {
  // spec refresh.yaml: 401 "The provided token was unknown, or has already been used."
  // soft_logout false: the session is over, the client must log in again.
  return new MatrixError('M_UNKNOWN_TOKEN', message, { soft_logout: false });
}

/**
 * A logged-in device: registration and login both end here, logout ends it, refresh extends
 * it. Reusing a device id replaces that device's tokens (spec: POST /login `device_id`, "the
 * server may invalidate any access token previously associated with that device"), keeping the
 * device and its name.
 */
export class SessionService {
  constructor(private readonly deps: SessionServiceDeps) {}

  /** Run inside the caller's transaction so an account never exists half-made. */
  async start(storage: Storage, s: NewSession): Promise<StartedSession> {
    const now = this.deps.clock.now();
    const deviceId = s.deviceId ?? this.deps.random.upperLetters(10);
    await storage.devices.upsert(s.userId, deviceId, s.initialDisplayName, now);
    if (s.deviceId !== null) this.deps.tokens.forget(await revokeDeviceTokensIn(storage, s.userId, deviceId));
    // A fresh chain has no predecessor to retire, so its first refresh token starts as used.
    const { accessToken, refreshToken, expiresInMs } = await this.issue(
      storage,
      s.userId,
      deviceId,
      s.refreshToken,
      true,
    );
    return { deviceId, accessToken, refreshToken, expiresInMs };
  }

  /**
   * POST /logout: the calling token stops working and its device is deleted (spec logout.yaml:
   * "Invalidates an existing access token, so that it can no longer be used for authorization.
   * The device associated with the access token is also deleted."), with its refresh tokens.
   */
  async logout(userId: string, deviceId: string): Promise<void> {
    const hashes = await this.deps.storage.transaction((tx) => deleteDevicesIn(tx, userId, [deviceId]));
    // After commit: a validation racing the delete cannot re-cache a row that is still visible.
    this.deps.tokens.forget(hashes);
  }

  /** POST /logout/all: every token and every device of the user (spec logout.yaml). */
  async logoutAll(userId: string): Promise<void> {
    const hashes = await this.deps.storage.transaction(async (tx) => {
      // Every login ends here, including the registration's retry window (RegistrationService).
      await tx.uiaSessions.deleteRegistrationsOf(userId);
      return deleteAllDevicesIn(tx, userId);
    });
    this.deps.tokens.forget(hashes);
  }

  /**
   * POST /refresh (spec v1.3, refresh.yaml; "Refreshing access tokens"). Rotation: a new access
   * token and a new refresh token for the same device. The rules:
   * - The presented token R stays usable until its successor (or the successor's access token)
   *   is first used, so a client whose response was lost may repeat the call: the unused
   *   successor is then replaced.
   * - Presenting R after its successor was used is theft (two holders of one chain): every
   *   token of the device is revoked, and the answer is 401 M_UNKNOWN_TOKEN.
   * - Concurrent refreshes of one token (each read the token before any of them committed): the
   *   compare-and-swap on `next_token_id` picks one winner in the database (several processes
   *   may share it); the others get 401 and nothing of theirs survives. A refresh that reads the
   *   token after another one committed is the lost-response retry above, and succeeds. Which
   *   of the two a request of a burst meets depends on timing; either way exactly one pair of
   *   all those handed out stays alive.
   */
  async refresh(refreshToken: string): Promise<RefreshedTokens> {
    const { storage, clock, tokens } = this.deps;
    const now = clock.now();
    // Not one of ours (src/limits.ts): unknown, without hashing whatever the client sent.
    if (refreshToken.length > MAX_TOKEN_LENGTH) throw unknownRefreshToken('Unknown refresh token');
    const current = await storage.refreshTokens.findByHash(sha256Hex(refreshToken));
    if (current === null || current.deactivated === 1) throw unknownRefreshToken('Unknown refresh token');
    if (current.expires_ts !== null && current.expires_ts <= now) {
      throw unknownRefreshToken('Refresh token has expired');
    }
    const previousNext = current.next_token_id;
    if (previousNext !== null && (await storage.refreshTokens.isUsed(previousNext)) === true) {
      return this.revokeStolenChain(current.user_id, current.device_id);
    }
    let forgotten: string[] = [];
    let result: RefreshedTokens;
    try {
      result = await storage.transaction(async (tx) => {
        const issued = await this.issue(tx, current.user_id, current.device_id, true, false);
        if (!(await tx.refreshTokens.swapNext(current.id, previousNext, issued.refreshTokenId))) throw new LostRace();
        if (previousNext === null) {
          // Exchanging R is R's use: its own predecessor is now dead.
          forgotten = await tokens.confirmRefreshUse(tx, current.id);
        } else {
          // A repeated refresh: drop the successor whose response the client never got.
          if (!(await tx.refreshTokens.deleteUnused(previousNext))) throw new SuccessorUsed();
          forgotten = await tx.accessTokens.deleteByRefreshToken(previousNext);
        }
        return { accessToken: issued.accessToken, refreshToken: issued.refreshToken!, expiresInMs: issued.expiresInMs };
      });
    } catch (err) {
      if (err instanceof SuccessorUsed) return this.revokeStolenChain(current.user_id, current.device_id);
      if (err instanceof LostRace) throw unknownRefreshToken('Refresh token was already used');
      throw err;
    }
    tokens.forget(forgotten);
    return result;
  }

  /** Revoke every token of a device whose refresh chain was used twice, then answer 401. */
  private async revokeStolenChain(userId: string, deviceId: string): Promise<never> {
    const hashes = await this.deps.storage.transaction((tx) => revokeDeviceTokensIn(tx, userId, deviceId));
    this.deps.tokens.forget(hashes);
    this.deps.log?.warn({ userId, deviceId }, 'refresh token reused after rotation: device session revoked');
    throw unknownRefreshToken('Refresh token was already used');
  }

  /**
   * Issue an access token, and with `withRefresh` a refresh token it is tied to. The access
   * token then expires after `refreshable_access_token_lifetime`, never after the refresh token
   * itself (Synapse caps it the same way).
   */
  private async issue(
    storage: Storage,
    userId: string,
    deviceId: string,
    withRefresh: boolean,
    firstInChain: boolean,
  ): Promise<StartedSession & { refreshTokenId: string }> {
    const { config, clock, tokens } = this.deps;
    if (!withRefresh) {
      const accessToken = await tokens.issueAccessToken(storage, userId, deviceId, null, null);
      return { deviceId, accessToken, refreshToken: null, expiresInMs: null, refreshTokenId: '' };
    }
    const now = clock.now();
    const refreshLifetime = config.refreshTokenLifetimeMs;
    const refreshExpiresTs = refreshLifetime === null ? null : now + refreshLifetime;
    const refresh = await tokens.issueRefreshToken(storage, userId, deviceId, refreshExpiresTs, firstInChain);
    let expiresInMs = config.refreshableAccessTokenLifetimeMs;
    if (refreshLifetime !== null) expiresInMs = Math.min(expiresInMs ?? refreshLifetime, refreshLifetime);
    const accessToken = await tokens.issueAccessToken(storage, userId, deviceId, expiresInMs, refresh.id);
    return { deviceId, accessToken, refreshToken: refresh.token, expiresInMs, refreshTokenId: refresh.id };
  }
}

/** Delete a device's access and refresh tokens, keeping the device; returns the access-token hashes. */
async function revokeDeviceTokensIn(tx: Storage, userId: string, deviceId: string): Promise<string[]> {
  const hashes = await tx.accessTokens.deleteByDevice(userId, deviceId);
  await tx.refreshTokens.deleteByDevice(userId, deviceId);
  return hashes;
}
