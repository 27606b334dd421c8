import { MatrixError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import type { UiaEngine, UiaSuccess } from '../uia/engine.js';
import { passwordStage } from '../uia/stages/password.js';
import type { Stage, UiaOperation } from '../uia/types.js';
import type { PasswordAuth } from './password-auth.js';
import type { Requester } from './tokens.js';

export interface ReauthRequest {
  requester: Requester;
  /** Method and path of the operation ("DELETE /devices/ABC"): a session serves only this one. */
  operation: string;
  body: Record<string, unknown>;
  remoteIp: string;
  /** What of the body the session may keep (secrets removed); default: everything but `auth`. */
  persistBody?(body: Record<string, unknown>): Record<string, unknown>;
}

/**
 * Re-authentication of a token owner before a dangerous account operation (password change,
 * deactivation, device deletion; spec-notes §1.3.10). The flows are built from what the user
 * can do, as Synapse does: `[["m.login.password"]]` when the account has a password, else no
 * flow at all (the operation cannot be authorised over UIA).
 */
export class ReauthService {
  private readonly stages: ReadonlyMap<string, Stage>;

  constructor(private readonly deps: { storage: Storage; uia: UiaEngine; passwordAuth: PasswordAuth }) {
    this.stages = new Map([['m.login.password', passwordStage(deps.passwordAuth)]]);
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
      ...(req.persistBody && { persistBody: req.persistBody }),
    };
    return this.deps.uia.authenticate(op, req.body, req.remoteIp);
  }

  /**
   * Forget a session whose operation ran: a finished re-authentication must not authorise the
   * same dangerous operation again (e.g. with a stolen token and a sniffed session id).
   */
  async finish(success: UiaSuccess): Promise<void> {
    await this.deps.uia.deleteSession(success.session.session_id);
  }
}
