import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_USER_ID_LENGTH } from '../../src/limits.js';
import {
  asciiLowerCase,
  isNumericLocalpart,
  isServerName,
  LOCALPART_PROBLEM_TEXT,
  localpartOf,
  localpartProblem,
  userId,
} from '../../src/util/matrix-id.js';
import { BAD_CHARACTER_USERNAMES } from '../helpers/usernames.js';

/**
 * The test vectors of the user-id grammar ("v3 result"): registration lower-cases A-Z of the
 * username (Synapse) and then applies the grammar and Synapse's policies.
 */
function register(username: string, server = 'localhost'): string {
  const localpart = asciiLowerCase(username);
  const problem = localpartProblem(localpart, server);
  return problem === null ? userId(localpart, server) : `M_INVALID_USERNAME(${problem})`;
}

describe('user-id grammar (spec "User Identifiers")', () => {
  const accepted: [string, string][] = [
    ['alice', '@alice:localhost'],
    ['Alice', '@alice:localhost'],
    ['a.b_c-d/e', '@a.b_c-d/e:localhost'],
    ['a=b', '@a=b:localhost'],
    ['a+b', '@a+b:localhost'],
    ['x1', '@x1:localhost'],
    ['1a', '@1a:localhost'],
  ];
  for (const [input, expected] of accepted) {
    it(`accepts ${JSON.stringify(input)} as ${expected}`, () => assert.equal(register(input), expected));
  }

  const rejected: [string, string][] = [
    ['_bot', 'underscore'],
    ['1234', 'numeric'],
    ['', 'empty'],
    ...[...BAD_CHARACTER_USERNAMES, 'alice\n', 'a\u0000b', 'a#b', 'a~b', '\u0130nge'].map((s): [string, string] => [
      s,
      'characters',
    ]),
  ];
  for (const [input, problem] of rejected) {
    it(`rejects ${JSON.stringify(input)} (${problem})`, () =>
      assert.equal(register(input), `M_INVALID_USERNAME(${problem})`));
  }

  it('accepts a localpart making the id exactly 255 characters and rejects one more', () => {
    const longest = 'a'.repeat(244);
    assert.equal(userId(longest, 'localhost').length, MAX_USER_ID_LENGTH);
    assert.equal(register(longest), `@${longest}:localhost`);
    assert.equal(register('a'.repeat(245)), 'M_INVALID_USERNAME(too_long)');
  });

  it('counts the server name in the limit (spec "User Identifiers")', () => {
    assert.equal(localpartProblem('a'.repeat(250), 'hs1'), null);
    assert.equal(localpartProblem('a'.repeat(251), 'hs1'), 'too_long');
    assert.equal(localpartProblem('a'.repeat(239), 'localhost:8008'), null);
    assert.equal(localpartProblem('a'.repeat(240), 'localhost:8008'), 'too_long');
  });

  it('does not lower-case by itself: upper case is a character problem', () => {
    assert.equal(localpartProblem('Alice', 'localhost'), 'characters');
  });

  it('has a message for every problem', () => {
    for (const p of ['empty', 'characters', 'underscore', 'numeric', 'too_long'] as const) {
      assert.ok(LOCALPART_PROBLEM_TEXT[p].length > 0);
    }
    assert.match(LOCALPART_PROBLEM_TEXT.too_long, /255/);
  });
});

describe('asciiLowerCase', () => {
  it('folds only A-Z', () => {
    assert.equal(asciiLowerCase('AliCE-Z_09'), 'alice-z_09');
    assert.equal(asciiLowerCase('\u212Aelvin'), '\u212Aelvin');
    assert.equal(asciiLowerCase('\u0130\u00C9'), '\u0130\u00C9');
  });
});

describe('localpartOf', () => {
  it('takes a bare localpart as is', () => assert.equal(localpartOf('alice', 'localhost'), 'alice'));
  it('strips a full id of this server', () => assert.equal(localpartOf('@alice:localhost', 'localhost'), 'alice'));
  it('handles server names with a port', () => assert.equal(localpartOf('@bob:hs:8448', 'hs:8448'), 'bob'));
  it('refuses a full id of another server', () => assert.equal(localpartOf('@alice:elsewhere', 'localhost'), null));
  it('refuses a server name that only ends the same way', () =>
    assert.equal(localpartOf('@alice:notlocalhost', 'localhost'), null));
  it('gives the empty localpart of `@:server` for the grammar to reject', () =>
    assert.equal(localpartOf('@:localhost', 'localhost'), ''));
});

describe('isNumericLocalpart', () => {
  it('is true only for all digits', () => {
    assert.equal(isNumericLocalpart('0'), true);
    assert.equal(isNumericLocalpart('12345'), true);
    assert.equal(isNumericLocalpart('123a'), false);
    assert.equal(isNumericLocalpart(''), false);
  });
});

describe('isServerName (spec appendices, "Server Name")', () => {
  it('accepts DNS names, IPv4, bracketed IPv6, each with an optional port', () => {
    for (const name of [
      'localhost',
      'example.org',
      'matrix.example.org:8448',
      '1.2.3.4',
      '1.2.3.4:1',
      '[::1]',
      '[1234:5678::abcd]:443',
      'a-b.c',
    ]) {
      assert.equal(isServerName(name), true, name);
    }
  });
  it('refuses what is not a server name', () => {
    for (const name of [
      '',
      'bad name',
      'a..b',
      '.a',
      'a.',
      'ex_ample.org',
      'a:0',
      'a:65536',
      'a:',
      '::1',
      '[::1',
      `${'a'.repeat(64)}.org`,
      'a'.repeat(256),
      'é.org',
    ]) {
      assert.equal(isServerName(name), false, name);
    }
  });
});
