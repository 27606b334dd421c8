import { MatrixError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import type { UiaEngine, UiaSuccess } from '../uia/engine.js';
import { passwordStage } from '../uia/stages/password.js';
import type { Stage, UiaOperation } from '../uia/types.js';
import type { PasswordAuth } from './password-auth.js';
import type { RateLimiter } from './rate-limiter.js';
import type { Requester } from './tokens.js';

export interface ReauthRequest {
  requester: Requester;
  /** Method and path of the operation ("DELETE /devices/ABC"): a session serves only this one. */
  operation: string;
  body: Record<string, unknown>;
  remoteIp: string;
  /**
   * What of the body the session may keep (secrets removed); default: nothing, because the
   * operations read their parameters from the request that completes the flow.
   */
  persistBody?(body: Record<string, unknown>): Record<string, unknown>;
}

/**
 * Re-authentication of a token owner before a dangerous account operation (password change,
 * deactivation, device deletion; spec "User-Interactive Authentication API"). The flows are built from what the user
 * can do, as Synapse does: `[["m.login.password"]]` when the account has a password, else no
 * flow at all (the operation cannot be authorised over UIA).
 */
export class ReauthService {
  private readonly stages: ReadonlyMap<string, Stage>;

  constructor(
    private readonly deps: { storage: Storage; uia: UiaEngine; passwordAuth: PasswordAuth; rateLimiter: RateLimiter },
  ) {
    const failedAttempts = {
      take: (userId: string) => deps.rateLimiter.assert('login.failed', userId),
      giveBack: (userId: string) => deps.rateLimiter.refund('login.failed', userId),
    };
    this.stages = new Map([['m.login.password', passwordStage(deps.passwordAuth, failedAttempts)]]);
  }

  /**
   * Run UIA for `req`; returns when the token owner proved who they are, else throws the 401
   * challenge, or 403 when the session belongs to another operation or user. Guests cannot
   * re-authenticate (Synapse: these endpoints refuse guest tokens).
   */
  async authenticate(req: ReauthRequest): Promise<UiaSuccess> {
    if (req.requester.isGuest) {
      throw new MatrixError('M_GUEST_ACCESS_FORBIDDEN', 'Guest access not allowed');
    }
    const user = await this.deps.storage.users.findByUserId(req.requester.userId);
    const op: UiaOperation = {
      name: req.operation,
      flows: user?.password_hash ? [['m.login.password']] : [],
      stages: this.stages,
      userId: req.requester.userId,
      persistBody: req.persistBody ?? (() => ({})),
    };
    return this.deps.uia.authenticate(op, req.body, req.remoteIp);
  }

  /**
   * Use up the session of `success` inside the operation's transaction `tx`: a finished
   * re-authentication authorises exactly one run of the operation, even when several requests
   * complete the same session at once (in any process); the others get a 401 challenge and the
   * transaction rolls back.
   */
  async consume(tx: Storage, success: UiaSuccess): Promise<void> {
    await this.deps.uia.consume(tx, success);
  }
}
