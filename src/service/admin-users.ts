import type { Config } from '../config/config.js';
import { MatrixError } from '../errors.js';
import { codePointLength, MAX_AVATAR_URL_LENGTH, MAX_DISPLAYNAME_LENGTH, MAX_PASSWORD_LENGTH } from '../limits.js';
import type { UserThreepidRow } from '../storage/repos/threepids.js';
import type { UserListQuery, UserListRow, UserPatch, UserRow } from '../storage/repos/users.js';
import type { Storage } from '../storage/storage.js';
import { LOCALPART_PROBLEM_TEXT, localpartProblem } from '../util/matrix-id.js';
import { deactivateIn, setPasswordIn } from './account.js';
import { existingLocalUser, localUserId, parseUserId } from './admin-target.js';
import type { Hasher } from './passwords.js';
import type { Requester, TokenService } from './tokens.js';
import type { UserService } from './users.js';

/** Synapse's UserTypes.ALL_USER_TYPES. */
export const USER_TYPES: ReadonlySet<string> = new Set(['support', 'bot']);

/**
 * The body of `PUT /_synapse/admin/v2/users/<user_id>`, its JSON types checked at the edge.
 * `undefined`: the key was absent (nothing changes); for `displayname` and `avatar_url`, ""
 * removes the value, as in Synapse.
 */
export interface PutUserInput {
  password?: string;
  logoutDevices: boolean;
  admin?: boolean;
  deactivated?: boolean;
  locked?: boolean;
  /** MSC3866: false makes the account wait for approval again (it cannot log in). */
  approved?: boolean;
  displayname?: string;
  avatarUrl?: string;
  userType?: string | null;
}

/** An account as the admin API shows it, with when any of its devices was last seen. */
/** An account with what the admin API shows beside it: when it was last seen, its addresses. */
export type AdminUserView = UserRow & { last_seen_ts: number | null; threepids: UserThreepidRow[] };

/**
 * Accounts managed by server admins (Synapse's docs/admin_api/user_admin_api.md): query, list,
 * create or modify, the admin flag, username availability, shadow-bans. Callers are admins
 * already (the route's auth mode); the rules about whom an admin may change are here.
 */
export class AdminUserService {
  constructor(
    private readonly deps: {
      storage: Storage;
      config: Pick<Config, 'serverName'>;
      hasher: Hasher;
      users: UserService;
      tokens: TokenService;
    },
  ) {}

  /** GET /v2/users/<user_id>. */
  async get(userId: string): Promise<AdminUserView> {
    const { storage, config } = this.deps;
    const row = await existingLocalUser(storage, config.serverName, userId, {
      notLocal: 'Can only look up local users',
    });
    const [lastSeen, threepids] = await Promise.all([
      storage.devices.lastSeenTs(userId),
      storage.threepids.listOf(userId),
    ]);
    return { ...row, last_seen_ts: lastSeen, threepids };
  }

  /** GET /v2/users: one page, counted and cut in SQL. */
  list(query: UserListQuery): Promise<{ rows: UserListRow[]; total: number }> {
    return this.deps.storage.users.page(query);
  }

  /**
   * PUT /v2/users/<user_id>: modify the account if it exists, else create it (no device, no
   * token). Every check runs before anything changes; the changes are one transaction. The
   * password policy does not apply: an admin chose the password (as in Synapse).
   */
  async put(
    requester: Requester,
    userId: string,
    input: PutUserInput,
  ): Promise<{ created: boolean; user: AdminUserView }> {
    const { storage, config, tokens } = this.deps;
    localUserId(userId, config.serverName, 'This endpoint can only be used with local users');
    if (input.userType !== undefined && input.userType !== null && !USER_TYPES.has(input.userType)) {
      throw new MatrixError('M_UNKNOWN', 'Invalid user type');
    }
    if (input.password !== undefined) checkAdminPassword(input.password, 'Invalid password');
    if (input.deactivated === true && input.locked === true) {
      throw new MatrixError('M_UNKNOWN', "An user can't be deactivated and locked");
    }
    if (input.displayname !== undefined) checkDisplayname(input.displayname);
    if (input.avatarUrl !== undefined) checkAvatarUrl(input.avatarUrl);

    const existing = await storage.users.findByUserId(userId);
    if (existing === null) return { created: true, user: await this.create(userId, input) };

    if (input.admin === false && existing.is_admin === 1 && userId === requester.userId) {
      throw new MatrixError('M_UNKNOWN', 'You may not demote yourself.');
    }
    const reactivate = input.deactivated === false && existing.deactivated === 1;
    if (reactivate && input.password === undefined) {
      throw new MatrixError('M_UNKNOWN', 'Must provide a password to re-activate an account.');
    }
    const hash = input.password === undefined ? null : await this.deps.hasher.hash(input.password);
    const patch: UserPatch = {
      ...(input.displayname !== undefined && { displayname: input.displayname === '' ? null : input.displayname }),
      ...(input.avatarUrl !== undefined && { avatar_url: input.avatarUrl === '' ? null : input.avatarUrl }),
      ...(input.admin !== undefined && { is_admin: input.admin ? 1 : 0 }),
      ...(input.locked !== undefined && { locked: input.locked ? 1 : 0 }),
      ...(input.approved !== undefined && { approved: input.approved ? 1 : 0 }),
      ...(input.userType !== undefined && { user_type: input.userType }),
    };
    const forgotten = await storage.transaction(async (tx) => {
      await tx.users.update(userId, patch);
      const hashes: string[] = [];
      // Decided by guarded statements, not by `existing`: another admin may act meanwhile.
      const reactivated = reactivate && (await tx.users.reactivate(userId, hash!));
      if (!reactivated && hash !== null) {
        // An admin changing their own password keeps the device they are using (Synapse).
        const keepDevice = userId === requester.userId ? requester.deviceId : null;
        hashes.push(...(await setPasswordIn(tx, userId, hash, input.logoutDevices ? { keepDevice } : null)));
      }
      if (input.deactivated === true) hashes.push(...(await deactivateIn(tx, userId)));
      return hashes;
    });
    tokens.forget(forgotten);
    // The admin flag and the lock are part of every cached validation of this user's tokens.
    tokens.forgetUser(userId);
    return { created: false, user: await this.get(userId) };
  }

