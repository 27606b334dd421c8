// The page an emailed validation link opens, in a real browser (Chromium): the address is
// confirmed, and the registration's email stage then passes. A user clicks the link in their
// mail client; the page must work without anything but the link.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { assertChallenge } from '../helpers/assert.js';
import { browserSkip, isolatedContext, launchChromium } from '../helpers/browser.js';
import { EMAIL_STAGE, requestToken } from '../helpers/email.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { emailConfig, type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';

const V3 = '/_matrix/client/v3/register';
const skip = browserSkip();

describe('the emailed validation link in a real browser (Chromium)', () => {
  let s: TestServer;
  let sink: SmtpSink;
  let browser: Browser;
  before(async () => {
    if (skip) return;
    sink = await startSmtpSink();
    s = await startServer({ config: { registrations_require_3pid: ['email'], email: emailConfig(sink) } });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await s?.close();
    await sink?.close();
  });

  it('the link shows the address confirmed; the email stage then passes; a tampered link does not', {
    skip,
  }, async () => {
    const secret = 'browser-secret-1';
    const sid = (await requestToken(s, 'ivy@example.org', secret)).body.sid as string;
    const mail = await sink.next('ivy@example.org');
    const link = new URL(mail.link!);
    const context = await isolatedContext(browser, s.url, {});
    const page = await context.newPage();

    // A link whose token was changed: an error page, nothing validated.
    const tampered = new URL(link);
    tampered.searchParams.set('token', 'not-the-token');
    const bad = await page.goto(`${s.url}${tampered.pathname}${tampered.search}`);
    assert.equal(bad?.status(), 400);
    assert.doesNotMatch(await page.title(), /confirmed/);

    const res = await page.goto(`${s.url}${link.pathname}${link.search}`);
    assert.equal(res?.status(), 200);
    assert.equal(await page.title(), 'Email address confirmed');
    await context.close();

    const session = assertChallenge(await s.request('POST', V3, { username: 'ivy', password: 'pw' }));
    const step = await s.request('POST', V3, {
      auth: { type: EMAIL_STAGE, threepid_creds: { sid, client_secret: secret }, session },
    });
    assertChallenge(step);
    assert.deepEqual(step.body.completed, [EMAIL_STAGE]);
  });
});
