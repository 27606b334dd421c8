import { Type } from 'typebox';
import { CAPTCHA_PROVIDERS, type CaptchaProvider } from '../../config/captcha-providers.js';
import { MatrixError } from '../../errors.js';
import { clientPaths, defineRoute, htmlReply, type Route } from '../route.js';
import { captchaPage, registrationTokenPage, type TermsPolicies, termsPage } from './fallback-pages.js';

/**
 * UIA fallback (spec: client-server API "Fallback"): a web page a client opens for a stage it
 * cannot do itself, for a v3 registration session. Pages exist for `m.login.recaptcha`,
 * `m.login.terms` and `m.login.registration_token` (fallback-pages.ts), when the config's
 * flows have the stage (else 404). The page posts its answer back as JSON to the same URL,
 * which completes the stage in the session; the client then retries its request with
 * `{"auth": {"session": S}}`.
 */
const FallbackQuery = Type.Object({ session: Type.Optional(Type.String()) });
/** `response`: the captcha's answer; `token`: the registration token; the terms need nothing. */
const FallbackAnswer = Type.Object({
  session: Type.String(),
  response: Type.Optional(Type.String()),
  token: Type.Optional(Type.String()),
});

/** The answer field of each stage's page. */
const ANSWER_KEY: ReadonlyMap<string, 'response' | 'token'> = new Map([
  ['m.login.recaptcha', 'response'],
  ['m.login.registration_token', 'token'],
]);

function page(stage: string, params: Record<string, unknown>, session: string, provider: CaptchaProvider): string {
  switch (stage) {
    case 'm.login.recaptcha':
      return captchaPage(provider, params.public_key as string, session);
    case 'm.login.terms':
      return termsPage((params.policies ?? {}) as TermsPolicies, session);
    default:
      return registrationTokenPage(session);
  }
}

export const authFallbackRoutes: Route[] = [
  // GET /_matrix/client/v3/auth/{auth_type}/fallback/web?session=
  defineRoute<'none', undefined, typeof FallbackQuery, { stage: string }>(
    {
      method: 'GET',
      paths: clientPaths('/auth/:stage/fallback/web', 'v3', 'r0'),
      auth: 'none',
      querystring: FallbackQuery,
    },
    async ({ params, query, services }) => {
      if (query.session === undefined) {
        services.registration.fallbackParams(params.stage); // 404 first for a stage without a page
        throw new MatrixError('M_UNKNOWN', 'No session supplied');
      }
      const stageParams = await services.registration.fallback(params.stage, query.session);
      const provider = CAPTCHA_PROVIDERS[services.config.captchaProvider];
      return htmlReply(200, page(params.stage, stageParams, query.session, provider));
    },
  ),

  // POST /_matrix/client/v3/auth/{auth_type}/fallback/web
  // The page's own call: `{session, response}` (captcha), `{session, token}` (registration
  // token) or `{session}` (terms); completes the stage in the session.
  defineRoute<'none', typeof FallbackAnswer, undefined, { stage: string }>(
    {
      method: 'POST',
      paths: clientPaths('/auth/:stage/fallback/web', 'v3', 'r0'),
      auth: 'none',
      body: FallbackAnswer,
    },
    async ({ params, body, services, remoteIp }) => {
      const key = ANSWER_KEY.get(params.stage);
      const fields: Record<string, unknown> = {};
      if (key !== undefined) {
        if (body[key] === undefined) throw new MatrixError('M_MISSING_PARAM', `Missing JSON keys: ${key}`);
        fields[key] = body[key];
      }
      await services.registration.completeFallback(params.stage, body.session, fields, remoteIp);
      return {};
    },
  ),
];
