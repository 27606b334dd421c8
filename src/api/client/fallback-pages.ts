import type { CaptchaProvider } from '../../config/captcha-providers.js';
import { MAX_REGISTRATION_TOKEN_LENGTH } from '../../limits.js';
import { escapeHtml } from '../../util/html.js';

/**
 * The HTML of the UIA fallback pages (spec: client-server API "Fallback"; routes in
 * auth-fallback.ts). Each page posts the stage's answer back as JSON to its own URL, then tells
 * the client it is done (`window.onAuthDone()`, else `window.opener.postMessage("authDone",
 * "*")`, as the spec asks). Values go in escaped attributes or text, never into the script text.
 */

/** The page; values go in escaped data attributes, never into the script text. */
export function captchaPage(provider: CaptchaProvider, publicKey: string, session: string): string {
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

/** The script every form page shares: `authDone`, and posting the form's answer. */
const FORM_SCRIPT = `<script>
function authDone() {
  document.getElementById('form').hidden = true;
  document.getElementById('status').textContent = 'Thank you. You may now close this window and return to the application.';
  if (window.onAuthDone) window.onAuthDone();
  else if (window.opener && window.opener.postMessage) window.opener.postMessage('authDone', '*');
}
function submitAnswer(fields) {
  var status = document.getElementById('status');
  var button = document.getElementById('submit');
  fields.session = document.getElementById('form').dataset.session;
  status.textContent = 'Checking…';
  button.disabled = true;
  fetch(window.location.pathname, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(fields)
  }).then(function (res) {
    if (res.ok) return authDone();
    return res.json().then(function (err) {
      status.textContent = err.error || 'That was not accepted; please try again.';
      button.disabled = false;
    });
  }).catch(function () {
    status.textContent = 'Could not reach the server; please try again.';
    button.disabled = false;
  });
}
</script>`;

function formPage(session: string, form: string, script: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Authentication</title>
<style>body{font-family:sans-serif;max-width:32em;margin:2em auto;padding:0 1em}</style>
</head>
<body>
<form id="form" data-session="${escapeHtml(session)}">
${form}
</form>
<p id="status" role="status"></p>
${FORM_SCRIPT}
<script>
${script}
</script>
</body>
</html>
`;
}

/** One policy of `m.login.terms` params: its version and, per language, a name and a URL. */
export type TermsPolicies = Record<string, Record<string, unknown>>;

/**
 * `m.login.terms`: a link to each policy (in every language offered), a checkbox, and a button
 * that stays disabled until the box is ticked.
 */
export function termsPage(policies: TermsPolicies, session: string): string {
  const items: string[] = [];
  for (const policy of Object.values(policies)) {
    for (const [lang, doc] of Object.entries(policy)) {
      if (lang === 'version' || typeof doc !== 'object' || doc === null) continue;
      const { name, url } = doc as { name?: unknown; url?: unknown };
      if (typeof name !== 'string' || typeof url !== 'string') continue;
      items.push(
        `<li><a href="${escapeHtml(url)}" hreflang="${escapeHtml(lang)}" target="_blank" rel="noopener">${escapeHtml(name)}</a> (${escapeHtml(lang)}, version ${escapeHtml(String(policy.version))})</li>`,
      );
    }
  }
  const form = `<p>Please read the terms of this server, and accept them to continue.</p>
<ul id="policies">
${items.join('\n')}
</ul>
<p><label><input type="checkbox" id="agree"> I have read and agree to the terms above</label></p>
<button type="submit" id="submit" disabled>Accept and continue</button>`;
  const script = `var agree = document.getElementById('agree');
agree.addEventListener('change', function () { document.getElementById('submit').disabled = !agree.checked; });
document.getElementById('form').addEventListener('submit', function (e) {
  e.preventDefault();
  if (agree.checked) submitAnswer({});
});`;
  return formPage(session, form, script);
}

/** `m.login.registration_token`: a field for the token and a button. */
export function registrationTokenPage(session: string): string {
  const form = `<p>Registration on this server needs a registration token.</p>
<p><label for="token">Registration token</label><br>
<input type="text" id="token" name="token" maxlength="${MAX_REGISTRATION_TOKEN_LENGTH}" autocomplete="off" required></p>
<button type="submit" id="submit">Continue</button>`;
  const script = `document.getElementById('form').addEventListener('submit', function (e) {
  e.preventDefault();
  submitAnswer({ token: document.getElementById('token').value });
});`;
  return formPage(session, form, script);
}
