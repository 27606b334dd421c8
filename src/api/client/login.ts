import { Type } from 'typebox';
import { clientPaths, defineRoute, type Route } from '../route.js';

/**
 * The JSON types of a login body; which keys a login type needs is checked by the service
 * (a missing `password` is 400 M_MISSING_PARAM, `password: 5` is 400 M_BAD_JSON). `device_id`
 * and the display name may be null, as Synapse allows.
 */
const LoginBody = Type.Object({
  type: Type.String(),
  identifier: Type.Optional(Type.Unknown()),
  user: Type.Optional(Type.Unknown()),
  password: Type.Optional(Type.String()),
  device_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  initial_device_display_name: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  refresh_token: Type.Optional(Type.Boolean()),
});

/** Login (spec login.yaml), served also under r0 and the 2014 client API v1 (api/v1). */
export const loginRoutes: Route[] = [
  // GET /_matrix/client/v3/login
  defineRoute(
    { method: 'GET', paths: clientPaths('/login', 'v3', 'r0', 'api/v1'), auth: 'none' },
    async ({ services }) => ({
      flows: services.login.flows(),
    }),
  ),

  // POST /_matrix/client/v3/login
  defineRoute(
    { method: 'POST', paths: clientPaths('/login', 'v3', 'r0', 'api/v1'), auth: 'none', body: LoginBody },
    async ({ body, services, remoteIp }) => {
      const r = await services.login.login(body, remoteIp);
      return {
        user_id: r.userId,
        access_token: r.accessToken,
        device_id: r.deviceId,
        home_server: r.homeServer,
        ...(r.refreshToken !== null && { refresh_token: r.refreshToken }),
        ...(r.expiresInMs !== null && { expires_in_ms: r.expiresInMs }),
      };
    },
  ),
];
