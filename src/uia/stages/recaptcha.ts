import { MatrixError } from '../../errors.js';
import type { CaptchaVerifier } from '../../service/captcha.js';
import { StageFailed } from '../engine.js';
import type { Stage } from '../types.js';

/**
 * `m.login.recaptcha` (spec: "Google ReCaptcha"): `{type, response}`; the 2014 v1 protocol also
 * sent `challenge`, which siteverify no longer needs and we ignore.
 */
export function recaptchaStage(verifier: CaptchaVerifier, publicKey: string | null): Stage {
  return {
    type: 'm.login.recaptcha',
    params: () => (publicKey === null ? null : { public_key: publicKey }),
    async check(auth, ctx) {
      if (auth.response === undefined) {
        throw new MatrixError('M_MISSING_PARAM', 'Missing JSON keys: response');
      }
      if (typeof auth.response !== 'string') throw new MatrixError('M_BAD_JSON', 'response must be a string');
      const verdict = await verifier.verify(auth.response, ctx.remoteIp);
      if (verdict === 'unavailable') {
        throw new StageFailed('M_CAPTCHA_INVALID', 'The captcha could not be verified just now; try again');
      }
      if (verdict === 'refused') throw new StageFailed('M_CAPTCHA_INVALID', 'Captcha was not accepted');
      return null;
    },
  };
}
