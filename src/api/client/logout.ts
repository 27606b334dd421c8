import { MatrixError } from '../../errors.js';
import type { Services } from '../../service/index.js';
import type { Requester } from '../../service/tokens.js';
import { extractToken } from '../requester.js';
import { clientPaths, defineRoute, type Route } from '../route.js';

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/**
 * The caller of a logout. Like `auth: 'required'`, but an expired (soft-logged-out) token is
 * accepted: a client must be able to end a session it can no longer refresh (Synapse
 * `test_session_can_hard_logout_after_being_soft_logged_out`).
 */
async function logoutCaller(services: Services, headers: Headers, query: unknown): Promise<Requester> {
  const authorization = typeof headers.authorization === 'string' ? headers.authorization : undefined;
  const token = extractToken(authorization, query);
  if (token === null) throw new MatrixError('M_MISSING_TOKEN', 'Missing access token');
  const requester = await services.tokens.validate(token, { allowExpired: true });
  if (requester === null) throw new MatrixError('M_UNKNOWN_TOKEN', 'Unknown access token', { soft_logout: false });
  return requester;
}

/** Logout (spec logout.yaml). Both accept an empty body; Synapse also serves them under api/v1. */
export const logoutRoutes: Route[] = [
  // POST /_matrix/client/v3/logout
  // Revokes the calling token and deletes its device (and so its other tokens).
  defineRoute(
    { method: 'POST', paths: clientPaths('/logout', 'v3', 'r0', 'api/v1'), auth: 'none', bodyRequired: false },
    async ({ services, headers, query }) => {
      const caller = await logoutCaller(services, headers, query);
      await services.sessions.logout(caller.userId, caller.deviceId);
      return {};
    },
  ),

  // POST /_matrix/client/v3/logout/all
  // Every token and device of the caller's account; no UIA (spec).
  defineRoute(
    { method: 'POST', paths: clientPaths('/logout/all', 'v3', 'r0', 'api/v1'), auth: 'none', bodyRequired: false },
    async ({ services, headers, query }) => {
      const caller = await logoutCaller(services, headers, query);
      await services.sessions.logoutAll(caller.userId);
      return {};
    },
  ),
];
