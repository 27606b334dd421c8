/**
 * User-id grammar (spec appendices, "User Identifiers").
 * New localparts use `a-z 0-9 . _ = - / +` (spec ≥ v1.8, MSC4009), and the whole
 * `@localpart:server` is at most 255 characters.
 */

import { MAX_USER_ID_LENGTH } from '../limits.js';

const NEW_LOCALPART = /^[a-z0-9._=\-/+]+$/;
const ALL_DIGITS = /^[0-9]+$/;

export type LocalpartProblem = 'empty' | 'characters' | 'underscore' | 'numeric' | 'too_long';

/**
 * Why `localpart` may not be registered by a client on `serverName`, or null if it may.
 * Synapse's policies apply on top of the spec grammar (spec "User Identifiers"): no leading `_`
 * (kept for application services) and no all-digit names (kept for generated ids and guests).
 */
export function localpartProblem(localpart: string, serverName: string): LocalpartProblem | null {
  if (localpart.length === 0) return 'empty';
  if (localpart.length > MAX_USER_ID_LENGTH) return 'too_long';
  if (!NEW_LOCALPART.test(localpart)) return 'characters';
  if (localpart.startsWith('_')) return 'underscore';
  if (ALL_DIGITS.test(localpart)) return 'numeric';
  if (userId(localpart, serverName).length > MAX_USER_ID_LENGTH) return 'too_long';
  return null;
}

export const LOCALPART_PROBLEM_TEXT: Record<LocalpartProblem, string> = {
  empty: 'User ID cannot be empty',
  characters: "User ID can only contain characters a-z, 0-9, or '=_-./+'",
  underscore: 'User ID may not begin with _',
  numeric: 'Numeric user IDs are reserved for guest users and generated ids',
  too_long: `User ID may not be longer than ${MAX_USER_ID_LENGTH} characters`,
};

/**
 * Lower-case A-Z only. User ids are ASCII (spec grammar), and `String.prototype.toLowerCase`
 * maps some non-ASCII letters onto ASCII ones (U+212A KELVIN SIGN → `k`, U+0130 → `i̇`): a name
 * must be checked against the grammar as the client sent it, and only then folded, or `\u212Aelvin`
 * would pass as `kelvin`.
 */
export function asciiLowerCase(value: string): string {
  return value.replace(/[A-Z]+/g, (upper) => upper.toLowerCase());
}

export function userId(localpart: string, serverName: string): string {
  return `@${localpart}:${serverName}`;
}

export function isNumericLocalpart(localpart: string): boolean {
  return ALL_DIGITS.test(localpart);
}

/**
 * The localpart a client meant by `user`: a bare localpart, or a full `@user:server` of this
 * server. Null when it names another server or is not a user id at all.
 */
export function localpartOf(user: string, serverName: string): string | null {
  if (!user.startsWith('@')) return user;
  const suffix = `:${serverName}`;
  if (!user.endsWith(suffix)) return null;
  return user.slice(1, -suffix.length);
}

/**
 * Whether `name` is a server name (spec appendices, "Server Name"): a DNS name, an IPv4 address
 * or a bracketed IPv6 address, with an optional port; at most 255 characters.
 */
export function isServerName(name: string): boolean {
  if (name.length === 0 || name.length > 255) return false;
  const m = /^(\[[0-9A-Fa-f:.]{2,45}\]|[0-9A-Za-z.-]{1,255})(?::([0-9]{1,5}))?$/.exec(name);
  if (m === null) return false;
  if (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535)) return false;
  const host = m[1]!;
  if (host.startsWith('[')) return true;
  // DNS labels: 1–63 characters, no empty label (no leading, trailing or doubled dots).
  return host.split('.').every((label) => label.length >= 1 && label.length <= 63);
}
