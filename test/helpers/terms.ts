import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A `user_consent.template_dir` with `<lang>/<version>.html` pages, and how to delete it. */
export interface PolicyDir {
  dir: string;
  /** The HTML written for `lang`. */
  html(lang: string): string;
  cleanup(): void;
}

export function policyDir(version: string, langs: readonly string[] = ['en', 'fr']): PolicyDir {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-terms-'));
  const html = (lang: string) =>
    `<!DOCTYPE html><html lang="${lang}"><head><title>Terms ${version}</title></head><body><h1>Terms of ${lang}, version ${version}</h1></body></html>\n`;
  for (const lang of langs) {
    mkdirSync(join(dir, lang));
    writeFileSync(join(dir, lang, `${version}.html`), html(lang));
  }
  return { dir, html, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The `user_consent` block (YAML form) for a test server. */
export function consentConfig(dir: string, version = '1.0', extra: Record<string, unknown> = {}) {
  return {
    user_consent: {
      version,
      template_dir: dir,
      require_at_registration: true,
      policy_name: 'Terms of Service',
      ...extra,
    },
  };
}
