import assert from 'node:assert/strict';
import type { TestResponse, TestServer } from './server.js';

/** User fixtures for the HTTP tests: register, log in, check a token, build auth dicts. */

const V1_REGISTER = '/_matrix/client/api/v1/register';
const LOGIN = '/_matrix/client/v3/login';
const WHOAMI = '/_matrix/client/v3/account/whoami';

export interface TestUser {
  userId: string;
  localpart: string;
  password: string;
  /** The device and token of the registration. */
  deviceId: string;
  token: string;
}

/** A logged-in device: its id, its access token, and the whole 200 body (refresh_token, …). */
export interface LoggedIn {
  deviceId: string;
  token: string;
  body: any;
}

/** The body of the v1 register password stage (`user` and `password` may be malformed on purpose). */
export function v1Password(user: unknown, password: unknown, extra: Record<string, unknown> = {}) {
  return { type: 'm.login.password', user, password, ...extra };
}

/** Register through the v1 API (works without any other endpoint). */
export async function registerUser(
  s: TestServer,
  localpart: string,
  password = `pw-${localpart}-1`,
): Promise<TestUser> {
  const res = await s.request('POST', V1_REGISTER, v1Password(localpart, password));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { userId: res.body.user_id, localpart, password, deviceId: res.body.device_id, token: res.body.access_token };
}

/**
 * An m.login.password body with an m.id.user identifier: for POST /login (with `extra` such as
 * device_id or refresh_token) and, as `auth`, for the UIA password stage.
 */
export function passwordLogin(user: string, password: string, extra: Record<string, unknown> = {}) {
  return { type: 'm.login.password', identifier: { type: 'm.id.user', user }, password, ...extra };
}

/** The `auth` dict of the m.login.password stage. */
export function passwordAuth(user: string, password: string, session?: string): Record<string, unknown> {
  return passwordLogin(user, password, session !== undefined ? { session } : {});
}

/** POST /login that must succeed; each call without device_id makes a new device. */
export async function login(
  s: TestServer,
  user: string,
  password: string,
  extra: Record<string, unknown> = {},
): Promise<LoggedIn> {
  const res = await s.request('POST', LOGIN, passwordLogin(user, password, extra));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { deviceId: res.body.device_id, token: res.body.access_token, body: res.body };
}

/** A further logged-in device of `user`: POST /login, which creates a new device. */
export async function newDevice(s: TestServer, user: TestUser): Promise<LoggedIn> {
  return login(s, user.userId, user.password);
}

/** GET whoami with `token`. */
export function whoami(s: TestServer, token: string): Promise<TestResponse> {
  return s.request('GET', WHOAMI, undefined, { token });
}

/** Status of GET whoami with `token`: 200 while it works, 401 once revoked. */
export async function whoamiStatus(s: TestServer, token: string): Promise<number> {
  return (await whoami(s, token)).status;
}

/** POST /login with `password`: null when it succeeds, else the errcode of the 403. */
export async function loginErrcode(s: TestServer, user: string, password: string): Promise<string | null> {
  const res = await s.request('POST', LOGIN, passwordLogin(user, password));
  if (res.status === 200) {
    assert.equal(typeof res.body.access_token, 'string');
    return null;
  }
  assert.equal(res.status, 403, JSON.stringify(res.body));
  return res.body.errcode;
}
