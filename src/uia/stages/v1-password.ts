import { MatrixError } from '../../errors.js';
import type { NewAccountRules } from '../ports.js';
import type { Stage } from '../types.js';

/** What the v1 password stage proved: the localpart to create (null: generate one). */
export interface V1Credentials {
  localpart: string | null;
}

/**
 * `m.login.password` as the last stage of v1 registration (docs/client-api-v1-registration.md: RegistrationSubmission with
 * `user`, `password`): it carries the new account's credentials rather than proving an
 * existing one. Checks the username (grammar, availability) and the password policy here, so
 * a bad request is refused before any hashing.
 */
export function v1PasswordStage(rules: NewAccountRules): Stage {
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
        // `user` is a localpart (RegistrationSubmission); the 2014 server refused a full
        // id with 400 M_INVALID_USERNAME, as v3 refuses one in `username`.
        if (user.startsWith('@'))
          throw new MatrixError('M_INVALID_USERNAME', 'user must be a localpart, not a user ID');
        localpart = rules.normaliseLocalpart(user);
        await rules.assertAvailable(localpart);
      }
      rules.checkPassword(auth.password);
      return { localpart };
    },
  };
}
