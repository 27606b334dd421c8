import { Type } from 'typebox';
import { MatrixError } from '../../errors.js';
import { clientPaths, defineRoute, type Route, reply } from '../route.js';

/**
 * UIA fallback (spec: client-server API "Fallback"): a web page a client opens
 * for a stage it cannot do itself. Only `m.login.recaptcha` has one. The page posts the captcha
 * answer back as JSON to the same URL, then tells the client it is done
 * (`window.onAuthDone()`, else `window.opener.postMessage("authDone", "*")`, as the spec asks);
 * the client then retries its request with `{"auth": {"session": S}}`.
 */
const SUPPORTED = 'm.login.recaptcha';
const FallbackQuery = Type.Object({ session: Type.Optional(Type.String()) });
const FallbackAnswer = Type.Object({ session: Type.String(), response: Type.String() });

function assertSupported(stage: string): void {
  if (stage !== SUPPORTED) throw new MatrixError('M_UNKNOWN', 'Unknown auth stage type', {}, 404);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page; values go in escaped data attributes, never into the script text. */
function captchaPage(publicKey: string, session: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Authentication</title>
<script src="https://www.recaptcha.net/recaptcha/api.js" async defer></script>
<style>body{font-family:sans-serif;max-width:32em;margin:2em auto;padding:0 1em}</style>
</head>
<body>
<div id="captcha" data-session="${escapeHtml(session)}">
<p>Please confirm that you are not a robot.</p>
<div class="g-recaptcha" data-sitekey="${escapeHtml(publicKey)}" data-callback="captchaDone"></div>
</div>
<p id="status" role="status"></p>
<script>
function authDone() {
  document.getElementById('captcha').hidden = true;
  document.getElementById('status').textContent = 'Thank you. You may now close this window and return to the application.';
  if (window.onAuthDone) window.onAuthDone();
  else if (window.opener && window.opener.postMessage) window.opener.postMessage('authDone', '*');
}
function captchaDone(response) {
  var status = document.getElementById('status');
  var session = document.getElementById('captcha').dataset.session;
  status.textContent = 'Checking…';
  fetch(window.location.pathname, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ session: session, response: response })
  }).then(function (res) {
    if (res.ok) return authDone();
    return res.json().then(function (err) {
      status.textContent = err.error || 'The captcha was not accepted; please try again.';
      grecaptcha.reset();
    });
  }).catch(function () {
    status.textContent = 'Could not reach the server; please try again.';
    grecaptcha.reset();
  });
}
</script>
</body>
</html>
`;
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
      assertSupported(params.stage);
      if (query.session === undefined) throw new MatrixError('M_UNKNOWN', 'No session supplied');
      const { publicKey } = await services.registration.captchaFallback(query.session);
      return reply(200, captchaPage(publicKey, query.session), {
        contentType: 'text/html; charset=utf-8',
        // No framing by other sites (clickjacking), as Synapse sends for its HTML pages.
        headers: { 'x-frame-options': 'DENY', 'content-security-policy': "frame-ancestors 'none'" },
      });
    },
  ),

  // POST /_matrix/client/v3/auth/{auth_type}/fallback/web
  // The page's own call: `{session, response}`; completes the stage in the session.
  defineRoute<'none', typeof FallbackAnswer, undefined, { stage: string }>(
    {
      method: 'POST',
      paths: clientPaths('/auth/:stage/fallback/web', 'v3', 'r0'),
      auth: 'none',
      body: FallbackAnswer,
    },
    async ({ params, body, services, remoteIp }) => {
      assertSupported(params.stage);
      await services.registration.completeCaptchaFallback(body.session, body.response, remoteIp);
      return {};
    },
  ),
];
