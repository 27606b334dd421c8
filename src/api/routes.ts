import { adminDeviceRoutes } from './admin/devices.js';
import { adminRegisterRoutes } from './admin/register.js';
import { adminRegistrationTokenRoutes } from './admin/registration-tokens.js';
import { serverVersionRoutes } from './admin/server-version.js';
import { adminUserAccountRoutes } from './admin/user-account.js';
import { adminUserRoutes } from './admin/users.js';
import { whoisRoutes } from './admin/whois.js';
import { accountRoutes } from './client/account.js';
import { authFallbackRoutes } from './client/auth-fallback.js';
import { consentRoutes } from './client/consent.js';
import { deviceRoutes } from './client/devices.js';
import { loginRoutes } from './client/login.js';
import { logoutRoutes } from './client/logout.js';
import { refreshRoutes } from './client/refresh.js';
import { registerRoutes } from './client/register.js';
import { registerV1Routes } from './client/register-v1.js';
import { registrationTokenValidityRoutes } from './client/registration-token-validity.js';
import { threepidRoutes } from './client/threepids.js';
import { versionsRoutes } from './client/versions.js';
import { healthRoutes } from './health.js';
import { openapiRoutes } from './openapi.js';
import type { Route } from './route.js';

/** Every endpoint Tessera serves; each file declares its routes with all their path aliases. */
export const allRoutes: Route[] = [
  ...versionsRoutes,
  ...registerV1Routes,
  ...registerRoutes,
  ...registrationTokenValidityRoutes,
  ...threepidRoutes,
  ...authFallbackRoutes,
  ...consentRoutes,
  ...accountRoutes,
  ...deviceRoutes,
  ...loginRoutes,
  ...logoutRoutes,
  ...refreshRoutes,
  ...adminRegisterRoutes,
  ...healthRoutes,
  ...serverVersionRoutes,
  ...adminUserRoutes,
  ...adminUserAccountRoutes,
  ...adminDeviceRoutes,
  ...whoisRoutes,
  ...adminRegistrationTokenRoutes,
];
// The OpenAPI document describes the whole table, itself included.
allRoutes.push(...openapiRoutes(() => allRoutes));
