import { MatrixError } from '../errors.js';
import type { Requester, TokenService } from '../service/tokens.js';

/**
 * The access token of a request: `Authorization: Bearer …`, or the deprecated but still
 * permitted `?access_token=` query parameter (matrix-nio sends it).
 */
export function extractToken(authorization: string | undefined, query: unknown): string | null {
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match ? match[1]! : null;
  }
  const q = (query as Record<string, unknown> | null)?.access_token;
  return typeof q === 'string' && q.length > 0 ? q : null;
}

/** Resolve the requester, or throw 401 M_MISSING_TOKEN / M_UNKNOWN_TOKEN (spec: "Client Authentication"). */
export async function requireRequester(tokens: TokenService, token: string | null): Promise<Requester> {
  if (token === null) throw new MatrixError('M_MISSING_TOKEN', 'Missing access token');
  const requester = await tokens.validate(token);
  if (requester === null) {
    throw new MatrixError('M_UNKNOWN_TOKEN', 'Unknown access token', { soft_logout: false });
  }
  return requester;
}
