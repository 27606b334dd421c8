import type { Config } from '../config/config.js';
import { MatrixError } from '../errors.js';
import { codePointLength, MAX_USER_ID_LENGTH } from '../limits.js';
import type { Storage } from '../storage/storage.js';
import { identifierFromAuthDict } from '../uia/auth-dict.js';
import { assertDeviceDisplayName, assertDeviceId } from '../util/device-id.js';
import { canonicalEmail } from '../util/email.js';
import { asciiLowerCase } from '../util/matrix-id.js';
import { AWAITING_APPROVAL, loginAwaitingApproval } from './approval.js';
import type { PasswordAuth } from './password-auth.js';
import type { RateLimiter } from './rate-limiter.js';
import type { SessionService } from './sessions.js';
import type { Telemetry } from './telemetry.js';

/** Answers that refuse an understood login (for the failure metric; rate limits count apart). */
const REFUSALS = new Set<string>(['M_FORBIDDEN', 'M_USER_DEACTIVATED', 'M_USER_LOCKED', AWAITING_APPROVAL]);

/** A `POST /login` body, its JSON types already checked (spec login.yaml). */
export interface LoginRequest {
  type: string;
  /** The raw `identifier` and legacy `user`; their shape is checked here. */
  identifier?: unknown;
  user?: unknown;
  password?: string;
  device_id?: string | null;
  initial_device_display_name?: string | null;
  refresh_token?: boolean;
}

export interface LoggedIn {
  userId: string;
  homeServer: string;
  deviceId: string;
  accessToken: string;
  refreshToken: string | null;
  expiresInMs: number | null;
}

const PASSWORD_LOGIN = 'm.login.password';

/** Password login (spec "Login"): who, with which device, which tokens. */
export class LoginService {
  constructor(
    private readonly deps: {
      storage: Storage;
      config: Pick<Config, 'serverName' | 'passwordLoginEnabled'>;
      passwordAuth: PasswordAuth;
      sessions: SessionService;
      rateLimiter: RateLimiter;
      telemetry?: Pick<Telemetry, 'login'>;
    },
  ) {}

  /** GET /login: only what we accept. `password_config.enabled: false` leaves no flow. */
  flows(): { type: string }[] {
    return this.deps.config.passwordLoginEnabled ? [{ type: PASSWORD_LOGIN }] : [];
  }

  /**
   * Rate limits as Synapse's rest/client/login.py and handlers/auth.py:
   * every request counts against the client IP (`rc_login.address`); a wrong password counts
   * against the user id as given (`rc_login.failed_attempts`), unknown users alike, and a full
   * bucket refuses even the right password; a successful login counts against the account
   * (`rc_login.account`).
   */
  async login(req: LoginRequest, remoteIp: string): Promise<LoggedIn> {
    try {
      const loggedIn = await this.attempt(req, remoteIp);
      this.deps.telemetry?.login('success');
      return loggedIn;
    } catch (err) {
      if (err instanceof MatrixError && REFUSALS.has(err.errcode)) this.deps.telemetry?.login('failure');
      throw err;
    }
  }

  private async attempt(req: LoginRequest, remoteIp: string): Promise<LoggedIn> {
    const { config, passwordAuth, sessions, storage, rateLimiter } = this.deps;
    await rateLimiter.assert('login.address', remoteIp);
    if (req.type !== PASSWORD_LOGIN) throw new MatrixError('M_UNKNOWN', 'Unknown login type');
    // Synapse answers a disabled login type the same way (400 M_UNKNOWN).
    if (!config.passwordLoginEnabled) throw new MatrixError('M_UNKNOWN', 'Password login has been disabled');
    const user = await this.userNamed(req);
    // No account has a longer id (src/limits.ts): refused before it reaches the rate-limit
    // key, a btree index, or the hasher. Saying so reveals nothing about any account.
    if (codePointLength(user, MAX_USER_ID_LENGTH) > MAX_USER_ID_LENGTH) {
      throw new MatrixError('M_INVALID_PARAM', `User ID may not be longer than ${MAX_USER_ID_LENGTH} characters`);
    }
    if (req.password === undefined) throw new MatrixError('M_MISSING_PARAM', 'Missing JSON keys: password');
    const deviceId = req.device_id ?? null;
    if (deviceId !== null) assertDeviceId(deviceId);
    const displayName = req.initial_device_display_name ?? null;
    if (displayName !== null) assertDeviceDisplayName(displayName);

    // Same 403 M_FORBIDDEN, same hashing time, for unknown users and wrong passwords.
    // The failed-attempt slot is taken before verifying, in one statement, so concurrent
    // guesses (in any process) cannot overdraw it; anything but a wrong password gives it back.
    const failedKey = asciiLowerCase(user.startsWith('@') ? user : `@${user}:${config.serverName}`);
    await rateLimiter.assert('login.failed', failedKey);
    let account: Awaited<ReturnType<PasswordAuth['verify']>>;
    try {
      account = await passwordAuth.verify(user, req.password);
    } catch (err) {
      if (!(err instanceof MatrixError && err.errcode === 'M_FORBIDDEN'))
        await rateLimiter.refund('login.failed', failedKey);
      throw err;
    }
    await rateLimiter.refund('login.failed', failedKey);
    // A locked account (spec "Account locking") gets no new token; only after the password is
    // right, so the lock tells a guesser nothing.
    if (account.locked === 1) throw new MatrixError('M_USER_LOCKED', 'User account has been locked');
    // MSC3866 "Login": an account awaiting an admin's approval gets no token (403), also only
    // after the password is right. Synapse checks only while approval is required; Tessera
    // checks always, so turning the requirement off does not let in accounts nobody approved.
    if (account.approved === 0) throw loginAwaitingApproval();
    await rateLimiter.assert('login.account', asciiLowerCase(account.user_id));
    const started = await storage.transaction((tx) =>
      sessions.start(tx, {
        userId: account.user_id,
        deviceId,
        initialDisplayName: displayName,
        refreshToken: req.refresh_token === true,
      }),
    );
    return { userId: account.user_id, homeServer: config.serverName, ...started };
  }

  /**
   * The user a login names (spec "Identifier types"). `m.id.thirdparty` (or the deprecated
   * top-level `medium`/`address`) is the account the address is bound to; an address bound to
   * none names `<medium>:<address>`, which no localpart can be (`:` is not in the grammar), so
   * it is answered exactly as an unknown user: one lookup more for either, then the same 403
   * after the same dummy hashing, counted against `rc_login.failed_attempts` of that address.
   */
  private async userNamed(req: LoginRequest): Promise<string> {
    const id = identifierFromAuthDict(req as unknown as Record<string, unknown>);
    if (id.type === 'm.id.user') return id.user;
    let address: string | null = null;
    try {
      address = id.medium === 'email' ? canonicalEmail(id.address) : null;
    } catch {
      // Not an email address: bound to nobody.
    }
    const owner = address === null ? null : await this.deps.storage.threepids.userOf('email', address);
    return owner ?? `${id.medium}:${address ?? id.address}`;
  }
}
