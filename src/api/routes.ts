import { accountRoutes } from './client/account.js';
import { registerV1Routes } from './client/register-v1.js';
import { versionsRoutes } from './client/versions.js';
import type { Route } from './route.js';

/** Every endpoint Tessera serves; each file declares its routes with all their path aliases. */
export const allRoutes: Route[] = [...versionsRoutes, ...registerV1Routes, ...accountRoutes];
