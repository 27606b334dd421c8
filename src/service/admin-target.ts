import { MatrixError } from '../errors.js';
import type { UserRow } from '../storage/repos/users.js';
import type { Storage } from '../storage/storage.js';
import type { Requester } from './tokens.js';

/**
 * The `<user_id>` of an admin API path, read as Synapse reads it (`UserID.from_string`): an
 * `@`, a localpart, a `:` and a domain, else 400 M_INVALID_PARAM. Only accounts of this
 * server can be managed; each endpoint names that in its own words (`notLocal`, Synapse's
 * message, errcode M_UNKNOWN).
 */
export function parseUserId(value: string): { localpart: string; domain: string } {
  if (value.length < 2 || !value.startsWith('@')) {
    throw new MatrixError('M_INVALID_PARAM', "Expected UserID string to start with '@'");
  }
  const colon = value.indexOf(':');
  if (colon < 0) throw new MatrixError('M_INVALID_PARAM', "Expected UserID of the form '@localname:domain'");
  return { localpart: value.slice(1, colon), domain: value.slice(colon + 1) };
}

/** `userId` when it is a well-formed id of this server; else the 400 of `parseUserId` or `notLocal`. */
export function localUserId(userId: string, serverName: string, notLocal: string): string {
  if (parseUserId(userId).domain !== serverName) throw new MatrixError('M_UNKNOWN', notLocal);
  return userId;
}

/**
 * The account a local `userId` names, found by its exact id (as Synapse's admin API looks it
 * up), or 404 M_NOT_FOUND `notFound`.
 */
export async function existingLocalUser(
  storage: Storage,
  serverName: string,
  userId: string,
  messages: { notLocal: string; notFound?: string },
): Promise<UserRow> {
  localUserId(userId, serverName, messages.notLocal);
  const row = await storage.users.findByUserId(userId);
  if (row === null) throw new MatrixError('M_NOT_FOUND', messages.notFound ?? 'User not found');
  return row;
}

/**
 * Who acts in the `tessera users` commands: the operator, holding the config and so the
 * database, not an account. Its empty user id is nobody's, so the rules about an admin's own
 * account (no demoting oneself, keeping the calling device on a password reset) never apply.
 */
export const OPERATOR: Requester = { userId: '', deviceId: '', isGuest: false, isAdmin: true, tokenHash: '' };
