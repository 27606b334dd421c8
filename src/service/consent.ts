import type { UserConsent } from '../config/config.js';
import { MatrixError } from '../errors.js';

/**
 * The terms of service's pages (Synapse's `user_consent`), as `GET /_matrix/consent` serves
 * them: the URLs of the `m.login.terms` params point here (uia/stages/terms.ts).
 */
export class ConsentService {
  constructor(private readonly consent: UserConsent | null) {}

  /**
   * The HTML of the policy `version` (default: the one in force; only that one is served) in
   * `lang` (default `en`, as Synapse's only language). 404 M_NOT_FOUND otherwise.
   */
  page(version: string | undefined, lang: string | undefined): string {
    const { consent } = this;
    if (consent === null) throw new MatrixError('M_NOT_FOUND', 'No terms of service are configured');
    if (version !== undefined && version !== consent.version) {
      throw new MatrixError('M_NOT_FOUND', 'Unknown policy version');
    }
    const language = lang ?? 'en';
    // An own property only: `lang=__proto__` names no page.
    if (!Object.hasOwn(consent.pages, language)) throw new MatrixError('M_NOT_FOUND', 'Unknown policy language');
    return consent.pages[language]!;
  }
}
