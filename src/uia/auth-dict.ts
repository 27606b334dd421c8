import { MatrixError } from '../errors.js';

/**
 * Who a password login or a password UIA stage names (spec: "Identifier types"): an
 * `identifier` of type `m.id.user`, or the deprecated top-level `user`.
 * Returns the raw user string (localpart or full id), or throws 400 for a malformed dict.
 */
export function userFromAuthDict(dict: Record<string, unknown>): string {
  const identifier = dict.identifier;
  if (identifier !== undefined) {
    if (typeof identifier !== 'object' || identifier === null || Array.isArray(identifier)) {
      throw new MatrixError('M_BAD_JSON', 'identifier must be an object');
    }
    const id = identifier as Record<string, unknown>;
    if (id.type === undefined) throw new MatrixError('M_MISSING_PARAM', 'Missing JSON keys: identifier.type');
    if (id.type !== 'm.id.user') {
      // Third-party (email, phone) identifiers need 3PID support, which Tessera has not yet.
      throw new MatrixError('M_UNKNOWN', `Unknown login identifier type: ${String(id.type)}`);
    }
    if (typeof id.user !== 'string') throw new MatrixError('M_MISSING_PARAM', 'Missing JSON keys: identifier.user');
    return id.user;
  }
  if (dict.user === undefined) throw new MatrixError('M_MISSING_PARAM', 'Missing JSON keys: identifier');
  if (typeof dict.user !== 'string') throw new MatrixError('M_BAD_JSON', 'user must be a string');
  return dict.user;
}
