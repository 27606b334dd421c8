import assert from 'node:assert/strict';
import { assertChallenge } from './assert.js';
import type { TestResponse, TestServer } from './server.js';
import type { SmtpSink } from './smtp-sink.js';

export const REQUEST_TOKEN = '/_matrix/client/v3/register/email/requestToken';
export const RESET_REQUEST_TOKEN = '/_matrix/client/v3/account/password/email/requestToken';
export const EMAIL_STAGE = 'm.login.email.identity';

export function requestToken(
  s: TestServer,
  email: string,
  clientSecret: string,
  sendAttempt = 1,
  extra: Record<string, unknown> = {},
  path = REQUEST_TOKEN,
): Promise<TestResponse> {
  return s.request('POST', path, { client_secret: clientSecret, email, send_attempt: sendAttempt, ...extra });
}

/** Open a mailed link (HTTP GET, as a browser does, without following redirects). */
export async function openLink(s: TestServer, link: string): Promise<Response> {
  const url = new URL(link);
  return fetch(`${s.url}${url.pathname}${url.search}`, { redirect: 'manual' });
}

/** requestToken → the mail → its link opened: a validated `sid`. */
export async function validatedSid(
  s: TestServer,
  sink: SmtpSink,
  email: string,
  clientSecret: string,
  path = REQUEST_TOKEN,
): Promise<string> {
  const res = await requestToken(s, email, clientSecret, 1, {}, path);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const mail = await sink.next(email.toLowerCase());
  assert.ok(mail.link, mail.body);
  const opened = await openLink(s, mail.link);
  assert.equal(opened.status, 200, await opened.text());
  return res.body.sid;
}

/** The v3 dance with an email stage: challenge, email stage, dummy. Returns the last reply. */
export async function registerWithEmail(
  s: TestServer,
  username: string,
  password: string,
  creds: { sid: string; client_secret: string },
): Promise<TestResponse> {
  const session = assertChallenge(await s.request('POST', '/_matrix/client/v3/register', { username }));
  const stage = await s.request('POST', '/_matrix/client/v3/register', {
    username,
    password,
    auth: { type: EMAIL_STAGE, threepid_creds: creds, session },
  });
  if (stage.status !== 401 || stage.body.errcode !== undefined) return stage;
  return s.request('POST', '/_matrix/client/v3/register', {
    username,
    password,
    auth: { type: 'm.login.dummy', session },
  });
}
