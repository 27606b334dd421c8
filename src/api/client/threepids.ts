import { Type } from 'typebox';
import { MatrixError } from '../../errors.js';
import { SUBMIT_TOKEN_PATHS, type ValidationPurpose } from '../../service/email-validation.js';
import { escapeHtml } from '../../util/html.js';
import { clientPaths, defineRoute, htmlReply, NO_FRAMING, type Route, reply } from '../route.js';

/**
 * Email addresses (spec: client-server API, "Adding Account Administrative Contact
 * Information"): asking for a validation mail, the page its link opens, and the addresses of
 * the token owner. Password reset's requestToken is here too; the reset itself is
 * `POST /account/password` without a token (client/account.ts).
 */

/** Spec registration.yaml, EmailRequestToken: the identity-server fields are accepted and ignored. */
const RequestTokenBody = Type.Object({
  client_secret: Type.String(),
  email: Type.String(),
  send_attempt: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  next_link: Type.Optional(Type.String()),
  id_server: Type.Optional(Type.String()),
  id_access_token: Type.Optional(Type.String()),
});

const SubmitTokenQuery = Type.Object({
  token: Type.Optional(Type.String()),
  client_secret: Type.Optional(Type.String()),
  sid: Type.Optional(Type.String()),
});

function page(status: number, title: string, message: string) {
  const html = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;max-width:32em;margin:2em auto;padding:0 1em}</style></head>
<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body>
</html>
`;
  return htmlReply(status, html);
}

const CONFIRMED: Record<ValidationPurpose, string> = {
  register: 'Your email address has been validated. Return to the application to finish registering.',
  password_reset: 'Your email address has been validated. Return to the application to set your new password.',
};

function requestTokenRoute(purpose: ValidationPurpose, path: string): Route {
  return defineRoute(
    { method: 'POST', paths: clientPaths(path, 'v3', 'r0'), auth: 'none', body: RequestTokenBody },
    async ({ services, body, remoteIp }) =>
      services.emailValidation.requestToken(
        purpose,
        {
          clientSecret: body.client_secret,
          email: body.email,
          sendAttempt: body.send_attempt,
          ...(body.next_link !== undefined && { nextLink: body.next_link }),
        },
        remoteIp,
      ),
  );
}

/**
 * The emailed link: an HTML page saying the address is confirmed (or why not), or a redirect to
 * the session's `next_link` (spec: "the homeserver should redirect the user to this URL").
 */
function submitTokenRoute(purpose: ValidationPurpose): Route {
  return defineRoute(
    { method: 'GET', paths: [SUBMIT_TOKEN_PATHS[purpose]], auth: 'none', querystring: SubmitTokenQuery },
    async ({ services, query, remoteIp }) => {
      let nextLink: string | null;
      try {
        nextLink = await services.emailValidation.submitToken(
          purpose,
          {
            ...(query.sid !== undefined && { sid: query.sid }),
            ...(query.client_secret !== undefined && { clientSecret: query.client_secret }),
            ...(query.token !== undefined && { token: query.token }),
          },
          remoteIp,
        );
      } catch (err) {
        if (!(err instanceof MatrixError)) throw err;
        return page(err.status, 'Link not valid', err.message);
      }
      if (nextLink !== null) return reply(302, '', { headers: { location: nextLink, ...NO_FRAMING } });
      return page(200, 'Email address confirmed', CONFIRMED[purpose]);
    },
  );
}

export const threepidRoutes: Route[] = [
  // POST /_matrix/client/v3/register/email/requestToken
  // - `{sid}`; the same client_secret, email and send_attempt again sends nothing (same sid).
  // - M_THREEPID_IN_USE when bound; M_THREEPID_DENIED outside allowed_local_3pids.
  requestTokenRoute('register', '/register/email/requestToken'),
  // POST /_matrix/client/v3/account/password/email/requestToken
  // - M_THREEPID_NOT_FOUND when the address is bound to no account (spec password_management.yaml).
  requestTokenRoute('password_reset', '/account/password/email/requestToken'),
  // GET /_matrix/client/unstable/registration/email/submit_token?token=&client_secret=&sid=
  submitTokenRoute('register'),
  // GET /_synapse/client/password_reset/email/submit_token?token=&client_secret=&sid=
  submitTokenRoute('password_reset'),

  // GET /_matrix/client/v3/account/3pid (spec administrative_contact.yaml)
  defineRoute(
    { method: 'GET', paths: clientPaths('/account/3pid', 'v3', 'r0'), auth: 'required' },
    async ({ services, requester }) => ({ threepids: await services.emailValidation.boundTo(requester.userId) }),
  ),
];
