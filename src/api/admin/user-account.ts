import { MatrixError } from '../../errors.js';
import { adminPath, defineRoute, type Route } from '../route.js';
import { AnyObject, type Body, optionalBoolean, requireKeys } from './params.js';

type UserParams = { userId: string };

/** Sessions and credentials of other accounts (Synapse's docs/admin_api/user_admin_api.md). */
export const adminUserAccountRoutes: Route[] = [
  // POST /_synapse/admin/v1/reset_password/<user_id>  {"new_password", "logout_devices"?}
  // - `logout_devices` (default true) deletes every device and token of the account.
  // - No password policy: an admin chose the password (as in Synapse); at most 512 characters.
  defineRoute<'admin', typeof AnyObject, undefined, UserParams>(
    { method: 'POST', paths: [adminPath('/v1/reset_password/:userId')], auth: 'admin', body: AnyObject },
    async ({ services, params, body, requester }) => {
      const b = body as Body;
      requireKeys(b, ['new_password']);
      if (typeof b.new_password !== 'string') throw new MatrixError('M_INVALID_PARAM', 'Invalid password');
      const logout = optionalBoolean(b, 'logout_devices', "'logout_devices' parameter is not of type boolean", true)!;
      await services.adminAccounts.resetPassword(requester, params.userId, b.new_password, logout);
      return {};
    },
  ),

  // POST /_synapse/admin/v1/deactivate/<user_id>  {"erase"?}  (an empty body is allowed)
  // - `id_server_unbind_result` is "success": the account's addresses are unbound here, and
  //   Tessera uses no identity server to unbind them from.
  defineRoute<'admin', typeof AnyObject, undefined, UserParams>(
    {
      method: 'POST',
      paths: [adminPath('/v1/deactivate/:userId')],
      auth: 'admin',
      body: AnyObject,
      bodyRequired: false,
    },
    async ({ services, params, body }) => {
      const erase = optionalBoolean(
        body as Body,
        'erase',
        "Param 'erase' must be a boolean, if given",
        false,
        'M_BAD_JSON',
      )!;
      return { id_server_unbind_result: await services.adminAccounts.deactivate(params.userId, erase) };
    },
  ),

  // POST /_synapse/admin/v1/users/<user_id>/login  {"valid_until_ms"?}
  // - An access token for the account, on a new device named after the admin (see
  //   AdminAccountService.loginAs); admins cannot log in as themselves (Synapse).
  defineRoute<'admin', typeof AnyObject, undefined, UserParams>(
    {
      method: 'POST',
      paths: [adminPath('/v1/users/:userId/login')],
      auth: 'admin',
      body: AnyObject,
      bodyRequired: false,
    },
    async ({ services, params, body, requester }) => {
      const validUntil = (body as Body).valid_until_ms ?? null;
      if (validUntil !== null && !Number.isSafeInteger(validUntil)) {
        throw new MatrixError('M_INVALID_PARAM', "'valid_until_ms' parameter must be an int");
      }
      return {
        access_token: await services.adminAccounts.loginAs(requester, params.userId, validUntil as number | null),
      };
    },
  ),
];
