import type { Rng } from './random.js';
import { KNOWN_FIELDS } from './templates.js';
import { anyValue, deepValue, type FuzzValue, type Labelled, longString, RawJson, toJson } from './values.js';

/**
 * Turn a valid-looking body into a fuzzed one: change, drop or add fields (also inside `auth`
 * and `identifier`), or replace the whole body with something that is not a JSON object at all.
 */

type JsonObject = { [key: string]: FuzzValue };

function isObject(v: FuzzValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof RawJson);
}

/** Every object in the body with its dotted path ('' for the body itself). */
function objectsIn(body: JsonObject, path = ''): [string, JsonObject][] {
  const out: [string, JsonObject][] = [[path, body]];
  for (const [k, v] of Object.entries(body)) {
    if (isObject(v)) out.push(...objectsIn(v, path === '' ? k : `${path}.${k}`));
  }
  return out;
}

const EXTRA_KEYS: readonly Labelled<string>[] = [
  { label: 'extra-key', value: 'unexpected' },
  { label: 'long-key', value: 'k'.repeat(3000) },
  { label: 'nul-key', value: 'a\u0000b' },
  { label: 'lone-surrogate-key', value: '\ud800' },
  { label: 'empty-key', value: '' },
];

/** One mutation of `body` in place; returns its label. */
function mutateOnce(rng: Rng, body: JsonObject): string {
  const [path, target] = rng.pick(objectsIn(body));
  const at = (key: string) => (path === '' ? key : `${path}.${key}`);
  const existing = Object.keys(target);
  const op = rng.weighted([
    [6, 'set'],
    [2, 'delete'],
    [1, 'extra'],
    [1, 'long-list'],
  ] as const);
  if (op === 'delete' && existing.length > 0) {
    const key = rng.pick(existing);
    delete target[key];
    return `-${at(key)}`;
  }
  if (op === 'extra') {
    const key = rng.pick(EXTRA_KEYS);
    const v = anyValue(rng);
    target[key.value] = v.value;
    return `${key.label}=${v.label}`;
  }
  if (op === 'long-list') {
    const key = existing.includes('devices') ? 'devices' : rng.pick(existing.length > 0 ? existing : KNOWN_FIELDS);
    const n = rng.pick([1000, 20_000]);
    target[key] = Array.from({ length: n }, (_, i) => `D${i}`);
    return `${at(key)}=list(${n})`;
  }
  const key = rng.chance(0.7) && existing.length > 0 ? rng.pick(existing) : rng.pick(KNOWN_FIELDS);
  const v = anyValue(rng);
  target[key] = v.value;
  return `${at(key)}=${v.label}`;
}

/** Mutate a copy of `template`: 0 to 3 changes (none keeps the valid-looking request). */
export function mutateBody(rng: Rng, template: JsonObject): Labelled<JsonObject> {
  const body = structuredCloneFuzz(template);
  const n = rng.weighted([
    [2, 0],
    [5, 1],
    [2, 2],
    [1, 3],
  ] as const);
  const labels: string[] = [];
  for (let i = 0; i < n; i++) labels.push(mutateOnce(rng, body));
  return { label: labels.length > 0 ? labels.join(' ') : 'valid-looking', value: body };
}

function structuredCloneFuzz<T extends FuzzValue>(v: T): T {
  if (v instanceof RawJson) return v;
  if (Array.isArray(v)) return v.map(structuredCloneFuzz) as T;
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, structuredCloneFuzz(x)])) as T;
  return v;
}

const utf8 = (s: string) => Buffer.from(s, 'utf8');

/** A whole body that is not a valid-looking JSON object; undefined means no body at all. */
export function wholeBody(rng: Rng, template: JsonObject): Labelled<Buffer | undefined> {
  const json = toJson(template);
  const make = rng.pick<() => Labelled<Buffer | undefined>>([
    () => ({ label: 'no-body', value: undefined }),
    () => ({ label: 'empty-body', value: Buffer.alloc(0) }),
    () => ({ label: 'not-json', value: utf8('hello') }),
    () => ({ label: 'truncated-json', value: utf8(json.slice(0, -1)) }),
    () => ({ label: 'trailing-garbage', value: utf8(`${json}x`) }),
    () => {
      const s = rng.pick(['null', 'true', '1', '"string"', '-0', '1e400']);
      return { label: `json-scalar(${s})`, value: utf8(s) };
    },
    () => ({ label: 'top-level-array', value: utf8(`[${json}]`) }),
    () => ({
      label: 'invalid-utf8',
      value: Buffer.concat([utf8('{"password":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), utf8('"}')]),
    }),
    () => ({
      label: 'utf8-encoded-surrogate',
      value: Buffer.concat([utf8('{"user":"'), Buffer.from([0xed, 0xa0, 0x80]), utf8('"}')]),
    }),
    () => ({ label: 'bom-prefixed', value: utf8(`\ufeff${json}`) }),
    () => ({ label: 'utf16le', value: Buffer.from(json, 'utf16le') }),
    () => ({ label: 'raw-nul-byte', value: utf8('{"type":"a\u0000b"}') }),
    () => ({ label: 'nul-escape-key', value: utf8('{"\\u0000":1}') }),
    () => ({ label: 'duplicate-keys', value: utf8('{"type":"m.login.password","type":5,"auth":{},"auth":null}') }),
    () => {
      const d = deepValue(rng);
      return { label: `top-level-${d.label}`, value: utf8(d.value.text) };
    },
    () => {
      const d = deepValue(rng);
      return { label: `every-field-${d.label}`, value: utf8(everyField(template, d.value)) };
    },
    () => {
      const s = longString(rng);
      return { label: `every-field-${s.label}`, value: utf8(everyField(template, s.value)) };
    },
    () => ({ label: 'over-body-limit', value: utf8(`{"a":"${'x'.repeat(1_200_000)}"}`) }),
  ]);
  return make();
}

/** The template with every top-level field (and those of its objects) set to `value`. */
function everyField(template: JsonObject, value: FuzzValue): string {
  const replace = (o: JsonObject): JsonObject =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, isObject(v) ? replace(v) : value]));
  const body = Object.keys(template).length > 0 ? template : { user: '', password: '' };
  return toJson(replace(body));
}

/** A Content-Type header value (undefined: none). Tessera reads every body as JSON. */
export function contentType(rng: Rng): string | undefined {
  if (rng.chance(0.75)) return 'application/json';
  return rng.pick([
    undefined,
    'text/plain',
    'garbage',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/json; charset=utf-16',
    'application/json; charset=latin1',
    '',
    ';;;',
    'a/b/c',
    'application/json, text/plain',
  ]);
}
