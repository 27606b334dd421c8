import { MatrixError } from '../../errors.js';
import { MAX_ADMIN_USER_PAGE } from '../../limits.js';
import { listedJson, userJson } from '../../service/admin-user-json.js';
import type { PutUserInput } from '../../service/admin-users.js';
import { USER_ORDER_COLUMNS, type UserOrder } from '../../storage/repos/users.js';
import { adminPath, defineRoute, type Route, reply } from '../route.js';
import {
  AnyObject,
  type Body,
  documentedQuery,
  optionalBoolean,
  optionalString,
  type Query,
  queryBoolean,
  queryChoice,
  queryNonNegativeInteger,
  queryString,
  queryStrings,
  requiredQueryString,
  requireKeys,
} from './params.js';

type UserParams = { userId: string };

/** Tessera keeps no third-party ids or SSO ids: an empty list is accepted, entries are refused. */
function noIdentifiers(body: Body, key: string, required: readonly string[]): void {
  const value = body[key];
  if (value === undefined || value === null) return;
  if (!Array.isArray(value)) throw new MatrixError('M_INVALID_PARAM', `${key} must be a list`);
  for (const item of value) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new MatrixError('M_INVALID_PARAM', `${key} must be a list of objects`);
    }
    requireKeys(item as Body, required);
  }
  // Addresses are bound only when the user proves them (email validation); never set by an admin.
  if (value.length > 0) throw new MatrixError('M_INVALID_PARAM', `Tessera does not set ${key} through the admin API`);
}

/** The body of PUT /v2/users/<user_id>, checked in Synapse's order with its messages. */
function parsePutUser(body: Body): PutUserInput {
  noIdentifiers(body, 'threepids', ['medium', 'address']);
  noIdentifiers(body, 'external_ids', ['auth_provider', 'external_id']);
  const userType = body.user_type;
  if (userType !== undefined && userType !== null && typeof userType !== 'string') {
    throw new MatrixError('M_UNKNOWN', 'Invalid user type');
  }
  const admin = optionalBoolean(body, 'admin', "Param 'admin' must be a boolean, if given", undefined, 'M_BAD_JSON');
  const password = optionalString(body, 'password', 'Invalid password');
  const logoutDevices = optionalBoolean(
    body,
    'logout_devices',
    "'logout_devices' parameter is not of type boolean",
    true,
  )!;
  const deactivated = optionalBoolean(body, 'deactivated', "'deactivated' parameter is not of type boolean", undefined);
  const locked = optionalBoolean(body, 'locked', "'locked' parameter is not of type boolean", undefined);
  const approved = optionalBoolean(body, 'approved', "'approved' parameter is not of type boolean", undefined);
  const displayname = optionalString(body, 'displayname', "'displayname' must be a string");
  const avatarUrl = optionalString(body, 'avatar_url', "'avatar_url' must be a string");
  return {
    logoutDevices,
    ...(userType !== undefined && { userType: userType as string | null }),
    ...(admin !== undefined && { admin }),
    ...(password !== undefined && { password }),
    ...(deactivated !== undefined && { deactivated }),
    ...(locked !== undefined && { locked }),
    ...(approved !== undefined && { approved }),
    ...(displayname !== undefined && { displayname }),
    ...(avatarUrl !== undefined && { avatarUrl }),
  };
}

const ORDERS = Object.keys(USER_ORDER_COLUMNS) as UserOrder[];

