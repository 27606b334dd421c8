import { MatrixError } from '../../errors.js';
import { type PasswordAuth, userFromAuthDict } from '../../service/password-auth.js';
import { StageFailed } from '../engine.js';
import type { Stage } from '../types.js';

/** What a passed re-authentication stage proved, remembered with the completed stage. */
export interface ProvenUser {
  user_id: string;
}

/**
 * `m.login.password` for re-authentication (spec: "Password-based" auth type; spec-notes
 * §1.3.10): `{type, identifier:{type:"m.id.user", user}, password, session}`, or the deprecated
 * top-level `user`. Used by account operations that already carry an access token.
 *
 * - A wrong password (or an unknown or deactivated user) fails the stage: 401 challenge with
 *   errcode M_FORBIDDEN, so the client may try again.
 * - Correct credentials of a user other than the token owner: 403 M_FORBIDDEN as a plain
 *   error, and nothing is recorded (Synapse's "Invalid auth"; conformance D1.4, D3.5). The
 *   password is checked first, as Synapse does, so this answer reveals nothing new.
 */
export function passwordStage(passwordAuth: PasswordAuth): Stage {
  return {
    type: 'm.login.password',
    async check(auth, ctx): Promise<ProvenUser> {
      const user = userFromAuthDict(auth);
      if (auth.password === undefined) throw new MatrixError('M_MISSING_PARAM', 'Missing JSON keys: password');
      if (typeof auth.password !== 'string') throw new MatrixError('M_BAD_JSON', 'password must be a string');
      let userId: string;
      try {
        userId = (await passwordAuth.verify(user, auth.password)).user_id;
      } catch (err) {
        if (err instanceof MatrixError && (err.errcode === 'M_FORBIDDEN' || err.errcode === 'M_USER_DEACTIVATED')) {
          throw new StageFailed('M_FORBIDDEN', 'Invalid username or password');
        }
        throw err;
      }
      if (ctx.userId !== null && userId !== ctx.userId) {
        throw new MatrixError('M_FORBIDDEN', 'Invalid auth: the credentials are not those of the token owner');
      }
      return { user_id: userId };
    },
  };
}
