// The captcha fallback page with each provider (config/captcha-providers.ts), in Chromium: the
// page loads that provider's script and draws its widget; the answer is verified at the
// provider's siteverify endpoint (here the fake one, named by `captcha.siteverify_url`).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { CAPTCHA_PROVIDERS, type CaptchaProviderName } from '../../src/config/captcha-providers.js';
import { assertChallenge } from '../helpers/assert.js';
import { browserSkip, fakeWidgetScript, isolatedContext, launchChromium } from '../helpers/browser.js';
import { CAPTCHA_PRIVATE_KEY, type CaptchaServer, startCaptchaServer } from '../helpers/captcha.js';

const V3 = '/_matrix/client/v3/register';
const FALLBACK = '/_matrix/client/v3/auth/m.login.recaptcha/fallback/web';
const skip = browserSkip();

for (const name of ['hcaptcha', 'turnstile'] as CaptchaProviderName[]) {
  const provider = CAPTCHA_PROVIDERS[name];
  describe(`captcha fallback page with ${name} (Chromium)`, () => {
    let cs: CaptchaServer;
    let browser: Browser;

    before(async () => {
      if (skip) return;
      // Tessera's `captcha:` block for this provider, instead of Synapse's recaptcha_* keys.
      cs = await startCaptchaServer('sqlite', { provider: name, publicKey: `${name}-site-key` });
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
      await cs?.close();
    });

    it('offers the site key, draws the provider’s widget, and a good answer completes the stage', {
      skip,
    }, async () => {
      const s = cs.server;
      const challenge = await s.request('POST', V3, { username: `${name}user`, password: 'pw' });
      const session = assertChallenge(challenge);
      assert.deepEqual(challenge.body.params['m.login.recaptcha'], { public_key: `${name}-site-key` });

      const requested: string[] = [];
      const context = await isolatedContext(
        browser,
        s.url,
        { [provider.scriptUrl]: fakeWidgetScript(provider.scriptGlobal, provider.widgetClass) },
        requested,
      );
      const page = await context.newPage();
      const res = await page.goto(`${s.url}${FALLBACK}?session=${encodeURIComponent(session)}`);
      assert.equal(res?.status(), 200);
      const widget = page.locator(`.${provider.widgetClass} button`);
      await widget.waitFor();
      assert.equal(await widget.getAttribute('data-sitekey'), `${name}-site-key`);
      assert.deepEqual(requested, [provider.scriptUrl]);

      // A refused answer resets the provider's widget for another try.
      await page.evaluate("window.fakeCaptchaAnswer = 'bad'");
      await widget.click();
      await page.waitForFunction('window.fakeCaptchaResets === 1');
      await page.evaluate("window.fakeCaptchaAnswer = 'good'");
      await widget.click();
      await page.getByText(/Thank you\. You may now close this window/).waitFor();
      assert.equal(cs.verifier.received.at(-1)?.get('response'), 'good');
      assert.equal(cs.verifier.received.at(-1)?.get('secret'), CAPTCHA_PRIVATE_KEY);

      const check = await s.request('POST', V3, { auth: { session } });
      assert.deepEqual(check.body.completed, ['m.login.recaptcha'], JSON.stringify(check.body));
      await context.close();
    });
  });
}
