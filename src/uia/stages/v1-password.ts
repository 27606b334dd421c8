import type { PasswordPolicy } from '../../config/config.js';
import { MatrixError } from '../../errors.js';
import { checkPasswordPolicy } from '../../service/password-policy.js';
import type { UserService } from '../../service/users.js';
import { localpartOf } from '../../util/matrix-id.js';
import type { Stage } from '../types.js';

/** What the v1 password stage proved: the localpart to create (null: generate one). */
export interface V1Credentials {
  localpart: string | null;
}

/**
 * `m.login.password` as the last stage of v1 registration (seed: RegistrationSubmission with
 * `user`, `password`): it carries the new account's credentials rather than proving an
 * existing one. Checks the username (grammar, availability) and the password policy here, so
 * a bad request is refused before any hashing.
 */
export function v1PasswordStage(users: UserService, serverName: string, policy: PasswordPolicy | null): Stage {
  return {
    type: 'm.login.password',
    async check(auth): Promise<V1Credentials> {
      if (auth.password === undefined) throw new MatrixError('M_MISSING_PARAM', 'Missing JSON keys: password');
      if (typeof auth.password !== 'string') throw new MatrixError('M_BAD_JSON', 'password must be a string');
      if (auth.user !== undefined && auth.user !== null && typeof auth.user !== 'string') {
        throw new MatrixError('M_BAD_JSON', 'user must be a string');
      }
      const user = typeof auth.user === 'string' ? auth.user : '';
      let localpart: string | null = null;
      // Absent or empty: the server picks the id, as Synapse's v1 servlet did (`if localpart:`).
      if (user !== '') {
        const bare = localpartOf(user, serverName);
        if (bare === null)
          throw new MatrixError('M_INVALID_USERNAME', `User ID must be on this server (${serverName})`);
        localpart = users.normaliseLocalpart(bare);
        await users.assertAvailable(localpart);
      }
      checkPasswordPolicy(auth.password, policy);
      return { localpart };
    },
  };
}
