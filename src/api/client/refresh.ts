import { Type } from 'typebox';
import { clientPaths, defineRoute, type Route } from '../route.js';

const RefreshBody = Type.Object({ refresh_token: Type.String() });

/** Refresh tokens (spec v1.3, refresh.yaml). */
export const refreshRoutes: Route[] = [
  // POST /_matrix/client/v3/refresh
  // No access token: the refresh token is the credential (spec). The spec defines only v3;
  // Synapse's servlet also answers under r0 (client_patterns' default), and so do we.
  defineRoute(
    { method: 'POST', paths: clientPaths('/refresh', 'v3', 'r0'), auth: 'none', body: RefreshBody },
    async ({ body, services }) => {
      const r = await services.sessions.refresh(body.refresh_token);
      return {
        access_token: r.accessToken,
        refresh_token: r.refreshToken,
        ...(r.expiresInMs !== null && { expires_in_ms: r.expiresInMs }),
      };
    },
  ),
];
