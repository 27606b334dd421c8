import type { Rng } from './random.js';

/**
 * The values the fuzz test puts into JSON bodies, path parameters and query strings. Each comes
 * with a short label, so a failure names the class of input that caused it.
 */

/** JSON text inserted verbatim: what JSON.stringify cannot write (1e400, -0, 50,000-deep arrays). */
export class RawJson {
  constructor(readonly text: string) {}
}

export type FuzzValue = null | boolean | number | string | RawJson | FuzzValue[] | { [key: string]: FuzzValue };

export interface Labelled<T> {
  label: string;
  value: T;
}

/** Serialize a fuzz value; RawJson is written as it is. */
export function toJson(value: FuzzValue): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

const LONG_LENGTHS = [3000, 20_000, 500_000] as const;
const longCache = new Map<string, string>();

/** A long string of one kind: localpart-safe letters, any printable text, or with a NUL / lone surrogate. */
export function longString(rng: Rng, length?: number): Labelled<string> {
  const n =
    length ??
    rng.weighted([
      [8, LONG_LENGTHS[0]],
      [4, LONG_LENGTHS[1]],
      [1, LONG_LENGTHS[2]],
    ] as const);
  const kind = rng.pick(['letters', 'printable', 'nul-inside', 'lone-surrogate-end', 'multibyte'] as const);
  const key = `${kind}:${n}`;
  let s = longCache.get(key);
  if (s === undefined) {
    const letters = 'abcdefghijklmnopqrstuvwxyz0123456789';
    switch (kind) {
      case 'letters':
        s = Array.from({ length: n }, (_, i) => letters[(i * 7) % letters.length]).join('');
        break;
      case 'printable':
        s = Array.from({ length: n }, (_, i) => String.fromCharCode(32 + ((i * 31) % 95))).join('');
        break;
      case 'nul-inside':
        s = `${'a'.repeat(Math.floor(n / 2))}\u0000${'b'.repeat(n - Math.floor(n / 2) - 1)}`;
        break;
      case 'lone-surrogate-end':
        s = `${'c'.repeat(n - 1)}\ud800`;
        break;
      case 'multibyte':
        s = '\u00e9\u4e16\u{1f525}'.repeat(Math.ceil(n / 4)).slice(0, n);
        break;
    }
    longCache.set(key, s);
  }
  return { label: `long-string(${n},${kind})`, value: s };
}

/** Short strings that are odd for identifiers, passwords and display names. */
export const ODD_STRINGS: readonly Labelled<string>[] = [
  { label: 'empty-string', value: '' },
  { label: 'space', value: ' ' },
  { label: 'nul', value: 'a\u0000b' },
  { label: 'lone-high-surrogate', value: 'pw\ud800' },
  { label: 'lone-low-surrogate', value: '\udfffx' },
  { label: 'kelvin-sign', value: '\u212aelvin' },
  { label: 'nfd', value: 'cafe\u0301' },
  { label: 'nfc', value: 'caf\u00e9' },
  { label: 'emoji', value: '\u{1f525}' },
  { label: 'full-user-id', value: '@alice:localhost' },
  { label: 'other-server-user-id', value: '@alice:example.org' },
  { label: 'percent-escapes', value: '%FF%00' },
  { label: 'dot-dot', value: '../..' },
  { label: 'newline', value: 'a\nb' },
  { label: 'html', value: '<script>alert(1)</script>' },
  { label: 'sql', value: "' OR 1=1 --" },
  { label: 'bidi-override', value: '\u202eabc' },
  { label: 'zero-width', value: 'a\u200bb' },
  { label: 'bom', value: '\ufeff' },
  { label: 'upper-case', value: 'ALICE' },
  { label: 'numeric', value: '12345' },
  { label: 'padded', value: '  bob  ' },
  { label: 'control-chars', value: '\u0001\u001f\u007f' },
];

