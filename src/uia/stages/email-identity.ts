import { MAX_CLIENT_SECRET_LENGTH, MAX_SID_LENGTH } from '../../limits.js';
import { StageFailed } from '../engine.js';
import type { EmailValidations } from '../ports.js';
import type { Stage } from '../types.js';

export const EMAIL_IDENTITY_STAGE = 'm.login.email.identity';

/** What a passed email stage remembers with the session (the address to bind or to look up). */
export interface ProvenEmail {
  medium: 'email';
  address: string;
  validated_at: number;
  sid: string;
}

/**
 * `m.login.email.identity` (spec "Email-based (identity / homeserver)"): `{type, threepid_creds:
 * {sid, client_secret}, session}`; the 2014 API sent `threepidCreds` with `clientSecret`, also
 * accepted. Passes only for a validation session whose link was opened and whose client
 * secret this is; `id_server` is ignored (the homeserver sent the mail itself). Failures are
 * Synapse's: no credentials 400 M_MISSING_PARAM, not validated 401 M_UNAUTHORIZED (in the
 * challenge, so the client may try again once the link was opened).
 */
export function emailIdentityStage(validations: EmailValidations): Stage {
  return {
    type: EMAIL_IDENTITY_STAGE,
    async check(auth): Promise<ProvenEmail> {
      const creds = auth.threepid_creds ?? auth.threepidCreds;
      if (creds === undefined) throw new StageFailed('M_MISSING_PARAM', 'Missing JSON keys: threepid_creds');
      if (typeof creds !== 'object' || creds === null || Array.isArray(creds)) {
        throw new StageFailed('M_INVALID_PARAM', 'threepid_creds must be an object');
      }
      const { sid, client_secret, clientSecret } = creds as Record<string, unknown>;
      const secret = client_secret ?? clientSecret;
      if (sid === undefined || secret === undefined) {
        throw new StageFailed('M_MISSING_PARAM', 'Missing JSON keys: threepid_creds.sid, threepid_creds.client_secret');
      }
      if (typeof sid !== 'string' || typeof secret !== 'string') {
        throw new StageFailed('M_INVALID_PARAM', 'threepid_creds.sid and client_secret must be strings');
      }
      const proven =
        sid.length <= MAX_SID_LENGTH && secret.length <= MAX_CLIENT_SECRET_LENGTH
          ? await validations.validated(sid, secret)
          : null;
      if (proven === null) throw new StageFailed('M_UNAUTHORIZED', 'Unable to get validated threepid');
      return { medium: 'email', address: proven.address, validated_at: proven.validatedAt, sid };
    },
  };
}
