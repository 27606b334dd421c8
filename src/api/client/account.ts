import { clientPaths, defineRoute, type Route } from '../route.js';

export const accountRoutes: Route[] = [
  // GET /_matrix/client/v3/account/whoami
  // The first authenticated endpoint: proves a token from any registration path is usable.
  defineRoute(
    { method: 'GET', paths: clientPaths('/account/whoami', 'v3', 'r0'), auth: 'required' },
    async ({ requester }) => ({
      user_id: requester.userId,
      device_id: requester.deviceId,
      is_guest: requester.isGuest,
    }),
  ),
];
