import { unknownKeys } from './diagnostics.js';
import { IGNORED_SYNAPSE_KEYS, REFUSED_SETTINGS } from './synapse-keys.js';

/**
 * What the config's keys mean beyond its schema: settings Tessera refuses (they would fail
 * open), Synapse keys it ignores on purpose, and unknown keys. An unknown key close to a known
 * one ("did you mean …?"), or any unknown key inside a block Tessera reads, is an error: the
 * operator meant a setting, and running without it would silently ignore what they asked for.
 */
export interface KeyCheck {
  /** One line each; any of them stops start-up. */
  errors: string[];
  warnings: string[];
}

/** Keys refused only for some values: with a harmless value they are Synapse keys Tessera ignores. */
const REFUSABLE = new Set(REFUSED_SETTINGS.map((r) => r.key));

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
}

export function checkKeys(schema: unknown, raw: Record<string, unknown>): KeyCheck {
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const rule of REFUSED_SETTINGS) {
    const value = valueAt(raw, rule.key);
    if (value !== undefined && rule.asks(value)) errors.push(`config key '${rule.key}' is not supported: ${rule.why}`);
  }
  for (const path of unknownKeys(schema, raw)) {
    const dotted = path.replace(/\[[0-9]+\]/g, '');
    const segments = dotted.split('.');
    const parent = segments.slice(0, -1);
    // A Synapse block Tessera reads only part of (`experimental_features`): its other keys are
    // ignored, but a key inside the part Tessera reads (`…msc3866.enabeld`) is a typo.
    const insideReadPart = parent.length > 1 && keysAt(schema, parent).length > 0;
    const ignoredBlock = IGNORED_SYNAPSE_KEYS.has(segments[0]!) && !insideReadPart;
    if (IGNORED_SYNAPSE_KEYS.has(dotted) || ignoredBlock || REFUSABLE.has(dotted)) {
      warnings.push(`config key '${path}' is a Synapse setting Tessera does not use, ignored`);
      continue;
    }
    const known = [...keysAt(schema, parent), ...ignoredKeysAt(parent)];
    const suggestion = closest(segments.at(-1)!, known);
    const hint = suggestion === null ? '' : ` (did you mean '${suggestion}'?)`;
    const meantTesseraKey = suggestion !== null && keysAt(schema, parent).includes(suggestion);
    if (meantTesseraKey || parent.length > 0) {
      errors.push(`unknown config key '${path}'${hint}: Tessera would run without the setting it was meant to be`);
    } else {
      warnings.push(`config key '${path}' is unknown to Tessera and was ignored${hint}`);
    }
  }
  return { errors, warnings };
}

function valueAt(raw: Record<string, unknown>, dotted: string): unknown {
  let node: unknown = raw;
  for (const segment of dotted.split('.')) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}

/** The keys the schema declares at a dotted position (arrays are looked through). */
function keysAt(schema: unknown, path: string[]): string[] {
  let node = schema as SchemaNode | undefined;
  for (const segment of path) {
    while (node?.items !== undefined) node = node.items;
    node = node?.properties?.[segment];
  }
  while (node?.items !== undefined) node = node.items;
  return Object.keys(node?.properties ?? {});
}

function ignoredKeysAt(path: string[]): string[] {
  const prefix = path.length === 0 ? '' : `${path.join('.')}.`;
  return [...IGNORED_SYNAPSE_KEYS]
    .filter((k) => k.startsWith(prefix) && !k.slice(prefix.length).includes('.'))
    .map((k) => k.slice(prefix.length));
}

/** The known key nearest to `key` when it is near enough to be a typo of it, else null. */
export function closest(key: string, known: readonly string[]): string | null {
  const limit = Math.max(2, Math.floor(key.length / 3));
  let best: string | null = null;
  let bestDistance = limit + 1;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Edits (insert, delete, substitute, swap two neighbours) turning `a` into `b`. */
export function editDistance(a: string, b: string): number {
  // Three rows of the optimal-string-alignment table are enough.
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      row.push(d);
    }
    before = previous;
    previous = row;
  }
  return previous[b.length]!;
}