/** Accounts (Synapse's docs/admin_api/user_admin_api.md); every route needs a server admin. */
export const adminUserRoutes: Route[] = [
  // GET /_synapse/admin/v2/users?from=&limit=&guests=&deactivated=&name=&user_id=&order_by=&dir=
  // - Also `admins`, `locked` and repeated `not_user_type`, as in Synapse. A page holds at
  //   most MAX_ADMIN_USER_PAGE accounts (src/limits.ts); `next_token` leads to the rest.
  defineRoute(
    {
      method: 'GET',
      paths: [adminPath('/v2/users')],
      auth: 'admin',
      summary: 'List accounts, a page at a time',
      querystring: documentedQuery({
        from: 'offset of the first account (next_token of the previous page)',
        limit: `accounts per page (default 100, at most ${MAX_ADMIN_USER_PAGE})`,
        guests: 'true (default) or false: include guests',
        deactivated: 'true: include deactivated accounts',
        locked: 'true: include locked accounts',
        admins: 'true: only admins; false: only non-admins',
        approved: 'false: only accounts awaiting approval (MSC3866); true (default): no filter',
        name: 'user id localpart or display name contains this',
        user_id: 'user id contains this',
        not_user_type: 'leave out this user type (repeatable)',
        order_by:
          'name (default), is_guest, admin, user_type, deactivated, shadow_banned, displayname, avatar_url, creation_ts, locked',
        dir: 'f (default) or b',
      }),
    },
    async ({ services, query }) => {
      const q = query as Query;
      const from = queryNonNegativeInteger(q, 'from', 0);
      const limit = Math.min(queryNonNegativeInteger(q, 'limit', 100), MAX_ADMIN_USER_PAGE);
      const userIdContains = queryString(q, 'user_id');
      const nameContains = queryString(q, 'name');
      const includeGuests = queryBoolean(q, 'guests', true);
      // v2: deactivated accounts are left out unless `deactivated=true`.
      const deactivated = queryBoolean(q, 'deactivated', false) ? null : false;
      const includeLocked = queryBoolean(q, 'locked', false);
      const admins = queryBoolean(q, 'admins', null);
      // Synapse (with MSC3866): `approved=false` lists only the accounts awaiting approval.
      const onlyUnapproved = !queryBoolean(q, 'approved', true);
      const orderBy = queryChoice(q, 'order_by', ORDERS, 'name');
      const dir = queryChoice(q, 'dir', ['b', 'f'], 'f');
      const { rows, total } = await services.adminUsers.list({
        userIdContains,
        nameContains,
        includeGuests,
        deactivated,
        includeLocked,
        admins,
        onlyUnapproved,
        notUserTypes: queryStrings(q, 'not_user_type'),
        orderBy,
        backwards: dir === 'b',
        offset: from,
        limit,
      });
      return {
        users: rows.map(listedJson),
        total,
        ...(from + limit < total && { next_token: String(from + rows.length) }),
      };
    },
  ),

  // GET /_synapse/admin/v2/users/<user_id>
  defineRoute<'admin', undefined, undefined, UserParams>(
    { method: 'GET', paths: [adminPath('/v2/users/:userId')], auth: 'admin' },
    async ({ services, params }) => userJson(await services.adminUsers.get(params.userId)),
  ),

  // PUT /_synapse/admin/v2/users/<user_id>
  // - 201 and the new account (no device, no token) when the id is free; else 200 and the
  //   account as changed. `password` logs every device out unless `logout_devices: false`.
  defineRoute<'admin', typeof AnyObject, undefined, UserParams>(
    { method: 'PUT', paths: [adminPath('/v2/users/:userId')], auth: 'admin', body: AnyObject },
    async ({ services, params, body, requester }) => {
      const r = await services.adminUsers.put(requester, params.userId, parsePutUser(body as Body));
      return reply(r.created ? 201 : 200, userJson(r.user));
    },
  ),

  // GET /_synapse/admin/v1/users/<user_id>/admin
  defineRoute<'admin', undefined, undefined, UserParams>(
    { method: 'GET', paths: [adminPath('/v1/users/:userId/admin')], auth: 'admin' },
    async ({ services, params }) => ({ admin: await services.adminUsers.isAdmin(params.userId) }),
  ),

  // PUT /_synapse/admin/v1/users/<user_id>/admin  {"admin": bool}
  // - 400 "You may not demote yourself." (Synapse). `admin` must be a boolean: Synapse takes
  //   any value's truth, so `"false"` would promote.
  defineRoute<'admin', typeof AnyObject, undefined, UserParams>(
    { method: 'PUT', paths: [adminPath('/v1/users/:userId/admin')], auth: 'admin', body: AnyObject },
    async ({ services, params, body, requester }) => {
      requireKeys(body as Body, ['admin']);
      const admin = optionalBoolean(body as Body, 'admin', "Param 'admin' must be a boolean", undefined)!;
      await services.adminUsers.setAdmin(requester, params.userId, admin);
      return {};
    },
  ),

  // POST, DELETE /_synapse/admin/v1/users/<user_id>/shadow_ban
  ...(['POST', 'DELETE'] as const).map((method) =>
    defineRoute<'admin', typeof AnyObject, undefined, UserParams>(
      {
        method,
        paths: [adminPath('/v1/users/:userId/shadow_ban')],
        auth: 'admin',
        body: AnyObject,
        bodyRequired: false,
      },
      async ({ services, params }) => {
        await services.adminUsers.setShadowBanned(params.userId, method === 'POST');
        return {};
      },
    ),
  ),

  // GET /_synapse/admin/v1/username_available?username=
  // - The name as given, without lower-casing: 400 M_INVALID_USERNAME or M_USER_IN_USE.
  defineRoute(
    {
      method: 'GET',
      paths: [adminPath('/v1/username_available')],
      auth: 'admin',
      summary: 'Whether a user name can be registered',
      querystring: documentedQuery({ username: 'the localpart to check' }),
    },
    async ({ services, query }) => ({
      available: await services.adminUsers.usernameAvailable(requiredQueryString(query as Query, 'username')),
    }),
  ),
];
