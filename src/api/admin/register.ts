import { MatrixError } from '../../errors.js';
import type { SharedSecretRequest } from '../../service/shared-secret-registration.js';
import { adminPath, defineRoute, type Route } from '../route.js';
import { AnyObject } from './params.js';

/**
 * A string field as Synapse's servlet reads it: missing → 400 M_BAD_JSON "`key` must be
 * specified"; not a string → 400 "Invalid `key`".
 */
function requiredString(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  if (value === undefined) throw new MatrixError('M_BAD_JSON', `${key} must be specified`);
  if (typeof value !== 'string') throw new MatrixError('M_INVALID_PARAM', `Invalid ${key}`);
  return value;
}

function optionalString(body: Record<string, unknown>, key: string): string | null {
  const value = body[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new MatrixError('M_INVALID_PARAM', `Invalid ${key}`);
  return value;
}

/** The body of POST /_synapse/admin/v1/register, in the order Synapse checks it. */
function parseSharedSecretBody(body: Record<string, unknown>): SharedSecretRequest {
  const nonce = requiredString(body, 'nonce');
  const username = requiredString(body, 'username');
  const password = requiredString(body, 'password');
  const admin = body.admin ?? false;
  if (typeof admin !== 'boolean') throw new MatrixError('M_INVALID_PARAM', 'admin must be a boolean');
  const userType = optionalString(body, 'user_type');
  const displayName = optionalString(body, 'displayname');
  const mac = requiredString(body, 'mac');
  return { nonce, username, password, mac, admin, userType, displayName };
}

/** Shared-secret registration (Synapse's docs/admin_api/register_api.md). */
export const adminRegisterRoutes: Route[] = [
  // GET /_synapse/admin/v1/register
  // - A nonce for one registration within 60 s; no authentication (the MAC is the credential).
  defineRoute({ method: 'GET', paths: [adminPath('/v1/register')], auth: 'none' }, ({ services }) => ({
    nonce: services.sharedSecret.newNonce(),
  })),

  // POST /_synapse/admin/v1/register
  // - Works while public registration is closed; 400 when no shared secret is configured.
  // - mac = hex HMAC-SHA1(secret, nonce NUL username NUL password NUL admin|notadmin [NUL user_type]).
  defineRoute(
    { method: 'POST', paths: [adminPath('/v1/register')], auth: 'none', body: AnyObject },
    async ({ body, services }) => {
      services.sharedSecret.assertEnabled();
      const r = await services.sharedSecret.register(parseSharedSecretBody(body as Record<string, unknown>));
      return { access_token: r.accessToken, user_id: r.userId, home_server: r.homeServer, device_id: r.deviceId };
    },
  ),
];
