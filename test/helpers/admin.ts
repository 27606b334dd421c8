import type { TestResponse, TestServer } from './server.js';
import { registerUser, type TestUser } from './users.js';

/** Helpers for Synapse's admin API tests. */

export const ADMIN = '/_synapse/admin';

/** Register an account and make it a server admin (as `register_new_matrix_user -a` would). */
export async function registerAdmin(s: TestServer, localpart: string, password?: string): Promise<TestUser> {
  const user = await registerUser(s, localpart, password);
  await s.app.storage.users.updateAdmin(user.userId, true);
  return user;
}

/** A request to the admin API with `token`; `path` is under /_synapse/admin. */
export function admin(
  s: TestServer,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<TestResponse> {
  return s.request(method, ADMIN + path, body, { token });
}

/** `@alice:localhost` as a path segment (percent-encoded, as careful clients send it). */
export function enc(userId: string): string {
  return encodeURIComponent(userId);
}
