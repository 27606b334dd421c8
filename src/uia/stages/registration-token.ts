import { MatrixError } from '../../errors.js';
import { MAX_REGISTRATION_TOKEN_LENGTH } from '../../limits.js';
import type { Storage } from '../../storage/storage.js';
import type { Clock } from '../../util/clock.js';
import { StageFailed } from '../engine.js';
import type { Stage } from '../types.js';

export const REGISTRATION_TOKEN_STAGE = 'm.login.registration_token';

/** Spec "Token-authenticated registration": 1–64 characters of [A-Za-z0-9._~-]. */
const TOKEN_GRAMMAR = new RegExp(`^[A-Za-z0-9._~-]{1,${MAX_REGISTRATION_TOKEN_LENGTH}}$`);

export function isRegistrationTokenShaped(token: string): boolean {
  return TOKEN_GRAMMAR.test(token);
}

/** What a passed token stage remembers with the session. */
export interface HeldToken {
  token: string;
}

/**
 * `m.login.registration_token` (spec "Token-authenticated registration"): `{type, token,
 * session}`. Passing it takes one use of the token for the session (a hold: the token's
 * `pending` goes up in the same statement that checks it is still valid), so concurrent sign-ups
 * cannot together use it more often than `uses_allowed`. The use becomes `completed` inside the
 * registration's transaction (RegistrationService), or is given back when the session goes
 * (UiaSessionsRepo). A session passes the stage once: resubmitting it takes no second use.
 *
 * Failures, as Synapse's RegistrationTokenAuthChecker answers them (in a 401 challenge under
 * UIA, so the client may try again): no token 400 M_MISSING_PARAM; not a string 400
 * M_INVALID_PARAM; unknown, used up or expired 401 M_UNAUTHORIZED.
 */
export function registrationTokenStage(storage: Storage, clock: Clock): Stage {
  return {
    type: REGISTRATION_TOKEN_STAGE,
    needsStoredSession: true,
    async check(auth, ctx): Promise<HeldToken> {
      const token = auth.token;
      if (token === undefined) throw new StageFailed('M_MISSING_PARAM', 'Missing registration token');
      if (typeof token !== 'string') throw new StageFailed('M_INVALID_PARAM', 'Registration token must be a string');
      // A string no token can be is refused before any lookup (and bounds what is looked up).
      if (!isRegistrationTokenShaped(token)) throw new StageFailed('M_UNAUTHORIZED', 'Invalid registration token');
      const outcome = await storage.registrationTokens.hold(ctx.session.session_id, token, clock.now());
      switch (outcome) {
        case 'held':
        case 'already-held':
          return { token };
        case 'other-token':
          throw new StageFailed('M_INVALID_PARAM', 'Registration token has changed');
        case 'invalid':
          throw new StageFailed('M_UNAUTHORIZED', 'Invalid registration token');
        case 'session-gone':
          throw new MatrixError('M_UNKNOWN', 'Unknown or expired session');
      }
    },
  };
}