  /** PUT for an id nobody has: the username grammar applies, as Synapse's registration checks it. */
  private async create(userId: string, input: PutUserInput): Promise<AdminUserView> {
    const { localpart } = parseUserId(userId);
    const problem = localpartProblem(localpart, this.deps.config.serverName);
    if (problem !== null) throw new MatrixError('M_INVALID_USERNAME', LOCALPART_PROBLEM_TEXT[problem]);
    await this.deps.users.assertAvailable(localpart);
    const hash = input.password === undefined ? null : await this.deps.hasher.hash(input.password);
    await this.deps.users.register({
      localpart,
      password: hash === null ? null : { hash },
      isGuest: false,
      isAdmin: input.admin ?? false,
      // An operator made it: approved unless the request says otherwise (Synapse).
      approved: input.approved ?? true,
      userType: input.userType ?? null,
      displayName: input.displayname ? input.displayname : null,
      avatarUrl: input.avatarUrl ? input.avatarUrl : null,
      login: null,
    });
    return this.get(userId);
  }

  /** GET /v1/users/<user_id>/admin. */
  async isAdmin(userId: string): Promise<boolean> {
    const { storage, config } = this.deps;
    const notLocal = 'Only local users can be admins of this homeserver';
    return (await existingLocalUser(storage, config.serverName, userId, { notLocal })).is_admin === 1;
  }

  /** PUT /v1/users/<user_id>/admin: an admin cannot demote themselves (Synapse). */
  async setAdmin(requester: Requester, userId: string, admin: boolean): Promise<void> {
    const { storage, config, tokens } = this.deps;
    const notLocal = 'Only local users can be admins of this homeserver';
    await existingLocalUser(storage, config.serverName, userId, { notLocal });
    if (userId === requester.userId && !admin) throw new MatrixError('M_UNKNOWN', 'You may not demote yourself.');
    await storage.users.update(userId, { is_admin: admin ? 1 : 0 });
    tokens.forgetUser(userId);
  }

  /**
   * Approve an account (MSC3866) or make it wait again: what `approved` of PUT /v2/users/<user_id>
   * does, for `tessera users approve`. Its tokens stay valid either way, as in Synapse (an
   * account with a token was approved, or given one by an admin); lock or deactivate it to stop
   * them.
   */
  async setApproved(userId: string, approved: boolean): Promise<void> {
    const { storage, config } = this.deps;
    await existingLocalUser(storage, config.serverName, userId, { notLocal: 'Can only approve local users' });
    await storage.users.update(userId, { approved: approved ? 1 : 0 });
  }

  /** POST / DELETE /v1/users/<user_id>/shadow_ban. */
  async setShadowBanned(userId: string, banned: boolean): Promise<void> {
    const { storage, config } = this.deps;
    await existingLocalUser(storage, config.serverName, userId, { notLocal: 'Only local users can be shadow-banned' });
    await storage.users.update(userId, { shadow_banned: banned ? 1 : 0 });
  }

  /**
   * GET /v1/username_available: Synapse's registration check of the name exactly as given (no
   * lower-casing): 400 M_INVALID_USERNAME or M_USER_IN_USE, else available.
   */
  async usernameAvailable(username: string): Promise<true> {
    const problem = localpartProblem(username, this.deps.config.serverName);
    if (problem !== null) throw new MatrixError('M_INVALID_USERNAME', LOCALPART_PROBLEM_TEXT[problem]);
    await this.deps.users.assertAvailable(username);
    return true;
  }
}

/** A password an admin sets: a non-empty string of at most MAX_PASSWORD_LENGTH characters. */
export function checkAdminPassword(password: string, message: string): void {
  if (password.length === 0 || codePointLength(password, MAX_PASSWORD_LENGTH) > MAX_PASSWORD_LENGTH) {
    throw new MatrixError('M_INVALID_PARAM', message);
  }
}

export function checkDisplayname(displayname: string): void {
  if (codePointLength(displayname, MAX_DISPLAYNAME_LENGTH) > MAX_DISPLAYNAME_LENGTH) {
    throw new MatrixError('M_INVALID_PARAM', `Displayname is too long (max ${MAX_DISPLAYNAME_LENGTH})`);
  }
}

function checkAvatarUrl(avatarUrl: string): void {
  if (codePointLength(avatarUrl, MAX_AVATAR_URL_LENGTH) > MAX_AVATAR_URL_LENGTH) {
    throw new MatrixError('M_INVALID_PARAM', `Avatar URL is too long (max ${MAX_AVATAR_URL_LENGTH})`);
  }
}
