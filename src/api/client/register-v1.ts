import { Type } from 'typebox';
import { clientPaths, defineRoute, type Route } from '../route.js';

/** RegistrationSubmission (docs/client-api-v1-registration.md): `type`, `session`, and the stage's own keys. */
const V1Submission = Type.Object(
  {
    type: Type.String({
      description: 'The type of registration being submitted (a login type, e.g. m.login.password).',
    }),
    session: Type.Optional(
      Type.String({
        description: 'Multi-stage registration only: the session token from the previous stage.',
      }),
    ),
  },
  { description: "RegistrationSubmission: `type`, `session`, and the stage's own keys (user, password, response…)." },
);

/** The original client API v1 registration of 2014 (docs/client-api-v1-registration.md). */
export const registerV1Routes: Route[] = [
  // GET /_matrix/client/api/v1/register
  defineRoute(
    {
      method: 'GET',
      paths: clientPaths('/register', 'api/v1'),
      auth: 'none',
      summary: 'Registration flows (RegistrationFlows): each flow a first `type` and all its `stages`',
    },
    async ({ services }) => ({
      flows: services.registration.v1Flows(),
    }),
  ),

  // POST /_matrix/client/api/v1/register
  // - One stage per request; a non-final stage answers {next, session}, the last one the account.
  // - Errors are plain 400/403 errors: v1 has no 401 challenges (spec "User-Interactive Authentication API").
  defineRoute(
    {
      method: 'POST',
      paths: clientPaths('/register', 'api/v1'),
      auth: 'none',
      body: V1Submission,
      summary: 'Submit one registration stage (RegistrationResult: {next, session}, or the account)',
    },
    async ({ body, services, remoteIp }) => {
      const result = await services.registration.submitV1(body, remoteIp);
      if (result.kind === 'next') return { next: result.next, session: result.session };
      return {
        user_id: result.userId,
        access_token: result.accessToken,
        home_server: result.homeServer,
        device_id: result.deviceId,
      };
    },
  ),
];
