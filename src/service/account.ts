import type { Config } from '../config/config.js';
import { MatrixError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import { deleteAllDevicesIn, deleteDevicesIn } from './devices.js';
import { checkPasswordPolicy } from './password-policy.js';
import type { ReauthService } from './reauth.js';
import type { Requester, TokenService } from './tokens.js';
import type { UserService } from './users.js';

export interface ChangePasswordRequest {
  requester: Requester;
  /** The whole request body (UIA needs `auth`; later requests may leave the rest out). */
  body: Record<string, unknown>;
  /** The new password of this request, if it carries one (validated at the edge as a string). */
  newPassword: string | null;
  remoteIp: string;
}

/**
 * Where sessions made by earlier versions kept the new password between UIA requests: its
 * argon2id hash, never the password. A key the client's body cannot set, because it is read
 * from the stored session, not from the request. New sessions no longer store it: the new
 * password is hashed only once re-authentication passed.
 */
const STORED_HASH_KEY = 'new_password_hash';

/** Account management for the token owner: password change and deactivation (spec: "Account management"). */
export class AccountService {
  constructor(
    private readonly deps: {
      storage: Storage;
      config: Pick<Config, 'passwordPolicy'>;
      users: UserService;
      tokens: TokenService;
      reauth: ReauthService;
    },
  ) {}

  /**
   * POST /account/password. The policy is checked before UIA (as Synapse does), so a weak
   * password is a plain 400 M_WEAK_PASSWORD before any challenge; the new password is hashed
   * only after re-authentication passed, so a request that only gets a challenge costs no
   * hashing. Synapse hashes it for the challenge and keeps the hash in the session, so that a
   * later request may leave `new_password` out; we deliberately differ: the request that
   * completes the authentication must carry `new_password` (matrix-js-sdk's `setPassword`
   * always sends it). `logout_devices` (default true) deletes every other device with its
   * tokens; the calling device keeps working (spec: password_management.yaml).
   */
  async changePassword(req: ChangePasswordRequest): Promise<void> {
    const { storage, users, tokens, config } = this.deps;
    if (req.newPassword !== null) checkPasswordPolicy(req.newPassword, config.passwordPolicy);
    const success = await this.deps.reauth.authenticate({
      requester: req.requester,
      operation: 'POST /account/password',
      body: req.body,
      remoteIp: req.remoteIp,
      persistBody: (body) => ({
        ...(typeof body.logout_devices === 'boolean' && { logout_devices: body.logout_devices }),
      }),
    });
    // The stored session, not the merged body: the client must not be able to supply a hash.
    const stored = JSON.parse(success.session.request_body) as Record<string, unknown>;
    const storedHash = typeof stored[STORED_HASH_KEY] === 'string' ? stored[STORED_HASH_KEY] : null;
    if (req.newPassword === null && storedHash === null) {
      throw new MatrixError('M_MISSING_PARAM', 'Missing JSON keys: new_password');
    }
    const hash = req.newPassword === null ? storedHash! : await users.hashNewPassword(req.newPassword);
    const logoutDevices = typeof success.body.logout_devices === 'boolean' ? success.body.logout_devices : true;

    const { userId, deviceId } = req.requester;
    const forgotten = await storage.transaction(async (tx) => {
      await this.deps.reauth.consume(tx, success);
      return setPasswordIn(tx, userId, hash, logoutDevices ? { keepDevice: deviceId } : null);
    });
    tokens.forget(forgotten);
  }

  /**
   * POST /account/deactivate. Every device and token goes, the password is dropped, and the
   * row stays marked deactivated: it never logs in again (M_USER_DEACTIVATED) and its id is
   * never registered again (M_USER_IN_USE). `erase` is accepted; Tessera keeps no content to
   * erase. Bound email addresses are unbound; no identity server ever knew them, so the unbind
   * result is `success` (the spec requires it when there is nothing to unbind).
   */
  async deactivate(requester: Requester, body: Record<string, unknown>, remoteIp: string): Promise<'success'> {
    const { storage, tokens } = this.deps;
    const success = await this.deps.reauth.authenticate({
      requester,
      operation: 'POST /account/deactivate',
      body,
      remoteIp,
    });
    const forgotten = await storage.transaction(async (tx) => {
      await this.deps.reauth.consume(tx, success);
      return deactivateIn(tx, requester.userId);
    });
    tokens.forget(forgotten);
    return 'success';
  }
}

/**
 * Set an account's password hash inside the caller's transaction (the user's own change, and
 * Synapse's admin API). The registration's retry window closes (RegistrationService.loginAgain).
 * `logout` null keeps every device; otherwise every device but `keepDevice` (null: all) goes
 * with its tokens. Returns the access-token hashes deleted, to forget after commit.
 */
export async function setPasswordIn(
  tx: Storage,
  userId: string,
  hash: string,
  logout: { keepDevice: string | null } | null,
): Promise<string[]> {
  // Guarded in the statement: a deactivation that committed meanwhile wins.
  if (!(await tx.users.updatePasswordHash(userId, hash))) {
    throw new MatrixError('M_UNKNOWN', 'The account is deactivated');
  }
  await tx.uiaSessions.deleteRegistrationsOf(userId);
  if (logout === null) return [];
  return deleteDevicesIn(tx, userId, await tx.devices.listIdsByUser(userId, logout.keepDevice));
}

/**
 * Deactivate an account inside the caller's transaction (the user's own request, and Synapse's
 * admin API): every device and token goes, the password is dropped, the id is never reused.
 * Returns the access-token hashes deleted, to forget after commit.
 */
export async function deactivateIn(tx: Storage, userId: string): Promise<string[]> {
  await tx.uiaSessions.deleteRegistrationsOf(userId);
  // As Synapse: a deactivated account's addresses are unbound (free for a new account).
  await tx.threepids.unbindAll(userId);
  // Deactivate first: a login racing this transaction then fails its password check, and a
  // token it slipped in anyway is refused by validation (the owner is deactivated).
  await tx.users.deactivate(userId);
  return deleteAllDevicesIn(tx, userId);
}