/** Scalars of every JSON type, including numbers JSON.stringify cannot write. */
const WRONG_TYPES: readonly Labelled<FuzzValue>[] = [
  { label: 'null', value: null },
  { label: 'true', value: true },
  { label: 'false', value: false },
  { label: 'zero', value: 0 },
  { label: 'minus-zero', value: new RawJson('-0') },
  { label: 'negative', value: -1 },
  { label: 'fraction', value: 1.5 },
  { label: '1e308', value: 1e308 },
  { label: '1e400', value: new RawJson('1e400') },
  { label: '-1e400', value: new RawJson('-1e400') },
  { label: '2^53+1', value: new RawJson('9007199254740993') },
  { label: 'huge-integer', value: new RawJson('123456789012345678901234567890123456789') },
  { label: 'empty-array', value: [] },
  { label: 'empty-object', value: {} },
  { label: 'array-of-mixed', value: [1, 'a', null, { b: [] }] },
  { label: 'object', value: { a: { b: null } } },
  { label: 'proto-key', value: new RawJson('{"__proto__":{"admin":true},"constructor":{"prototype":{}}}') },
];

const DEEP_INNERS = [
  ['nul', '"\\u0000"'],
  ['lone-surrogate', '"\\ud800"'],
  ['number', '1'],
  ['string', '"x"'],
] as const;

/** Nesting far beyond anything legitimate: arrays, objects, or both in turn. */
export function deepValue(rng: Rng, depth?: number): Labelled<RawJson> {
  const d =
    depth ??
    rng.weighted([
      [4, 5000],
      [2, 20_000],
      [1, 50_000],
    ] as const);
  const [innerLabel, inner] = rng.pick(DEEP_INNERS);
  const shape = rng.pick(['array', 'object', 'mixed'] as const);
  let text: string;
  if (shape === 'array') text = '['.repeat(d) + inner + ']'.repeat(d);
  else if (shape === 'object') text = '{"a":'.repeat(d) + inner + '}'.repeat(d);
  else text = '[{"a":'.repeat(d / 2) + inner + '}]'.repeat(d / 2);
  return { label: `deep-${shape}(${d},${innerLabel})`, value: new RawJson(text) };
}

/** Any fuzz value, of every class, with its label. */
export function anyValue(rng: Rng): Labelled<FuzzValue> {
  return rng.weighted<() => Labelled<FuzzValue>>([
    [4, () => rng.pick(ODD_STRINGS)],
    [4, () => longString(rng)],
    [4, () => rng.pick(WRONG_TYPES)],
    [3, () => deepValue(rng)],
  ])();
}

/** Path parameter values, already percent-encoded as they appear on the wire. */
export function pathParam(rng: Rng): Labelled<string> {
  return rng.weighted<() => Labelled<string>>([
    [
      6,
      () =>
        rng.pick([
          { label: 'param-unknown', value: 'NOPE' },
          { label: 'param-%FF', value: '%FF' },
          { label: 'param-%00', value: 'a%00b' },
          { label: 'param-dot-dot', value: '..' },
          { label: 'param-encoded-dot-dot', value: '%2e%2e' },
          { label: 'param-encoded-slash', value: 'a%2Fb' },
          { label: 'param-encoded-surrogate', value: '%ED%A0%80' },
          { label: 'param-truncated-utf8', value: '%C3' },
          { label: 'param-utf8', value: '%E2%9C%93' },
          { label: 'param-space', value: 'a%20b' },
          { label: 'param-percent-alone', value: '%' },
          { label: 'param-at', value: '@alice:localhost' },
          { label: 'param-101', value: 'D'.repeat(101) },
        ]),
    ],
    [2, () => ({ label: 'param-long-3000', value: 'D'.repeat(3000) })],
    [1, () => ({ label: 'param-long-20000', value: 'D'.repeat(20_000) })],
  ])();
}

/** A query parameter value, percent-encoded: odd short ones and long ones. */
export function queryValue(rng: Rng): Labelled<string> {
  if (rng.chance(0.3)) {
    const n = rng.pick([3000, 20_000]);
    return { label: `query-long-${n}`, value: 'q'.repeat(n) };
  }
  return rng.pick([
    { label: 'query-empty', value: '' },
    { label: 'query-%FF', value: '%FF' },
    { label: 'query-%00', value: 'a%00' },
    { label: 'query-encoded-surrogate', value: '%ED%A0%80' },
    { label: 'query-percent-alone', value: '%' },
    { label: 'query-plus', value: 'a+b' },
    { label: 'query-utf8', value: '%E2%9C%93' },
    { label: 'query-guest', value: 'guest' },
    { label: 'query-user', value: 'user' },
    { label: 'query-admin', value: 'admin' },
    { label: 'query-upper', value: 'GUEST' },
  ]);
}
