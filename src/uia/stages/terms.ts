import type { UserConsent } from '../../config/config.js';
import type { Stage } from '../types.js';

export const TERMS_STAGE = 'm.login.terms';

/** What a passed terms stage remembers with the session: the version accepted. */
export interface AcceptedTerms {
  version: string;
}

/** Where Tessera serves the policy page of `lang` (api/client/consent.ts), under `publicBaseurl`. */
export function policyUrl(publicBaseurl: string, version: string, lang: string): string {
  const base = publicBaseurl.endsWith('/') ? publicBaseurl : `${publicBaseurl}/`;
  return `${base}_matrix/consent?v=${encodeURIComponent(version)}&lang=${encodeURIComponent(lang)}`;
}

/**
 * `m.login.terms` (spec "Terms of service at registration"): the client shows the policies of
 * `params` and sends `{type: "m.login.terms", session}` once the user accepted them; the stage
 * always passes, as Synapse's TermsAuthChecker does. `params` are Synapse's
 * (rest/client/register.py): one policy, `privacy_policy`, with the version and a name and URL
 * per language; Synapse lists only `en`, Tessera every language the template directory has.
 */
export function termsStage(consent: UserConsent, publicBaseurl: string): Stage {
  const policy: Record<string, unknown> = { version: consent.version };
  for (const lang of Object.keys(consent.pages)) {
    policy[lang] = { name: consent.policyName, url: policyUrl(publicBaseurl, consent.version, lang) };
  }
  const params = { policies: { privacy_policy: policy } };
  return {
    type: TERMS_STAGE,
    params: () => params,
    check: async (): Promise<AcceptedTerms> => ({ version: consent.version }),
  };
}
