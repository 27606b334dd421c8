// A real browser clicks through the UIA captcha fallback page (spec: client-server API
// "Fallback"): Debian's Chromium driven by playwright-core. The machine has no
// internet, so Google's reCAPTCHA script is intercepted and replaced by a tiny fake with the
// same surface the page uses (auto-render of `.g-recaptcha` with `data-sitekey` and
// `data-callback`, and `grecaptcha.reset()`); its button answers `window.fakeCaptchaAnswer`
// (default `good`, which the fake siteverify server accepts).
//
// In CI (CI=true) a missing /usr/bin/chromium is a failure, never a skip; `.ci/run` installs it.
// Set TESSERA_SCREENSHOT_DIR to keep the page's screenshots for a human to look at.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { assertChallenge } from '../helpers/assert.js';
import { browserSkip, fakeWidgetScript, isolatedContext, launchChromium } from '../helpers/browser.js';
import { CAPTCHA_PUBLIC_KEY, type CaptchaServer, startCaptchaServer } from '../helpers/captcha.js';
import type { TestServer } from '../helpers/server.js';

const V3 = '/_matrix/client/v3/register';
const FALLBACK = '/_matrix/client/v3/auth/m.login.recaptcha/fallback/web';
const THANKS = /Thank you\. You may now close this window/;
const skip = browserSkip();
const FAKE_RECAPTCHA = fakeWidgetScript('grecaptcha', 'g-recaptcha');

