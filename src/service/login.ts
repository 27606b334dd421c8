import type { Config } from '../config/config.js';
import { MatrixError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import { type PasswordAuth, userFromAuthDict } from './password-auth.js';
import type { SessionService } from './sessions.js';

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
/** Synapse's limits (rest/client/login.py, handlers/device.py); the spec sets none. */
const MAX_DEVICE_ID_LENGTH = 512;
const MAX_DISPLAY_NAME_LENGTH = 100;

/** Password login (spec "Login"; conformance C1): who, with which device, which tokens. */
export class LoginService {
  constructor(
    private readonly deps: {
      storage: Storage;
      config: Pick<Config, 'serverName' | 'passwordLoginEnabled'>;
      passwordAuth: PasswordAuth;
      sessions: SessionService;
    },
  ) {}

  /** GET /login: only what we accept. `password_config.enabled: false` leaves no flow. */
  flows(): { type: string }[] {
    return this.deps.config.passwordLoginEnabled ? [{ type: PASSWORD_LOGIN }] : [];
  }

  async login(req: LoginRequest): Promise<LoggedIn> {
    const { config, passwordAuth, sessions, storage } = this.deps;
    if (req.type !== PASSWORD_LOGIN) throw new MatrixError('M_UNKNOWN', 'Unknown login type');
    // Synapse answers a disabled login type the same way (400 M_UNKNOWN).
    if (!config.passwordLoginEnabled) throw new MatrixError('M_UNKNOWN', 'Password login has been disabled');
    const user = userFromAuthDict(req as unknown as Record<string, unknown>);
    if (req.password === undefined) throw new MatrixError('M_MISSING_PARAM', 'Missing JSON keys: password');
    const deviceId = req.device_id ?? null;
    if (deviceId !== null && (deviceId.length === 0 || deviceId.length > MAX_DEVICE_ID_LENGTH)) {
      throw new MatrixError('M_INVALID_PARAM', `device_id must be 1 to ${MAX_DEVICE_ID_LENGTH} characters`);
    }
    const displayName = req.initial_device_display_name ?? null;
    if (displayName !== null && displayName.length > MAX_DISPLAY_NAME_LENGTH) {
      // Synapse answers 400 here, not the table's 413 (handlers/device.py).
      throw new MatrixError('M_TOO_LARGE', `Device display name is longer than ${MAX_DISPLAY_NAME_LENGTH}`, {}, 400);
    }

    // Same 403 M_FORBIDDEN, same hashing time, for unknown users and wrong passwords.
    const account = await passwordAuth.verify(user, req.password);
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
}
