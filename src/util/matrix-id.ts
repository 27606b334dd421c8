/**
 * User-id grammar (spec appendices, "User Identifiers"; shared/docs/spec-notes.md §2).
 * New localparts use `a-z 0-9 . _ = - / +` (spec ≥ v1.8, MSC4009), and the whole
 * `@localpart:server` is at most 255 characters.
 */

const NEW_LOCALPART = /^[a-z0-9._=\-/+]+$/;
const ALL_DIGITS = /^[0-9]+$/;
export const MAX_USER_ID_LENGTH = 255;

export type LocalpartProblem = 'empty' | 'characters' | 'underscore' | 'numeric' | 'too_long';

/**
 * Why `localpart` may not be registered by a client on `serverName`, or null if it may.
 * Synapse's policies apply on top of the spec grammar (spec-notes §2.7): no leading `_`
 * (kept for application services) and no all-digit names (kept for generated ids and guests).
 */
export function localpartProblem(localpart: string, serverName: string): LocalpartProblem | null {
  if (localpart.length === 0) return 'empty';
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
