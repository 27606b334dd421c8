import { MatrixError } from '../errors.js';

/**
 * Reading request bodies and parameters: what the edge refuses before any endpoint runs.
 *
 * - Nesting deeper than MAX_JSON_DEPTH is 400 M_BAD_JSON, decided by scanning the text before
 *   it is parsed. No Matrix request body comes close (a UIA `auth` dict is three levels), and
 *   with depth bounded here nothing later (validation, `JSON.stringify` of a stored UIA body)
 *   can be driven into deep recursion by a client.
 * - Strings and keys with NUL, or with unpaired UTF-16 surrogates (`"\ud800"`), are refused:
 *   PostgreSQL text cannot hold NUL, and an unpaired surrogate turns into U+FFFD when encoded
 *   as UTF-8 (storage, hashing), so `"pw\ud800"` and `"pw\udfff"` would be the same password.
 *   Refusing both at the edge keeps SQLite and PostgreSQL alike. No walk over client data recurses.
 */
export const MAX_JSON_DEPTH = 64;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Only these escapes can put NUL or a surrogate into a string (raw ones are not valid UTF-8 JSON). */
const SUSPECT_ESCAPE = /\\u(?:0000|[dD][89a-fA-F])/;

/** Parse a request body as JSON: `undefined` for an empty body, else the value; throws MatrixError. */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new MatrixError('M_NOT_JSON', 'Content not JSON.');
  }
  if (nestingExceeds(text, MAX_JSON_DEPTH)) {
    throw new MatrixError('M_BAD_JSON', `JSON may not be nested more than ${MAX_JSON_DEPTH} levels deep`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new MatrixError('M_NOT_JSON', 'Content not JSON.');
  }
  if (SUSPECT_ESCAPE.test(text)) {
    const problem = findBadString(parsed);
    if (problem !== null) throw new MatrixError('M_BAD_JSON', PROBLEM_MESSAGE[problem]);
  }
  return parsed;
}

/** Path parameters and the query string: the same string rules, as 400 M_INVALID_PARAM. */
export function checkParameters(value: unknown): void {
  const problem = findBadString(value);
  if (problem !== null) throw new MatrixError('M_INVALID_PARAM', PARAM_MESSAGE[problem]);
}

type Problem = 'nul' | 'surrogate';
const PROBLEM_MESSAGE: Record<Problem, string> = {
  nul: 'Strings may not contain NUL characters',
  surrogate: 'Strings may not contain unpaired UTF-16 surrogates',
};
const PARAM_MESSAGE: Record<Problem, string> = {
  nul: 'Parameters may not contain NUL characters',
  surrogate: 'Parameters may not contain unpaired UTF-16 surrogates',
};

/**
 * True when arrays/objects in JSON text nest deeper than `limit`. A linear scan that only
 * tracks whether it is inside a string; on text that is not JSON the answer does not matter,
 * since JSON.parse refuses it next.
 */
export function nestingExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > limit) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return false;
}

const UNPAIRED_SURROGATE = /[\uD800-\uDFFF]/u;

function stringProblem(s: string): Problem | null {
  if (s.includes('\u0000')) return 'nul';
  // With the `u` flag a well-formed pair is one code point, so only unpaired halves match.
  if (UNPAIRED_SURROGATE.test(s)) return 'surrogate';
  return null;
}

/** The first bad string or key anywhere in a JSON-like value, walked with an explicit stack. */
function findBadString(root: unknown): Problem | null {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'string') {
      const p = stringProblem(value);
      if (p !== null) return p;
    } else if (Array.isArray(value)) {
      for (const item of value) stack.push(item);
    } else if (typeof value === 'object' && value !== null) {
      for (const key of Object.keys(value)) {
        const p = stringProblem(key);
        if (p !== null) return p;
        stack.push((value as Record<string, unknown>)[key]);
      }
    }
  }
  return null;
}
