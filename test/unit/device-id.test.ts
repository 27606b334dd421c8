import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codePointLength } from '../../src/limits.js';
import { deviceIdProblem } from '../../src/util/device-id.js';

describe('the device-id rule', () => {
  const accepted = ['A', 'ABCDEFGHIJ', 'x'.repeat(512), '😀'.repeat(512), 'a/b', '%', '...', '.a', 'é', ' ', '\u00a0'];
  for (const id of accepted) {
    it(`accepts ${JSON.stringify(id.slice(0, 12))} (${id.length} UTF-16 units)`, () => {
      assert.equal(deviceIdProblem(id), null);
    });
  }

  const refused = [
    '',
    '.',
    '..',
    'x'.repeat(513),
    '😀'.repeat(513),
    'a\u0000b',
    'a\nb',
    'a\u007f',
    '\u009f',
    'a\ud800',
    '\udfffb',
  ];
  for (const id of refused) {
    it(`refuses ${JSON.stringify(id.slice(0, 12))} (${id.length} UTF-16 units)`, () => {
      assert.equal(typeof deviceIdProblem(id), 'string');
    });
  }
});

describe('codePointLength', () => {
  it('counts code points, not UTF-16 units', () => {
    assert.equal(codePointLength('😀😀', 10), 2);
    assert.equal(codePointLength('abc', 10), 3);
  });
  it('stops counting past the maximum', () => {
    assert.ok(codePointLength('x'.repeat(1_000_000), 100) > 100);
    assert.ok(codePointLength('😀'.repeat(101), 100) > 100);
    assert.equal(codePointLength('😀'.repeat(100), 100), 100);
  });
});
