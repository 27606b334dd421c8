import { Type } from 'typebox';
import { clientPaths, defineRoute, type Route } from '../route.js';

const ValidityQuery = Type.Object({ token: Type.String() });

/** Spec "Token-authenticated registration" (registration_tokens.yaml). */
export const registrationTokenValidityRoutes: Route[] = [
  // GET /_matrix/client/v1/register/m.login.registration_token/validity?token=
  // - Rate-limited per client address (rc_registration_token_validity), as the spec asks.
  // - 403 M_FORBIDDEN while registration is closed; {valid: false} when no token is required.
  defineRoute(
    {
      method: 'GET',
      paths: clientPaths('/register/m.login.registration_token/validity', 'v1'),
      auth: 'none',
      querystring: ValidityQuery,
    },
    async ({ query, services, remoteIp }) => ({
      valid: await services.registrationTokens.isValid(query.token, remoteIp),
    }),
  ),
];
