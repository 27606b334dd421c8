import { MatrixError } from '../../errors.js';
import type { NewRegistrationToken, RegistrationTokenChanges } from '../../service/registration-tokens.js';
import { adminPath, defineRoute, type Route } from '../route.js';
import { AnyObject, type Body, documentedQuery, type Query, queryBoolean } from './params.js';

type TokenParams = { token: string };

/** A field that must be an integer or null, with Synapse's message for anything else. */
function integerOrNull(body: Body, key: string, message: string): number | null | undefined {
  if (!(key in body)) return undefined;
  const value = body[key];
  if (value === null) return null;
  // JSON has one number type: 2.0 arrives as 2, as an integer (Python's json keeps it a float).
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new MatrixError('M_INVALID_PARAM', message);
  return value;
}

const USES_ALLOWED = 'uses_allowed must be a non-negative integer or null';
const EXPIRY_TIME = 'expiry_time must be an integer or null';

/** The body of POST …/new, in Synapse's order (token or length, uses_allowed, expiry_time). */
function parseNew(body: Body): NewRegistrationToken {
  const input: NewRegistrationToken = {};
  if ('token' in body) {
    if (typeof body.token !== 'string') throw new MatrixError('M_INVALID_PARAM', 'token must be a string');
    input.token = body.token;
  } else if (body.length !== undefined) {
    if (typeof body.length !== 'number' || !Number.isSafeInteger(body.length)) {
      throw new MatrixError('M_INVALID_PARAM', 'length must be an integer');
    }
    input.length = body.length;
  }
  const usesAllowed = integerOrNull(body, 'uses_allowed', USES_ALLOWED);
  if (usesAllowed !== undefined) input.usesAllowed = usesAllowed;
  const expiryTime = integerOrNull(body, 'expiry_time', EXPIRY_TIME);
  if (expiryTime !== undefined) input.expiryTime = expiryTime;
  return input;
}

/** The body of PUT …/<token>: only the fields present change. */
function parseChanges(body: Body): RegistrationTokenChanges {
  const changes: RegistrationTokenChanges = {};
  const usesAllowed = integerOrNull(body, 'uses_allowed', USES_ALLOWED);
  if (usesAllowed !== undefined) changes.usesAllowed = usesAllowed;
  const expiryTime = integerOrNull(body, 'expiry_time', EXPIRY_TIME);
  if (expiryTime !== undefined) changes.expiryTime = expiryTime;
  return changes;
}

/** Registration tokens (Synapse's docs/admin_api/registration_tokens.md); every route needs a server admin. */
export const adminRegistrationTokenRoutes: Route[] = [
  // GET /_synapse/admin/v1/registration_tokens?valid=true|false
  // - Without `valid`, every token; `valid=false`: used up or expired ones.
  defineRoute(
    {
      method: 'GET',
      paths: [adminPath('/v1/registration_tokens')],
      auth: 'admin',
      summary: 'List registration tokens',
      querystring: documentedQuery({ valid: 'true: only usable tokens; false: only used-up or expired ones' }),
    },
    async ({ services, query }) => ({
      registration_tokens: await services.registrationTokens.list(queryBoolean(query as Query, 'valid', null)),
    }),
  ),

  // POST /_synapse/admin/v1/registration_tokens/new
  // - `token`, or `length` (default 16, at most 64) of a generated one; `uses_allowed`,
  //   `expiry_time` (ms). A token that exists already is 400 M_INVALID_PARAM, as Synapse.
  defineRoute(
    { method: 'POST', paths: [adminPath('/v1/registration_tokens/new')], auth: 'admin', body: AnyObject },
    async ({ services, body }) => services.registrationTokens.create(parseNew(body as Body)),
  ),

  // GET /_synapse/admin/v1/registration_tokens/<token>
  defineRoute<'admin', undefined, undefined, TokenParams>(
    { method: 'GET', paths: [adminPath('/v1/registration_tokens/:token')], auth: 'admin' },
    async ({ services, params }) => services.registrationTokens.get(params.token),
  ),

  // PUT /_synapse/admin/v1/registration_tokens/<token>
  // - `uses_allowed` and/or `expiry_time` (null: unlimited, never); an empty body changes nothing.
  defineRoute<'admin', typeof AnyObject, undefined, TokenParams>(
    { method: 'PUT', paths: [adminPath('/v1/registration_tokens/:token')], auth: 'admin', body: AnyObject },
    async ({ services, params, body }) => services.registrationTokens.update(params.token, parseChanges(body as Body)),
  ),

  // DELETE /_synapse/admin/v1/registration_tokens/<token>
  // - Registrations holding one of its uses can no longer finish with it.
  defineRoute<'admin', typeof AnyObject, undefined, TokenParams>(
    {
      method: 'DELETE',
      paths: [adminPath('/v1/registration_tokens/:token')],
      auth: 'admin',
      body: AnyObject,
      bodyRequired: false,
    },
    async ({ services, params }) => {
      await services.registrationTokens.delete(params.token);
      return {};
    },
  ),
];
