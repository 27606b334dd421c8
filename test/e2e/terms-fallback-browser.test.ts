// A real browser fills in the UIA fallback pages of `m.login.terms` and
// `m.login.registration_token` (spec: client-server API "Fallback"): Debian's Chromium driven by
// playwright-core, as test/e2e/fallback-browser.test.ts does for the captcha's page.
//
// In CI (CI=true) a missing /usr/bin/chromium is a failure, never a skip.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { assertChallenge } from '../helpers/assert.js';
import { browserSkip, isolatedContext, launchChromium } from '../helpers/browser.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { consentConfig, type PolicyDir, policyDir } from '../helpers/terms.js';

const V3 = '/_matrix/client/v3/register';
const THANKS = /Thank you\. You may now close this window/;
const TERMS = 'm.login.terms';
const TOKEN = 'm.login.registration_token';

const skip = browserSkip();

describe('the terms and registration token fallback pages in a real browser (Chromium)', () => {
  let s: TestServer;
  let policies: PolicyDir;
  let browser: Browser;

  before(async () => {
    if (skip) return;
    policies = policyDir('1.0');
    s = await startServer({ config: { registration_requires_token: true, ...consentConfig(policies.dir) } });
    await s.app.services.registrationTokens.create({ token: 'let-me-in', usesAllowed: null, expiryTime: null });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await s?.close();
    policies?.cleanup();
  });

  /** A context that can reach only our server. */
  function newContext(): Promise<BrowserContext> {
    return isolatedContext(browser, s.url, {});
  }

  /** The fallback page of `stage` with a `window.onAuthDone` hook that counts its calls. */
  async function open(
    stage: string,
    session: string,
  ): Promise<{ page: Page; doneCalls: () => number; errors: string[] }> {
    const page = await (await newContext()).newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    let done = 0;
    await page.exposeFunction('onAuthDone', () => {
      done++;
    });
    const url = `${s.url}/_matrix/client/v3/auth/${stage}/fallback/web?session=${encodeURIComponent(session)}`;
    const res = await page.goto(url);
    assert.equal(res?.status(), 200);
    return { page, doneCalls: () => done, errors };
  }

  it('token page: a wrong token shows the error; the right one completes the stage', { skip }, async () => {
    const session = assertChallenge(await s.request('POST', V3, { username: 'web', password: 'pw' }));
    const { page, doneCalls, errors } = await open(TOKEN, session);
    assert.equal(await page.title(), 'Authentication');
    await page.getByLabel('Registration token').fill('not-a-token');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('Invalid registration token').waitFor();
    assert.equal(doneCalls(), 0);
    assert.equal(await page.locator('#form').isVisible(), true);

    await page.getByLabel('Registration token').fill('let-me-in');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText(THANKS).waitFor();
    assert.equal(doneCalls(), 1, 'window.onAuthDone was called once');
    assert.deepEqual(errors, []);
    const check = await s.request('POST', V3, { auth: { session } });
    assertChallenge(check);
    assert.deepEqual(check.body.completed, [TOKEN]);
    await page.context().close();
  });

  it('terms page: links the policy; Accept needs the checkbox, then completes the stage', { skip }, async () => {
    const session = assertChallenge(await s.request('POST', V3, { username: 'reader', password: 'pw' }));
    assert.equal((await s.request('POST', V3, { auth: { type: TOKEN, token: 'let-me-in', session } })).status, 401);
    const { page, doneCalls, errors } = await open(TERMS, session);

    const links = page.locator('#policies a');
    assert.equal(await links.count(), 2);
    assert.equal(await links.first().textContent(), 'Terms of Service');
    const href = (await links.first().getAttribute('href'))!;
    assert.match(href, /\/_matrix\/consent\?v=1\.0&lang=en$/);
    const accept = page.getByRole('button', { name: 'Accept and continue' });
    assert.equal(await accept.isDisabled(), true, 'Accept waits for the checkbox');

    // The policy the link names is served by Tessera (the link's host is public_baseurl).
    const policy = await (await newContext()).newPage();
    await policy.goto(s.url + new URL(href).pathname + new URL(href).search);
    assert.equal(await policy.locator('h1').textContent(), 'Terms of en, version 1.0');
    await policy.context().close();

    await page.getByLabel('I have read and agree to the terms above').check();
    await accept.click();
    await page.getByText(THANKS).waitFor();
    assert.equal(doneCalls(), 1);
    assert.deepEqual(errors, []);

    // Spec "Fallback": the client goes on with the session; then the account has the version.
    const check = await s.request('POST', V3, { auth: { session } });
    assert.deepEqual(check.body.completed, [TOKEN, TERMS]);
    const done = await s.request('POST', V3, {
      username: 'reader',
      password: 'pw',
      auth: { type: 'm.login.dummy', session },
    });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal((await s.app.storage.users.findByUserId('@reader:localhost'))?.consent_version, '1.0');
    await page.context().close();
  });

  it('without onAuthDone the terms page tells its opener "authDone" by postMessage', { skip }, async () => {
    const session = assertChallenge(await s.request('POST', V3, { username: 'popup', password: 'pw' }));
    await s.request('POST', V3, { auth: { type: TOKEN, token: 'let-me-in', session } });
    const context = await newContext();
    const opener = await context.newPage();
    await opener.goto(`${s.url}/_matrix/client/versions`);
    await opener.evaluate(
      "window.messages = []; window.addEventListener('message', (e) => window.messages.push(e.data))",
    );
    const url = `${s.url}/_matrix/client/v3/auth/${TERMS}/fallback/web?session=${encodeURIComponent(session)}`;
    const [popup] = await Promise.all([
      context.waitForEvent('page'),
      opener.evaluate(`void window.open(${JSON.stringify(url)}, 'terms')`),
    ]);
    await popup.getByLabel('I have read and agree to the terms above').check();
    await popup.getByRole('button', { name: 'Accept and continue' }).click();
    await popup.getByText(THANKS).waitFor();
    await opener.waitForFunction('window.messages.length > 0');
    assert.deepEqual(await opener.evaluate('window.messages'), ['authDone']);
    await context.close();
  });
});
