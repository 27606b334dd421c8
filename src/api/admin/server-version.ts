import { TESSERA_VERSION } from '../../util/version.js';
import { adminPath, defineRoute, type Route } from '../route.js';

/** Synapse's docs/admin_api/version_api.md. */
export const serverVersionRoutes: Route[] = [
  // GET /_synapse/admin/v1/server_version
  // - No authentication, as in Synapse (its answer names the software and version only).
  defineRoute({ method: 'GET', paths: [adminPath('/v1/server_version')], auth: 'none' }, () => ({
    server_version: `tessera ${TESSERA_VERSION}`,
  })),
];
