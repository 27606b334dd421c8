import { defineRoute, type Route, reply } from './route.js';

/**
 * `GET /health` (Synapse's path, outside the Matrix API): 200 `OK` when the database answers,
 * 503 otherwise, as plain text for load balancers.
 */
export const healthRoutes: Route[] = [
  defineRoute({ method: 'GET', paths: ['/health'], auth: 'none' }, async ({ services }) =>
    (await services.health.healthy())
      ? reply(200, 'OK', { contentType: 'text/plain; charset=utf-8' })
      : reply(503, 'Database unavailable', { contentType: 'text/plain; charset=utf-8' }),
  ),
];
