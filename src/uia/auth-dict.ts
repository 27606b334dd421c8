import { MatrixError } from '../errors.js';

/** Who a login names (spec: "Identifier types"): a user, or a third-party identifier. */
export type LoginIdentifier =
  | { type: 'm.id.user'; user: string }
  | { type: 'm.id.thirdparty'; medium: string; address: string };

/**
 * Who a password login or a password UIA stage names (spec: "Identifier types"): an
 * `identifier` of type `m.id.user` or `m.id.thirdparty`, or the deprecated top-level `user`,
 * or top-level `medium` and `address`. Throws 400 for a malformed dict; other identifier types
 * (`m.id.phone`) are 400 M_UNKNOWN.
 */
export function identifierFromAuthDict(dict: Record<string, unknown>): LoginIdentifier {
  const identifier = dict.identifier;
  if (identifier !== undefined) {
    if (typeof identifier !== 'object' || identifier === null || Array.isArray(identifier)) {
      throw new MatrixError('M_BAD_JSON', 'identifier must be an object');
    }
    const id = identifier as Record<string, unknown>;
    if (id.type === undefined) throw new MatrixError('M_MISSING_PARAM', 'Missing JSON keys: identifier.type');
    if (id.type === 'm.id.thirdparty') {
      if (typeof id.medium !== 'string' || typeof id.address !== 'string') {
        throw new MatrixError('M_MISSING_PARAM', 'Missing JSON keys: identifier.medium, identifier.address');
      }
      return { type: 'm.id.thirdparty', medium: id.medium, address: id.address };
    }
    if (id.type !== 'm.id.user') {
      throw new MatrixError('M_UNKNOWN', `Unknown login identifier type: ${String(id.type)}`);
    }
    if (typeof id.user !== 'string') throw new MatrixError('M_MISSING_PARAM', 'Missing JSON keys: identifier.user');
    return { type: 'm.id.user', user: id.user };
  }
  if (dict.user === undefined && dict.medium !== undefined && dict.address !== undefined) {
    if (typeof dict.medium !== 'string' || typeof dict.address !== 'string') {
      throw new MatrixError('M_BAD_JSON', 'medium and address must be strings');
    }
    return { type: 'm.id.thirdparty', medium: dict.medium, address: dict.address };
  }
  if (dict.user === undefined) throw new MatrixError('M_MISSING_PARAM', 'Missing JSON keys: identifier');
  if (typeof dict.user !== 'string') throw new MatrixError('M_BAD_JSON', 'user must be a string');
  return { type: 'm.id.user', user: dict.user };
}

/**
 * The user a password UIA stage names (localpart or full id, as sent). Re-authentication
 * names the token owner by user id only: a third-party identifier is 400 M_UNKNOWN there.
 */
export function userFromAuthDict(dict: Record<string, unknown>): string {
  const id = identifierFromAuthDict(dict);
  if (id.type !== 'm.id.user') throw new MatrixError('M_UNKNOWN', `Unknown login identifier type: ${id.type}`);
  return id.user;
}
