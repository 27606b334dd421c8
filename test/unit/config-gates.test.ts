import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { policyDir } from '../helpers/terms.js';

// Registration gates read from the config: approval of new accounts (MSC3866) and the terms of
// service (Synapse's user_consent).

function parse(yaml: string) {
  return parseConfig(`server_name: a\n${yaml}\n`, '/srv/tessera');
}

function errorOf(yaml: string): string {
  try {
    parse(yaml);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.message;
  }
  assert.fail(`expected a config error for:\n${yaml}`);
}

describe('config: approval of new accounts (MSC3866)', () => {
  const cases: [string, boolean][] = [
    ['', false],
    ['experimental_features: {msc3866: {enabled: true, require_approval_for_new_accounts: true}}', true],
    // Synapse: `enabled` alone shows and sets approval, but new accounts are approved at creation.
    ['experimental_features: {msc3866: {enabled: true}}', false],
    ['experimental_features: {msc3866: {enabled: true, require_approval_for_new_accounts: false}}', false],
    ['experimental_features: {msc3866: {enabled: false, require_approval_for_new_accounts: true}}', false],
    ['registration_requires_approval: true', true],
    ['registration_requires_approval: false', false],
    // Either one asking is enough.
    [
      'registration_requires_approval: false\nexperimental_features: {msc3866: {enabled: true, require_approval_for_new_accounts: true}}',
      true,
    ],
  ];
  for (const [yaml, required] of cases) {
    it(`${yaml || '(nothing)'} → ${required ? 'required' : 'not required'}`, () => {
      assert.equal(parse(yaml).config.registrationRequiresApproval, required);
    });
  }

  it('is no longer refused, and no warning is given for the keys it reads', () => {
    const { warnings } = parse(
      'experimental_features: {msc3866: {enabled: true, require_approval_for_new_accounts: true}}',
    );
    assert.deepEqual(warnings, []);
  });

  it("Synapse's other experimental features are ignored with a warning", () => {
    const { warnings } = parse('experimental_features: {msc3026_enabled: true}');
    assert.deepEqual(warnings, [
      "config key 'experimental_features.msc3026_enabled' is a Synapse setting Tessera does not use, ignored",
    ]);
  });

  it('a typo inside msc3866 is an error naming the key it was meant to be', () => {
    assert.match(
      errorOf('experimental_features: {msc3866: {enabled: true, require_approval_for_new_acounts: true}}'),
      /^unknown config key 'experimental_features\.msc3866\.require_approval_for_new_acounts' \(did you mean 'require_approval_for_new_accounts'\?\)/,
    );
  });

  it('a value of the wrong type names its key', () => {
    assert.match(errorOf('registration_requires_approval: 1'), /registration_requires_approval/);
    assert.match(
      errorOf('experimental_features: {msc3866: {enabled: "sure"}}'),
      /experimental_features\.msc3866\.enabled/,
    );
  });
});

describe('config: user_consent (terms of service)', () => {
  const policies = policyDir('1.0');
  after(() => policies.cleanup());
  // public_baseurl is set: the policy URLs are built from it (without it, a warning says so).
  const block = (extra: string) =>
    `public_baseurl: https://a/\nuser_consent:\n  version: "1.0"\n  template_dir: ${policies.dir}\n${extra}`;

  it('reads the version, the policy name and every language of the template directory', () => {
    const { config, warnings } = parse(block('  require_at_registration: true\n  policy_name: Our Terms\n'));
    assert.equal(config.userConsent?.version, '1.0');
    assert.equal(config.userConsent?.policyName, 'Our Terms');
    assert.equal(config.userConsent?.requireAtRegistration, true);
    assert.deepEqual(Object.keys(config.userConsent?.pages ?? {}), ['en', 'fr']);
    assert.equal(config.userConsent?.pages.fr, policies.html('fr'));
    assert.deepEqual(warnings, []);
  });

  it('policy_name defaults to "Privacy Policy"; template_dir is relative to the config file', () => {
    const { config } = parseConfig(
      'server_name: a\nuser_consent: {version: "1.0", template_dir: "./", require_at_registration: true}\n',
      policies.dir,
    );
    assert.equal(config.userConsent?.policyName, 'Privacy Policy');
    assert.equal(config.userConsent?.pages.en, policies.html('en'));
  });

  it('without require_at_registration it warns that the rest of user_consent is not done, and starts', () => {
    const { config, warnings } = parse(block('  server_notice_content: {msgtype: m.text, body: "…"}\n'));
    assert.equal(config.userConsent?.requireAtRegistration, false);
    assert.deepEqual(warnings, [
      "config key 'user_consent.server_notice_content' is a Synapse setting Tessera does not use, ignored",
      'user_consent: only require_at_registration: true is acted on (the m.login.terms stage at registration); consent tracking after registration (server notices, blocking events until consent) is not done',
    ]);
  });

  it('a missing English page stops start-up naming the key and the file', () => {
    assert.match(
      errorOf(`user_consent: {version: "2.0", template_dir: ${policies.dir}}`),
      new RegExp(
        `^invalid config value at user_consent\\.template_dir: ${join(policies.dir, 'en', '2.0.html')} is missing`,
      ),
    );
    const frOnly = policyDir('1.0', ['fr']);
    try {
      assert.match(
        errorOf(`user_consent: {version: "1.0", template_dir: ${frOnly.dir}}`),
        /^invalid config value at user_consent\.template_dir: .*\/en\/1\.0\.html is missing/,
      );
    } finally {
      frOnly.cleanup();
    }
  });

  it('a missing directory, a bad version or a missing key is an error naming the key', () => {
    assert.match(
      errorOf('user_consent: {version: "1.0", template_dir: /nonexistent/terms}'),
      /^invalid config value at user_consent\.template_dir: ENOENT/,
    );
    assert.match(
      errorOf(`user_consent: {version: "../1.0", template_dir: ${policies.dir}}`),
      /^invalid config value at user_consent\.version: /,
    );
    // YAML reads 1.0 as a number, which Synapse would print as "1.0" and JavaScript as "1".
    assert.match(errorOf(`user_consent: {version: 1.0, template_dir: ${policies.dir}}`), /user_consent\.version/);
    assert.match(errorOf('user_consent: {version: "1.0"}'), /user_consent\.template_dir/);
    assert.match(
      errorOf(`${block('  require_at_registraton: true\n')}`),
      /^unknown config key 'user_consent\.require_at_registraton' \(did you mean 'require_at_registration'\?\)/,
    );
  });

  it('Jinja markup in a page is served as it is, with a warning', () => {
    mkdirSync(join(policies.dir, 'de'));
    writeFileSync(join(policies.dir, 'de', '1.0.html'), '<p>{{ user }}</p>');
    const { warnings } = parse(block('  require_at_registration: true\n'));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /de\/1\.0\.html has Jinja markup/);
  });
});
