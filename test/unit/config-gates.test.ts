import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/load.js';

// Registration gates read from the config: approval of new accounts (MSC3866).

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
