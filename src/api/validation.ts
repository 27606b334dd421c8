import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { MatrixError } from '../errors.js';

/** Where a value being validated came from: decides the errcode and the wording. */
export type ValidationTarget = 'body' | 'query';

/**
 * A compiled validator for one route's body or query schema (TypeBox's JIT compiler: plain
 * JSON Schema checks, no type coercion, so `{"type": 5}` fails rather than becoming "5").
 * Compiled on first use, not at start: a server answers its first request sooner, and routes
 * nobody calls cost nothing.
 */
export function validator(schema: TSchema, target: ValidationTarget): (value: unknown) => void {
  let compiled: ReturnType<typeof Compile> | null = null;
  return (value) => {
    compiled ??= Compile(schema);
    if (compiled.Check(value)) return;
    const first = compiled.Errors(value)[0];
    throw validationError(first, target);
  };
}

interface FirstError {
  keyword: string;
  instancePath: string;
  params: unknown;
  message: string;
}

/**
 * The first failure as a Matrix error: a missing key is M_MISSING_PARAM, a body that is not an
 * object M_BAD_JSON "Content must be a JSON object.", any other body failure M_BAD_JSON and a
 * query failure M_INVALID_PARAM, naming the key (`auth.type must be string`).
 */
function validationError(first: FirstError | undefined, target: ValidationTarget): MatrixError {
  const where = target === 'query' ? 'query parameter' : 'JSON key';
  const errcode = target === 'query' ? 'M_INVALID_PARAM' : 'M_BAD_JSON';
  if (first === undefined) return new MatrixError(errcode, `${where} is invalid`);
  if (first.keyword === 'required') {
    const missing = (first.params as { requiredProperties?: unknown[] }).requiredProperties?.[0];
    return new MatrixError('M_MISSING_PARAM', `Missing ${where}: ${String(missing ?? '')}`);
  }
  const path = first.instancePath.replace(/^\//, '').replaceAll('/', '.');
  if (path === '' && first.keyword === 'type' && target === 'body') {
    return new MatrixError('M_BAD_JSON', 'Content must be a JSON object.');
  }
  return new MatrixError(errcode, `${path || where} ${first.message}`);
}
