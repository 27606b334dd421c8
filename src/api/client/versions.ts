import { clientPaths, defineRoute, type Route } from '../route.js';

/** Spec versions whose registration, login and account endpoints Tessera serves. */
const VERSIONS = [
  'r0.0.1',
  'r0.1.0',
  'r0.2.0',
  'r0.3.0',
  'r0.4.0',
  'r0.5.0',
  'r0.6.0',
  'r0.6.1',
  'v1.1',
  'v1.2',
  'v1.3',
  'v1.4',
  'v1.5',
  'v1.6',
  'v1.7',
  'v1.8',
  'v1.9',
  'v1.10',
  'v1.11',
  'v1.12',
];

export const versionsRoutes: Route[] = [
  // GET /_matrix/client/versions
  defineRoute({ method: 'GET', paths: clientPaths('/versions', 'unversioned'), auth: 'none' }, async () => ({
    versions: VERSIONS,
    unstable_features: {},
  })),
];
