import type { Storage } from '../storage/storage.js';
import type { Clock } from '../util/clock.js';
import type { Random } from '../util/random.js';
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

/**
 * A logged-in device: registration and login both end here. Reusing a device id replaces
 * that device's tokens (spec: POST /login `device_id`), keeping the device and its name.
 */
export class SessionService {
  constructor(private readonly deps: { clock: Clock; random: Random; tokens: TokenService }) {}

  /** Run inside the caller's transaction so an account never exists half-made. */
  async start(storage: Storage, s: NewSession): Promise<StartedSession> {
    const now = this.deps.clock.now();
    const deviceId = s.deviceId ?? this.deps.random.upperLetters(10);
    await storage.devices.upsert(s.userId, deviceId, s.initialDisplayName, now);
    if (s.deviceId !== null) {
      this.deps.tokens.forget(await storage.accessTokens.deleteByDevice(s.userId, deviceId));
    }
    // TODO(issue 3, refresh tokens): issue a refresh token and an expiring access token when asked.
    const accessToken = await this.deps.tokens.issueAccessToken(storage, s.userId, deviceId, null, null);
    return { deviceId, accessToken, refreshToken: null, expiresInMs: null };
  }
}
