import { Type } from 'typebox';
import { clientPaths, defineRoute, type Route } from '../route.js';

/** `new_password` may be left out of later UIA requests: the session keeps (a hash of) it. */
const PasswordBody = Type.Object({
  new_password: Type.Optional(Type.String()),
  logout_devices: Type.Optional(Type.Boolean()),
});

const DeactivateBody = Type.Object({
  erase: Type.Optional(Type.Boolean()),
  id_server: Type.Optional(Type.String()),
});

export const accountRoutes: Route[] = [
  // GET /_matrix/client/v3/account/whoami
  // The first authenticated endpoint: proves a token from any registration path is usable.
  defineRoute(
    { method: 'GET', paths: clientPaths('/account/whoami', 'v3', 'r0'), auth: 'required' },
    // Synchronous on purpose: the hot path (see bench/), no await once the token is cached.
    ({ requester }) => ({
      user_id: requester.userId,
      device_id: requester.deviceId,
      is_guest: requester.isGuest,
    }),
  ),

  // POST /_matrix/client/v3/account/password
  // - UIA m.login.password by the token owner; a weak password is 400 M_WEAK_PASSWORD first.
  // - `logout_devices` (default true) deletes every other device and its tokens at once.
  // - Guests cannot (Synapse refuses guest tokens here: 403 M_GUEST_ACCESS_FORBIDDEN).
  // - Without a token: the forgotten password, UIA m.login.email.identity (service/password-reset.ts).
  defineRoute(
    { method: 'POST', paths: clientPaths('/account/password', 'v3', 'r0'), auth: 'optional', body: PasswordBody },
    async ({ services, requester, body, remoteIp }) => {
      if (requester === null) {
        await services.passwordReset.reset({ body, newPassword: body.new_password ?? null, remoteIp });
        return {};
      }
      await services.account.changePassword({
        requester,
        body,
        newPassword: body.new_password ?? null,
        remoteIp,
      });
      return {};
    },
  ),

  // POST /_matrix/client/v3/account/deactivate
  // - UIA m.login.password; then every device and token is gone and the id is never reused.
  // - `success`: bound addresses are unbound here; no identity server knows them (spec: `success` then).
  defineRoute(
    { method: 'POST', paths: clientPaths('/account/deactivate', 'v3', 'r0'), auth: 'required', body: DeactivateBody },
    async ({ services, requester, body, remoteIp }) => ({
      id_server_unbind_result: await services.account.deactivate(requester, body, remoteIp),
    }),
  ),
];
