import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';

/**
 * Debian's Chromium driven by playwright-core, for tests of pages Tessera serves. The machine has
 * no internet: a context reaches only the test server, and a captcha provider's widget script is
 * answered with a small fake (`fakeWidgetScript`).
 */

export const CHROMIUM = process.env.TESSERA_TEST_CHROMIUM ?? '/usr/bin/chromium';
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

let warned = false;

/**
 * Why browser tests are skipped (no Chromium, outside CI; said loudly once), or false when they
 * run. In CI (CI=true) a missing Chromium is a failure, never a skip: `.ci/run` installs it.
 */
export function browserSkip(): string | false {
  if (existsSync(CHROMIUM) || IN_CI) return false;
  if (!warned) {
    warned = true;
    process.stderr.write(
      `\n!!! ${CHROMIUM} is missing: SKIPPING the browser tests.\n` +
        '!!! Install it with `apt-get install -y chromium`. In CI (CI=true) this is a failure.\n\n',
    );
  }
  return `${CHROMIUM} is not installed (apt-get install -y chromium)`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // Without the background-networking flags Chromium keeps trying Google's hosts.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A context whose only way out is `serverUrl`; a request whose URL starts with a key of
 * `scripts` is answered with that JavaScript (and recorded in `requested`).
 */
export async function isolatedContext(
  browser: Browser,
  serverUrl: string,
  scripts: Record<string, string>,
  requested: string[] = [],
): Promise<BrowserContext> {
  const context = await browser.newContext();
  // Generous: on a loaded CI machine Chromium's first navigation alone has taken over 10 s.
  context.setDefaultTimeout(60_000);
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (url.startsWith(serverUrl)) return route.continue();
    const script = Object.keys(scripts).find((prefix) => url.startsWith(prefix));
    if (script !== undefined) {
      requested.push(url);
      return route.fulfill({ status: 200, contentType: 'text/javascript', body: scripts[script]! });
    }
    return route.abort();
  });
  return context;
}

/**
 * A captcha provider's widget script, reduced to what the fallback page uses: on load it renders
 * every element of `widgetClass` from its `data-sitekey` and `data-callback` as a button that
 * answers `window.fakeCaptchaAnswer` (default `good`), and `window[globalName].reset()` enables
 * the button again (counted in `window.fakeCaptchaResets`). reCAPTCHA, hCaptcha and Turnstile
 * share this surface.
 */
export function fakeWidgetScript(globalName: string, widgetClass: string): string {
  return `(function () {
  var widgets = [];
  function render(el) {
    var id = widgets.length;
    var button = document.createElement('button');
    button.type = 'button';
    button.textContent = "I'm human (fake ${globalName}, key " + el.getAttribute('data-sitekey') + ')';
    button.dataset.sitekey = el.getAttribute('data-sitekey');
    button.addEventListener('click', function () {
      button.disabled = true;
      window[el.getAttribute('data-callback')](window.fakeCaptchaAnswer || 'good');
    });
    el.appendChild(button);
    widgets.push(button);
    return id;
  }
  window.fakeCaptchaResets = 0;
  window[${JSON.stringify(globalName)}] = {
    reset: function (id) { window.fakeCaptchaResets++; widgets[id || 0].disabled = false; }
  };
  function autoRender() {
    document.querySelectorAll(${JSON.stringify(`.${widgetClass}`)}).forEach(render);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', autoRender);
  else autoRender();
})();`;
}
