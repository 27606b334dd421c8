import type { Config } from '../config/config.js';
import { MatrixError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import type { Clock } from '../util/clock.js';
import type { Random } from '../util/random.js';
import { deactivateIn, setPasswordIn } from './account.js';
import { existingLocalUser, localUserId, parseUserId } from './admin-target.js';
import { checkAdminPassword } from './admin-users.js';
import type { Hasher } from './passwords.js';
import type { Requester, TokenService } from './tokens.js';

/** One connection of Synapse's whois answer (spec: GET /admin/whois, `ConnectionInfo`). */
export interface Connection {
  ip: string | null;
  lastSeen: number | null;
  userAgent: string | null;
}

/**
 * What server admins do to other people's sessions (Synapse's docs/admin_api/user_admin_api.md):
 * reset a password, deactivate, see where an account is connected, and log in as it.
 */
export class AdminAccountService {
  constructor(
    private readonly deps: {
      storage: Storage;
      config: Pick<Config, 'serverName'>;
      clock: Clock;
      random: Random;
      hasher: Hasher;
      tokens: TokenService;
    },
  ) {}

  /**
   * POST /v1/reset_password/<user_id>. `logoutDevices` (default true) deletes every device
   * and token of the account, except the calling device when admins reset their own.
   */
  async resetPassword(
    requester: Requester,
    userId: string,
    newPassword: string,
    logoutDevices: boolean,
  ): Promise<void> {
    const { storage, config, hasher, tokens } = this.deps;
    parseUserId(userId);
    checkAdminPassword(newPassword, 'Invalid password');
    const row = await existingLocalUser(storage, config.serverName, userId, {
      notLocal: 'Can only reset the password of local users',
    });
    if (row.deactivated === 1) {
      throw new MatrixError(
        'M_UNKNOWN',
        'The account is deactivated; re-activate it with PUT /_synapse/admin/v2/users',
      );
    }
    const hash = await hasher.hash(newPassword);
    const keepDevice = userId === requester.userId ? requester.deviceId : null;
    const forgotten = await storage.transaction((tx) =>
      setPasswordIn(tx, userId, hash, logoutDevices ? { keepDevice } : null),
    );
    tokens.forget(forgotten);
  }

  /**
   * POST /v1/deactivate/<user_id>: the same deactivation as the user's own (every device and
   * token gone, password dropped, id never reused). `erase` also clears the display name and
   * avatar and marks the account erased. Deactivating again succeeds, as in Synapse.
   */
  async deactivate(userId: string, erase: boolean): Promise<'success'> {
    const { storage, config, tokens } = this.deps;
    await existingLocalUser(storage, config.serverName, userId, { notLocal: 'Can only deactivate local users' });
    const forgotten = await storage.transaction(async (tx) => {
      const hashes = await deactivateIn(tx, userId);
      if (erase) await tx.users.markErased(userId);
      return hashes;
    });
    tokens.forget(forgotten);
    tokens.forgetUser(userId);
    return 'success';
  }

  /**
   * GET /v1/whois/<user_id> (and the spec's /admin/whois): where each device was last seen.
   * Users may ask about themselves; anyone else needs a server admin (Synapse). Keyed by
   * device id as the spec describes; Synapse puts every connection under the device "".
   */
  async whois(requester: Requester, userId: string): Promise<Map<string, Connection[]>> {
    const { storage, config } = this.deps;
    parseUserId(userId);
    if (userId !== requester.userId && !requester.isAdmin) {
      throw new MatrixError('M_FORBIDDEN', 'You are not a server admin');
    }
    await existingLocalUser(storage, config.serverName, userId, { notLocal: 'Can only whois a local user' });
    const devices = new Map<string, Connection[]>();
    for (const row of await storage.devices.listByUser(userId)) {
      const seen = row.last_seen_ts !== null || row.last_seen_ip !== null;
      devices.set(
        row.device_id,
        seen
          ? [
              {
                ip: row.last_seen_ip,
                lastSeen: row.last_seen_ts === null ? null : Number(row.last_seen_ts),
                userAgent: row.last_seen_user_agent,
              },
            ]
          : [],
      );
    }
    return devices;
  }

  /**
   * POST /v1/users/<user_id>/login: an access token for the account, for an admin to act as it.
   * Synapse issues a "puppet" token that belongs to the admin, with no device. Tessera's tokens
   * always belong to a device of their owner, so the token gets a new device of the account,
   * named after the admin: the user sees it in their device list and can end it, and logging
   * out or deleting it revokes the token. `validUntilMs` (ms since the epoch) makes it expire.
   */
  async loginAs(requester: Requester, userId: string, validUntilMs: number | null): Promise<string> {
    const { storage, config, clock, random, tokens } = this.deps;
    localUserId(userId, config.serverName, 'Only local users can be logged in as');
    if (userId === requester.userId) throw new MatrixError('M_UNKNOWN', 'Cannot use admin API to login as self');
    const row = await existingLocalUser(storage, config.serverName, userId, { notLocal: '' });
    if (row.deactivated === 1) throw new MatrixError('M_UNKNOWN', 'Cannot log in as a deactivated user');
    const now = clock.now();
    return storage.transaction(async (tx) => {
      const deviceId = random.upperLetters(10);
      await tx.devices.upsert(userId, deviceId, `Admin login by ${requester.userId}`, now);
      return tokens.issueAccessToken(tx, userId, deviceId, validUntilMs === null ? null : validUntilMs - now, null);
    });
  }
}