describe('the captcha fallback page in a real browser (Chromium)', () => {
  let cs: CaptchaServer;
  let s: TestServer;
  let browser: Browser;
  let shots: string;
  const keepShots = process.env.TESSERA_SCREENSHOT_DIR;
  const scriptRequests: string[] = [];

  before(async () => {
    if (skip) return;
    cs = await startCaptchaServer('sqlite');
    s = cs.server;
    browser = await launchChromium();
    shots = keepShots ?? mkdtempSync(join(tmpdir(), 'tessera-shots-'));
    mkdirSync(shots, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await cs?.close();
    if (shots && !keepShots) rmSync(shots, { recursive: true, force: true });
  });

  /** A browser context whose only way out is our server; Google's script gets the fake. */
  function newContext(): Promise<BrowserContext> {
    return isolatedContext(
      browser,
      s.url,
      {
        'https://www.recaptcha.net/recaptcha/api.js': FAKE_RECAPTCHA,
        'https://www.google.com/recaptcha/api.js': FAKE_RECAPTCHA,
      },
      scriptRequests,
    );
  }

  function fallbackUrl(session: string): string {
    return `${s.url}${FALLBACK}?session=${encodeURIComponent(session)}`;
  }

  /** The fallback page with a `window.onAuthDone` hook that counts its calls. */
  async function openFallback(session: string): Promise<{ page: Page; doneCalls: () => number; errors: string[] }> {
    const page = await (await newContext()).newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    let done = 0;
    await page.exposeFunction('onAuthDone', () => {
      done++;
    });
    const res = await page.goto(fallbackUrl(session));
    assert.equal(res?.status(), 200);
    return { page, doneCalls: () => done, errors };
  }

  it('a good captcha completes the stage; the client continues with the session', { skip }, async () => {
    const session = assertChallenge(await s.request('POST', V3, { username: 'browser', password: 'pw' }));
    const { page, doneCalls, errors } = await openFallback(session);

    assert.equal(await page.title(), 'Authentication');
    await page.getByText('Please confirm that you are not a robot.').waitFor();
    const widget = page.locator('.g-recaptcha button');
    await widget.waitFor();
    assert.equal(await page.locator('.g-recaptcha').getAttribute('data-sitekey'), CAPTCHA_PUBLIC_KEY);
    assert.equal(await widget.getAttribute('data-sitekey'), CAPTCHA_PUBLIC_KEY);
    assert.ok(scriptRequests.length > 0, 'the page loads the reCAPTCHA script');
    await page.screenshot({ path: join(shots, 'fallback-before.png'), fullPage: true });

    await widget.click();
    await page.getByText(THANKS).waitFor();
    await page.waitForFunction("document.getElementById('captcha').hidden === true");
    assert.equal(doneCalls(), 1, 'window.onAuthDone was called once');
    assert.equal(await page.getByText('Please confirm that you are not a robot.').isVisible(), false);
    assert.deepEqual(errors, []);
    const shot = join(shots, 'fallback-done.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 1000, 'a real screenshot was written');
    assert.equal(cs.verifier.received.at(-1)?.get('response'), 'good');

    // Spec "Fallback": the client retries with just the session; the captcha shows as completed.
    const check = await s.request('POST', V3, { auth: { session } });
    assertChallenge(check);
    assert.deepEqual(check.body.completed, ['m.login.recaptcha']);
    assert.deepEqual(check.body.flows, [{ stages: ['m.login.recaptcha', 'm.login.dummy'] }]);
    // The completing request carries the original body again, as matrix-js-sdk sends it: a
    // password that only came with a challenge was never hashed or kept (README "Security").
    const done = await s.request('POST', V3, {
      username: 'browser',
      password: 'pw',
      auth: { type: 'm.login.dummy', session },
    });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.user_id, '@browser:localhost');
    assert.equal(typeof done.body.access_token, 'string');
    await page.context().close();
  });

  it('a refused captcha shows an error, completes nothing, and the widget can be tried again', { skip }, async () => {
    const session = assertChallenge(await s.request('POST', V3, { username: 'browserbad', password: 'pw' }));
    const { page, doneCalls, errors } = await openFallback(session);
    const widget = page.locator('.g-recaptcha button');
    await widget.waitFor();

    await page.evaluate("window.fakeCaptchaAnswer = 'bad'");
    await widget.click();
    // The server's error text lands in the status line; the widget is reset for another try.
    await page.waitForFunction('window.fakeCaptchaResets === 1');
    assert.equal(await page.locator('#status').textContent(), 'Captcha was not accepted');
    assert.equal(await page.locator('#status').isVisible(), true);
    assert.equal(await page.locator('#captcha').isVisible(), true, 'the widget stays visible');
    assert.equal(await widget.isEnabled(), true, 'the widget was reset');
    assert.equal(doneCalls(), 0);
    await page.screenshot({ path: join(shots, 'fallback-refused.png'), fullPage: true });
    assert.equal(cs.verifier.received.at(-1)?.get('response'), 'bad');

    const check = await s.request('POST', V3, { auth: { session } });
    assertChallenge(check);
    // Nothing completed: `completed` is absent or empty (Synapse omits it when empty).
    assert.deepEqual(check.body.completed ?? [], [], JSON.stringify(check.body));
    assert.equal((await s.request('POST', V3, { auth: { type: 'm.login.dummy', session } })).status, 401);

    // A second, good answer on the same page still works.
    await page.evaluate("window.fakeCaptchaAnswer = 'good'");
    await widget.click();
    await page.getByText(THANKS).waitFor();
    assert.equal(doneCalls(), 1);
    assert.deepEqual(errors, []);
    const again = await s.request('POST', V3, { auth: { session } });
    assert.deepEqual(again.body.completed, ['m.login.recaptcha'], JSON.stringify(again.body));
    await page.context().close();
  });

  it('without onAuthDone the page tells its opener "authDone" by postMessage', { skip }, async () => {
    const session = assertChallenge(await s.request('POST', V3, { username: 'browserpopup', password: 'pw' }));
    const context = await newContext();
    // The client's own page (same origin here, any origin works: the target is "*") opens the popup.
    const opener = await context.newPage();
    await opener.goto(`${s.url}/_matrix/client/versions`);
    // Page functions are strings: the test tsconfig has no DOM types.
    await opener.evaluate(
      "window.messages = []; window.addEventListener('message', (e) => window.messages.push(e.data))",
    );
    const [popup] = await Promise.all([
      context.waitForEvent('page'),
      opener.evaluate(`void window.open(${JSON.stringify(fallbackUrl(session))}, 'captcha')`),
    ]);
    const widget = popup.locator('.g-recaptcha button');
    await widget.waitFor();
    await widget.click();
    await popup.getByText(THANKS).waitFor();
    await opener.waitForFunction('window.messages.length > 0');
    assert.deepEqual(await opener.evaluate('window.messages'), ['authDone']);
    const check = await s.request('POST', V3, { auth: { session } });
    assert.deepEqual(check.body.completed, ['m.login.recaptcha'], JSON.stringify(check.body));
    await context.close();
  });
});
