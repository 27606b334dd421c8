import { adminPath, clientPaths, defineRoute, type Route } from '../route.js';

type UserParams = { userId: string };

/** Where an account is connected (spec: GET /admin/whois; Synapse's user_admin_api.md). */
export const whoisRoutes: Route[] = [
  // GET /_synapse/admin/v1/whois/<user_id>, GET /_matrix/client/v3/admin/whois/<user_id>
  // - Any user may ask about themselves; about anyone else only a server admin (403), so the
  //   auth mode is 'required' and the service decides (as Synapse does).
  // - `devices` is keyed by device id (spec); each device has one session with its last-seen
  //   connection. `user_agent` is null until devices record it.
  defineRoute<'required', undefined, undefined, UserParams>(
    {
      method: 'GET',
      paths: [adminPath('/v1/whois/:userId'), ...clientPaths('/admin/whois/:userId', 'v3', 'r0')],
      auth: 'required',
    },
    async ({ services, params, requester }) => {
      const devices = await services.adminAccounts.whois(requester, params.userId);
      return {
        user_id: params.userId,
        devices: Object.fromEntries(
          [...devices].map(([deviceId, connections]) => [
            deviceId,
            {
              sessions: [
                {
                  connections: connections.map((c) => ({ ip: c.ip, last_seen: c.lastSeen, user_agent: c.userAgent })),
                },
              ],
            },
          ]),
        ),
      };
    },
  ),
];
