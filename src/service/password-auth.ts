import type { Config } from '../config/config.js';
import { MatrixError } from '../errors.js';
import type { UserRow } from '../storage/repos/users.js';
import type { Storage } from '../storage/storage.js';
import { localpartOf, userId as makeUserId } from '../util/matrix-id.js';
import type { Hasher } from './passwords.js';

export { userFromAuthDict } from '../uia/auth-dict.js';

/**
 * Password checks for login and for re-authentication. One place verifies passwords, so every
 * path answers unknown users and wrong passwords alike: the same 403 M_FORBIDDEN, after the
 * same hashing work (a dummy verification for unknown users).
 */
export class PasswordAuth {
  constructor(private readonly deps: { storage: Storage; config: Config; hasher: Hasher }) {}

  /**
   * Whether `user` (a localpart or full id, any case, as in an identifier) names the account
   * `userId`. Pure string work: no lookup and no hashing, so re-authentication can refuse
   * another account's identifier before it costs anything or reveals anything.
   */
  names(user: string, userId: string): boolean {
    const localpart = localpartOf(user, this.deps.config.serverName);
    return (
      localpart !== null && makeUserId(localpart, this.deps.config.serverName).toLowerCase() === userId.toLowerCase()
    );
  }

  /**
   * The account `user` (localpart or full id, any case) if `password` is its password; else
   * 403 M_FORBIDDEN. A deactivated account answers 403 M_USER_DEACTIVATED (its password was
   * dropped at deactivation, so no password can match). Upgrades the stored hash when it was
   * made with other parameters.
   */
  async verify(user: string, password: string): Promise<UserRow> {
    const { storage, config, hasher } = this.deps;
    const localpart = localpartOf(user, config.serverName);
    const row = localpart === null ? null : await storage.users.findByLocalpart(localpart);
    if (row !== null && row.deactivated === 1) {
      await hasher.verifyDummy(password);
      throw new MatrixError('M_USER_DEACTIVATED', 'This account has been deactivated');
    }
    if (row === null || row.password_hash === null) {
      await hasher.verifyDummy(password);
      throw new MatrixError('M_FORBIDDEN', 'Invalid username or password');
    }
    if (!(await hasher.verify(row.password_hash, password))) {
      throw new MatrixError('M_FORBIDDEN', 'Invalid username or password');
    }
    if (hasher.needsRehash(row.password_hash)) {
      // Best effort: a full hashing queue (429) must not fail a login whose password was right.
      const rehashed = await hasher.hash(password).catch(() => null);
      if (rehashed !== null) await storage.users.updatePasswordHash(row.user_id, rehashed);
    }
    return row;
  }
}
