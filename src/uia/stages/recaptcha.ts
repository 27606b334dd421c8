import { MatrixError } from '../../errors.js';
import { StageFailed } from '../engine.js';
import type { CaptchaCheck } from '../ports.js';
import type { Stage } from '../types.js';

/**
 * How a captcha failure is reported. The 2014 v1 protocol answers plain 400s
 * (`M_CAPTCHA_INVALID`, `M_CAPTCHA_NEEDED`); current UIA answers a 401 challenge with
 * `M_UNAUTHORIZED` for a refused captcha and `M_CAPTCHA_NEEDED` for a missing one, as Synapse
 * does.
 */
export type CaptchaErrorStyle = 'v1' | 'uia';

/**
 * `m.login.recaptcha` (spec: "Google ReCaptcha"): `{type, response}`; the 2014 v1 protocol also
 * sent `challenge`, which siteverify no longer needs and we ignore.
 */
export function recaptchaStage(
  verifier: CaptchaCheck,
  publicKey: string | null,
  style: CaptchaErrorStyle = 'v1',
): Stage {
  const refused = style === 'v1' ? 'M_CAPTCHA_INVALID' : 'M_UNAUTHORIZED';
  return {
    type: 'm.login.recaptcha',
    params: () => (publicKey === null ? null : { public_key: publicKey }),
    async check(auth, ctx) {
      if (auth.response === undefined) {
        // The 2014 server answered a plain 400 M_CAPTCHA_NEEDED with these words too.
        if (style === 'uia') throw new StageFailed('M_CAPTCHA_NEEDED', 'Captcha response is required');
        throw new MatrixError('M_CAPTCHA_NEEDED', 'Captcha response is required');
      }
      if (typeof auth.response !== 'string') throw new MatrixError('M_BAD_JSON', 'response must be a string');
      const verdict = await verifier.verify(auth.response, ctx.remoteIp);
      if (verdict === 'unavailable') {
        throw new StageFailed(refused, 'The captcha could not be verified just now; try again');
      }
      if (verdict === 'refused') throw new StageFailed(refused, 'Captcha was not accepted');
      return null;
    },
  };
}
