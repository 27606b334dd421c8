import type { Config } from '../config/config.js';
import { MatrixError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import type { UiaEngine } from '../uia/engine.js';
import type { EmailValidations } from '../uia/ports.js';
import { EMAIL_IDENTITY_STAGE, emailIdentityStage, type ProvenEmail } from '../uia/stages/email-identity.js';
import type { UiaOperation } from '../uia/types.js';
import { setPasswordIn } from './account.js';
import { checkPasswordPolicy } from './password-policy.js';
import type { RateLimiter } from './rate-limiter.js';
import type { TokenService } from './tokens.js';
import type { UserService } from './users.js';

/**
 * The forgotten password (spec password_management.yaml): `POST /account/password` without an
 * access token, authenticated by `m.login.email.identity` with a session from
 * `/account/password/email/requestToken`. The account is the one the address is bound to.
 */
export class PasswordResetService {
  private readonly op: UiaOperation | null;

  constructor(
    private readonly deps: {
      storage: Storage;
      config: Pick<Config, 'passwordPolicy'>;
      uia: UiaEngine;
      users: UserService;
      tokens: TokenService;
      rateLimiter: RateLimiter;
      /** Password reset's email validations; null when no email is configured. */
      emailValidations: EmailValidations | null;
    },
  ) {
    this.op =
      deps.emailValidations === null
        ? null
        : {
            name: 'POST /account/password (email)',
            flows: [[EMAIL_IDENTITY_STAGE]],
            stages: new Map([[EMAIL_IDENTITY_STAGE, emailIdentityStage(deps.emailValidations)]]),
            userId: null,
            persistBody: (body) => ({
              ...(typeof body.logout_devices === 'boolean' && { logout_devices: body.logout_devices }),
            }),
          };
  }

  /**
   * Counted per client address first (`rc_registration_requests`, as every unauthenticated
   * account request); the new password's policy before UIA; hashed only once the address was
   * proven. `logout_devices` (default true) ends every session of the account: the one who
   * reset the password holds no access token here. The validation session and the UIA session
   * are used up in the transaction that sets the password, so one mail resets once. Without
   * email configured the endpoint still needs an access token (401 M_MISSING_TOKEN).
   */
  async reset(req: { body: Record<string, unknown>; newPassword: string | null; remoteIp: string }): Promise<void> {
    const { storage, users, tokens, uia, config } = this.deps;
    if (this.op === null) throw new MatrixError('M_MISSING_TOKEN', 'Missing access token');
    await this.deps.rateLimiter.assert('registration.requests', req.remoteIp);
    if (req.newPassword !== null) checkPasswordPolicy(req.newPassword, config.passwordPolicy);
    const success = await uia.authenticate(this.op, req.body, req.remoteIp);
    if (req.newPassword === null) throw new MatrixError('M_MISSING_PARAM', 'Missing JSON keys: new_password');
    const proven = success.completed.find((c) => c.stage === EMAIL_IDENTITY_STAGE)?.data as ProvenEmail;
    const hash = await users.hashNewPassword(req.newPassword);
    const logoutDevices = typeof success.body.logout_devices === 'boolean' ? success.body.logout_devices : true;
    const forgotten = await storage.transaction(async (tx) => {
      await uia.consume(tx, success);
      if (!(await tx.threepids.consume(proven.sid))) {
        throw new MatrixError('M_UNAUTHORIZED', 'This email link was used already; ask for a new one');
      }
      const userId = await tx.threepids.userOf('email', proven.address);
      if (userId === null) throw new MatrixError('M_THREEPID_NOT_FOUND', 'Email not found');
      return setPasswordIn(tx, userId, hash, logoutDevices ? { keepDevice: null } : null);
    });
    tokens.forget(forgotten);
  }
}
