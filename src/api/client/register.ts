import { Type } from 'typebox';
import { MatrixError } from '../../errors.js';
import type { V3Registered, V3RegisterRequest } from '../../service/registration.js';
import { assertDeviceDisplayName, assertDeviceId } from '../../util/device-id.js';
import { clientPaths, defineRoute, type Route } from '../route.js';

/**
 * The body must be a JSON object; its fields are checked by hand below because their meaning
 * depends on `kind` (a guest's body is ignored but for the display name; spec: guest access).
 */
const AnyObject = Type.Object({});
const RegisterQuery = Type.Object({ kind: Type.Optional(Type.String()) });
const AvailableQuery = Type.Object({ username: Type.String() });

/** An optional field of `type`; null counts as absent (clients send it for "not set"). */
function optional(body: Record<string, unknown>, key: string, type: 'string'): string | undefined;
function optional(body: Record<string, unknown>, key: string, type: 'boolean'): boolean | undefined;
function optional(body: Record<string, unknown>, key: string, type: 'string' | 'boolean'): unknown {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== type) throw new MatrixError('M_BAD_JSON', `${key} must be a ${type}`);
  return value;
}

/**
 * Type-check the fields of spec `POST /register` (registration.yaml); wrong types → M_BAD_JSON.
 * The device id and display name follow the rules of login (src/util/device-id.ts), checked
 * here, before the request can be hashed or stored in a UIA session. The username is checked
 * (length first) by the registration service before either.
 */
function parseRegisterBody(body: Record<string, unknown>, kind: 'user' | 'guest'): V3RegisterRequest {
  const initialDisplayName = optional(body, 'initial_device_display_name', 'string');
  if (initialDisplayName !== undefined) assertDeviceDisplayName(initialDisplayName);
  if (kind === 'guest')
    return { kind, auth: undefined, ...(initialDisplayName !== undefined && { initialDisplayName }) };
  const deviceId = optional(body, 'device_id', 'string');
  if (deviceId !== undefined) assertDeviceId(deviceId);
  const fields = {
    username: optional(body, 'username', 'string'),
    password: optional(body, 'password', 'string'),
    deviceId,
    initialDisplayName,
    inhibitLogin: optional(body, 'inhibit_login', 'boolean'),
    refreshToken: optional(body, 'refresh_token', 'boolean'),
  };
  const req: V3RegisterRequest = { kind, auth: body.auth === null ? undefined : body.auth };
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) (req as unknown as Record<string, unknown>)[key] = value;
  }
  return req;
}

/** The 200 body (registration.yaml): no login fields with `inhibit_login`; `home_server` is deprecated but sent. */
function registeredBody(r: V3Registered): Record<string, unknown> {
  return {
    user_id: r.userId,
    home_server: r.homeServer,
    ...(r.accessToken !== null && { access_token: r.accessToken, device_id: r.deviceId }),
    ...(r.refreshToken !== null && { refresh_token: r.refreshToken }),
    ...(r.expiresInMs !== null && { expires_in_ms: r.expiresInMs }),
  };
}

/** Current-spec registration (client-server API "Account registration"). */
export const registerRoutes: Route[] = [
  // POST /_matrix/client/v3/register
  // - User-interactive auth (401 challenges); username and policy checks come before it.
  // - `?kind=guest` registers a guest without UIA when guest access is on.
  defineRoute(
    {
      method: 'POST',
      paths: clientPaths('/register', 'v3', 'r0'),
      auth: 'none',
      body: AnyObject,
      querystring: RegisterQuery,
    },
    async ({ body, query, services, remoteIp }) => {
      const kind = query.kind ?? 'user';
      if (kind !== 'user' && kind !== 'guest') {
        throw new MatrixError('M_INVALID_PARAM', `Unknown kind: must be "user" or "guest"`);
      }
      const result = await services.registration.registerV3(
        parseRegisterBody(body as Record<string, unknown>, kind),
        remoteIp,
      );
      return registeredBody(result);
    },
  ),

  // GET /_matrix/client/v3/register/available
  // Checks grammar and availability only; it reserves nothing (spec).
  defineRoute(
    {
      method: 'GET',
      paths: clientPaths('/register/available', 'v3', 'r0'),
      auth: 'none',
      querystring: AvailableQuery,
    },
    async ({ query, services, remoteIp }) => {
      await services.registration.checkAvailable(query.username, remoteIp);
      return { available: true };
    },
  ),
];
