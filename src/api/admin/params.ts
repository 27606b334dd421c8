import { Type } from 'typebox';
import { MatrixError } from '../../errors.js';

/**
 * Reading the admin API's bodies and query strings by hand, in Synapse's order and with its
 * messages (synapse/http/servlet.py, synapse/rest/admin/). Bodies are any JSON object at the
 * schema level; query values arrive as strings (nothing is coerced; api/validation.ts), or as a list
 * when a name is repeated, of which the first counts (as `parse_string` does).
 */

/** Any JSON object; its fields are checked by the helpers below. */
export const AnyObject = Type.Object({});

/**
 * A query string with named, documented parameters (for the OpenAPI document); declaring it
 * also makes the edge refuse NUL and lone surrogates in it (json-body.ts). Values stay
 * strings (or repeated: arrays of strings) and are parsed by the helpers below, which answer
 * Synapse's errors; unnamed parameters are allowed, as Synapse ignores them.
 */
export function documentedQuery(params: Record<string, string>) {
  return Type.Object(
    Object.fromEntries(
      Object.entries(params).map(([name, description]) => [
        name,
        Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())], { description })),
      ]),
    ),
  );
}

export type Body = Record<string, unknown>;
export type Query = Record<string, string | string[] | undefined>;

/** An optional boolean body field: absent or null → `fallback`; another type → 400 `message`. */
export function optionalBoolean(
  body: Body,
  key: string,
  message: string,
  fallback: boolean | undefined,
  errcode: 'M_INVALID_PARAM' | 'M_BAD_JSON' = 'M_INVALID_PARAM',
): boolean | undefined {
  const value = body[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new MatrixError(errcode, message);
  return value;
}

/** An optional string body field: absent or null → undefined; another type → 400 `message`. */
export function optionalString(body: Body, key: string, message: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new MatrixError('M_INVALID_PARAM', message);
  return value;
}

/** Synapse's `assert_params_in_dict`: 400 M_MISSING_PARAM naming the absent keys. */
export function requireKeys(body: Body, keys: readonly string[]): void {
  const absent = keys.filter((k) => !(k in body));
  if (absent.length > 0) {
    throw new MatrixError('M_MISSING_PARAM', `Missing params: [${absent.map((k) => `'${k}'`).join(', ')}]`);
  }
}

function first(query: Query, name: string): string | undefined {
  const value = query[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Every value of a repeated query parameter (`not_user_type=bot&not_user_type=`). */
export function queryStrings(query: Query, name: string): string[] {
  const value = query[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

export function queryString(query: Query, name: string): string | null {
  return first(query, name) ?? null;
}

/** A required string query parameter (Synapse's `parse_string(…, required=True)`). */
export function requiredQueryString(query: Query, name: string): string {
  const value = first(query, name);
  if (value === undefined) throw new MatrixError('M_MISSING_PARAM', `Missing string query parameter '${name}'`);
  return value;
}

/** A non-negative integer query parameter; digits only, at most 15 of them (a safe integer). */
export function queryNonNegativeInteger(query: Query, name: string, fallback: number): number {
  const value = first(query, name);
  if (value === undefined) return fallback;
  if (/^-[0-9]+$/.test(value)) {
    throw new MatrixError(
      'M_INVALID_PARAM',
      `Query parameter ${name} must be a string representing a positive integer.`,
    );
  }
  if (!/^[0-9]{1,15}$/.test(value)) {
    throw new MatrixError('M_INVALID_PARAM', `Query parameter '${name}' must be an integer.`);
  }
  return Number(value);
}

/** `true` or `false` (Synapse's `parse_boolean`); absent → `fallback`. */
export function queryBoolean<F extends boolean | null>(query: Query, name: string, fallback: F): boolean | F {
  const value = first(query, name);
  if (value === undefined) return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new MatrixError('M_INVALID_PARAM', `Boolean query parameter '${name}' must be one of ['true', 'false']`);
}

/** One of `allowed` (Synapse's `parse_string(…, allowed_values=…)`); absent → `fallback`. */
export function queryChoice<T extends string>(query: Query, name: string, allowed: readonly T[], fallback: T): T {
  const value = first(query, name);
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new MatrixError(
      'M_INVALID_PARAM',
      `Query parameter '${name}' must be one of [${allowed.map((v) => `'${v}'`).join(', ')}]`,
    );
  }
  return value as T;
}
