import { Type } from 'typebox';
import { CAPTCHA_PROVIDERS, type CaptchaProvider } from '../../config/captcha-providers.js';
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
function captchaPage(provider: CaptchaProvider, publicKey: string, session: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Authentication</title>
<script src="${escapeHtml(provider.scriptUrl)}" async defer></script>
<style>body{font-family:sans-serif;max-width:32em;margin:2em auto;padding:0 1em}</style>
</head>
<body>
<div id="captcha" data-session="${escapeHtml(session)}" data-widget="${escapeHtml(provider.scriptGlobal)}">
<p>Please confirm that you are not a robot.</p>
<div class="${escapeHtml(provider.widgetClass)}" data-sitekey="${escapeHtml(publicKey)}" data-callback="captchaDone"></div>
</div>
<p id="status" role="status"></p>
<script>
function authDone() {
  document.getElementById('captcha').hidden = true;
  document.getElementById('status').textContent = 'Thank you. You may now close this window and return to the application.';
  if (window.onAuthDone) window.onAuthDone();
  else if (window.opener && window.opener.postMessage) window.opener.postMessage('authDone', '*');
}
function resetWidget() {
  var widget = window[document.getElementById('captcha').dataset.widget];
  if (widget && widget.reset) widget.reset();
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
      resetWidget();
    });
  }).catch(function () {
    status.textContent = 'Could not reach the server; please try again.';
    resetWidget();
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
      return reply(200, captchaPage(CAPTCHA_PROVIDERS[services.config.captchaProvider], publicKey, query.session), {
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
