import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PasswordPolicy } from '../../src/config/config.js';
import { MatrixError } from '../../src/errors.js';
import { checkPasswordPolicy, MAX_PASSWORD_LENGTH } from '../../src/service/password-policy.js';

const NONE: PasswordPolicy = {
  minimumLength: 0,
  requireDigit: false,
  requireSymbol: false,
  requireLowercase: false,
  requireUppercase: false,
};

/** The errcode and message checkPasswordPolicy throws, or 'ok'. */
function verdict(password: string, policy: PasswordPolicy | null): string {
  try {
    checkPasswordPolicy(password, policy);
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof MatrixError, String(err));
    assert.equal(err.status, 400);
    return `${err.errcode}: ${err.message}`;
  }
}

describe('password policy (Synapse password_config.policy)', () => {
  it('rejects the empty password even without a policy', () => {
    assert.match(verdict('', null), /^M_WEAK_PASSWORD: .*empty/);
    assert.match(verdict('', NONE), /^M_WEAK_PASSWORD/);
  });

  it('accepts anything non-empty without a policy', () => {
    for (const pw of ['a', ' ', '1', 'ü', '😀']) assert.equal(verdict(pw, null), 'ok');
  });

  it(`rejects passwords longer than ${MAX_PASSWORD_LENGTH} characters`, () => {
    assert.equal(verdict('a'.repeat(MAX_PASSWORD_LENGTH), null), 'ok');
    assert.match(verdict('a'.repeat(MAX_PASSWORD_LENGTH + 1), null), /^M_INVALID_PARAM: .*512/);
  });

  it('enforces minimum_length', () => {
    const p = { ...NONE, minimumLength: 8 };
    assert.match(verdict('1234567', p), /^M_WEAK_PASSWORD: .*at least 8/);
    assert.equal(verdict('12345678', p), 'ok');
  });

  it('counts characters, not UTF-16 units, as Synapse (Python len) does', () => {
    const p = { ...NONE, minimumLength: 4 };
    // Two emoji are four UTF-16 units but two characters.
    assert.match(verdict('😀😀', p), /^M_WEAK_PASSWORD/);
    assert.equal(verdict('😀😀😀😀', p), 'ok');
    assert.equal(verdict('😀'.repeat(MAX_PASSWORD_LENGTH), null), 'ok');
  });

  it('enforces require_digit', () => {
    const p = { ...NONE, requireDigit: true };
    assert.match(verdict('abcdef', p), /^M_WEAK_PASSWORD: .*digit/);
    assert.equal(verdict('abc1ef', p), 'ok');
  });

  it('enforces require_symbol (anything not a-z, A-Z, 0-9)', () => {
    const p = { ...NONE, requireSymbol: true };
    assert.match(verdict('abcDEF123', p), /^M_WEAK_PASSWORD: .*symbol/);
    for (const pw of ['abc!', 'abc def', 'abcé']) assert.equal(verdict(pw, p), 'ok', pw);
  });

  it('enforces require_lowercase and require_uppercase', () => {
    assert.match(verdict('ABC123', { ...NONE, requireLowercase: true }), /^M_WEAK_PASSWORD: .*lowercase/);
    assert.equal(verdict('ABc123', { ...NONE, requireLowercase: true }), 'ok');
    assert.match(verdict('abc123', { ...NONE, requireUppercase: true }), /^M_WEAK_PASSWORD: .*uppercase/);
    assert.equal(verdict('aBc123', { ...NONE, requireUppercase: true }), 'ok');
  });

  it('reports the first broken rule in Synapse order (length, digit, symbol, lower, upper)', () => {
    const all = {
      minimumLength: 10,
      requireDigit: true,
      requireSymbol: true,
      requireLowercase: true,
      requireUppercase: true,
    };
    assert.match(verdict('short', all), /at least 10/);
    assert.match(verdict('longenoughpassword', all), /digit/);
    assert.match(verdict('longenough1password', all), /symbol/);
    assert.match(verdict('LONGENOUGH1!PASSWORD', all), /lowercase/);
    assert.match(verdict('longenough1!password', all), /uppercase/);
    assert.equal(verdict('LongEnough1!Password', all), 'ok');
  });
});
