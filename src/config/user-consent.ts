import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MAX_CONSENT_VERSION_LENGTH, MAX_POLICY_PAGE_BYTES } from '../limits.js';
import type { UserConsent } from './config.js';
import { ConfigError } from './errors.js';

/**
 * Synapse's `user_consent` block (its docs: config_documentation.md "user_consent"): the terms
 * of service a new account accepts with the `m.login.terms` stage (spec "Terms of service at
 * registration"). `template_dir` (relative to the config file) holds `<lang>/<version>.html`
 * for every language offered; English is required, as Synapse serves only `en`. The pages are
 * read once, here: a missing or unreadable one stops start-up naming the key.
 *
 * Tessera serves each file as it is. Synapse renders it with Jinja (for the consent form
 * it shows to users who follow a link from a server notice, which Tessera does not send), so a
 * template with Jinja markup is served with that markup: a warning says so.
 */

/** `<version>` is a file name: no path separators, no `.`/`..`, a bounded length. */
const VERSION_GRAMMAR = new RegExp(`^[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,${MAX_CONSENT_VERSION_LENGTH - 1}}$`);

/** A language directory: a BCP 47-shaped tag (`en`, `fr`, `pt-BR`). Other entries are not languages. */
const LANGUAGE = /^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;

export interface UserConsentFile {
  version: string;
  template_dir: string;
  policy_name?: string;
  require_at_registration?: boolean;
}

export function readUserConsent(
  block: UserConsentFile | undefined,
  baseDir: string,
  warnings: string[],
): UserConsent | null {
  if (block === undefined) return null;
  const { version } = block;
  if (!VERSION_GRAMMAR.test(version)) {
    throw new ConfigError(
      `invalid config value at user_consent.version: ${JSON.stringify(version)} must be 1 to ${MAX_CONSENT_VERSION_LENGTH} characters of A-Z a-z 0-9 . _ ~ - (it names the file <lang>/<version>.html)`,
    );
  }
  const dir = resolve(baseDir, block.template_dir);
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (err) {
    throw new ConfigError(`invalid config value at user_consent.template_dir: ${(err as Error).message}`);
  }
  const pages: Record<string, string> = {};
  for (const lang of entries.filter((e) => LANGUAGE.test(e)).sort()) {
    const file = join(dir, lang, `${version}.html`);
    let size: number;
    try {
      const stat = statSync(file);
      if (!stat.isFile()) continue;
      size = stat.size;
    } catch {
      continue; // This language has no page of this version.
    }
    if (size > MAX_POLICY_PAGE_BYTES) {
      throw new ConfigError(
        `invalid config value at user_consent.template_dir: ${file} is over ${MAX_POLICY_PAGE_BYTES} bytes`,
      );
    }
    try {
      pages[lang] = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`invalid config value at user_consent.template_dir: ${(err as Error).message}`);
    }
    if (/\{[{%]/.test(pages[lang]!)) {
      warnings.push(
        `user_consent: ${file} has Jinja markup ({{ … }} or {% … %}); Tessera serves the file as it is, without rendering it`,
      );
    }
  }
  if (pages.en === undefined) {
    throw new ConfigError(
      `invalid config value at user_consent.template_dir: ${join(dir, 'en', `${version}.html`)} is missing (the English page of user_consent.version ${JSON.stringify(version)})`,
    );
  }
  const requireAtRegistration = block.require_at_registration === true;
  if (!requireAtRegistration) {
    warnings.push(
      'user_consent: only require_at_registration: true is acted on (the m.login.terms stage at registration); ' +
        'consent tracking after registration (server notices, blocking events until consent) is not done',
    );
  }
  return {
    version,
    policyName: block.policy_name ?? 'Privacy Policy',
    requireAtRegistration,
    pages,
  };
}
