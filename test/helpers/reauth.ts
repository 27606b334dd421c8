import assert from 'node:assert/strict';
import type { TestResponse, TestServer } from './server.js';

/** Fixtures for the re-authentication tests (devices, account): users, devices, auth dicts. */

export interface TestUser {
  userId: string;
  localpart: string;
  password: string;
  /** The device and token of the registration. */
  deviceId: string;
  token: string;
}

export function assertError(res: TestResponse, status: number, errcode: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.errcode, errcode, JSON.stringify(res.body));
  assert.equal(typeof res.body.error, 'string');
}

/** Register through the v1 API (works without any other endpoint). */
export async function registerUser(
  s: TestServer,
  localpart: string,
  password = `pw-${localpart}-1`,
): Promise<TestUser> {
  const res = await s.request('POST', '/_matrix/client/api/v1/register', {
    type: 'm.login.password',
    user: localpart,
    password,
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { userId: res.body.user_id, localpart, password, deviceId: res.body.device_id, token: res.body.access_token };
}

/** A further logged-in device of `user`: POST /login, which creates a new device. */
export async function newDevice(s: TestServer, user: TestUser): Promise<{ deviceId: string; token: string }> {
  const res = await s.request('POST', '/_matrix/client/v3/login', {
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user: user.userId },
    password: user.password,
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { deviceId: res.body.device_id, token: res.body.access_token };
}

/** The `auth` dict of the m.login.password stage. */
export function passwordAuth(user: string, password: string, session?: string): Record<string, unknown> {
  return {
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user },
    password,
    ...(session !== undefined && { session }),
  };
}

/** Status of GET whoami with `token`: 200 while it works, 401 once revoked. */
export async function whoamiStatus(s: TestServer, token: string): Promise<number> {
  return (await s.request('GET', '/_matrix/client/v3/account/whoami', undefined, { token })).status;
}

/** POST /login with `password`: null when it succeeds, else the errcode of the 403. */
export async function loginErrcode(s: TestServer, user: string, password: string): Promise<string | null> {
  const res = await s.request('POST', '/_matrix/client/v3/login', {
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user },
    password,
  });
  if (res.status === 200) {
    assert.equal(typeof res.body.access_token, 'string');
    return null;
  }
  assert.equal(res.status, 403, JSON.stringify(res.body));
  return res.body.errcode;
}
