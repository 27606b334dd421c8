import { MatrixError } from '../../errors.js';
import { userFromAuthDict } from '../auth-dict.js';
import { StageFailed } from '../engine.js';
import type { FailedAttempts, PasswordCheck } from '../ports.js';
import type { Stage } from '../types.js';

/** What a passed re-authentication stage proved, remembered with the completed stage. */
export interface ProvenUser {
  user_id: string;
}

/**
 * `m.login.password` for re-authentication (spec: "Password-based" auth type; spec "User-Interactive Authentication API"): `{type, identifier:{type:"m.id.user", user}, password, session}`, or the deprecated
 * top-level `user`. Used by account operations that already carry an access token.
 *
 * - An identifier naming anyone but the token owner: 403 M_FORBIDDEN as a plain error, before
 *   any lookup or hashing, so the answer is the same whatever the password. Synapse checks the
 *   password first and answers 403 only for the right one (handlers/auth.py
 *   `validate_user_via_ui_auth`), which lets any user test another account's password; we
 *   deliberately differ.
 * - Each attempt takes a slot of the owner's `rc_login.failed_attempts` bucket before the
 *   password is verified (same bucket and key as POST /login, src/service/login.ts); only a
 *   wrong password keeps it. A full bucket answers 429 M_LIMIT_EXCEEDED, right password or not.
 * - A wrong password fails the stage: 401 challenge with errcode M_FORBIDDEN, so the client
 *   may try again.
 */
export function passwordStage(passwordAuth: PasswordCheck, failedAttempts: FailedAttempts): Stage {
  return {
    type: 'm.login.password',
    async check(auth, ctx): Promise<ProvenUser> {
      const user = userFromAuthDict(auth);
      if (auth.password === undefined) throw new MatrixError('M_MISSING_PARAM', 'Missing JSON keys: password');
      if (typeof auth.password !== 'string') throw new MatrixError('M_BAD_JSON', 'password must be a string');
      if (ctx.userId === null) throw new Error('the re-authentication password stage needs the token owner');
      if (!passwordAuth.names(user, ctx.userId)) {
        throw new MatrixError('M_FORBIDDEN', 'Invalid auth: the identifier must be the token owner');
      }
      const failedKey = ctx.userId.toLowerCase();
      await failedAttempts.take(failedKey);
      let userId: string;
      try {
        userId = (await passwordAuth.verify(user, auth.password)).user_id;
      } catch (err) {
        const wrong = err instanceof MatrixError && err.errcode === 'M_FORBIDDEN';
        if (!wrong) await failedAttempts.giveBack(failedKey);
        if (wrong || (err instanceof MatrixError && err.errcode === 'M_USER_DEACTIVATED')) {
          throw new StageFailed('M_FORBIDDEN', 'Invalid username or password');
        }
        throw err;
      }
      await failedAttempts.giveBack(failedKey);
      return { user_id: userId };
    },
  };
}
