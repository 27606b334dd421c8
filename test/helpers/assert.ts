import assert from 'node:assert/strict';
import type { TestResponse } from './server.js';

/** The shared assertions on Matrix replies; each prints the reply body when it fails. */

/** Any reply with a status and a parsed body (TestServer.request, processes.call). */
export interface Reply {
  status: number;
  body: any;
}

/** A Matrix error: `status`, `errcode`, and a human-readable `error` string (spec: Standard error response). */
export function assertError(res: Reply, status: number, errcode: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.errcode, errcode, JSON.stringify(res.body));
  assert.equal(typeof res.body.error, 'string', JSON.stringify(res.body));
}

/** 401 M_UNKNOWN_TOKEN with soft_logout false: the session is over, not merely expired (spec: soft logout). */
export function assertLoggedOut(res: Reply): void {
  assertError(res, 401, 'M_UNKNOWN_TOKEN');
  assert.equal(res.body.soft_logout, false, JSON.stringify(res.body));
}

/**
 * A UIA challenge (spec: User-Interactive Authentication API): 401 JSON with flows of stages,
 * params and a session; `errcode` only when a stage failed (null: none). Returns the session.
 */
export function assertChallenge(res: TestResponse, errcode: string | null = null): string {
  assert.equal(res.status, 401, JSON.stringify(res.body));
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  assert.ok(Array.isArray(res.body.flows), JSON.stringify(res.body));
  for (const flow of res.body.flows) assert.ok(Array.isArray(flow.stages), JSON.stringify(flow));
  assert.equal(typeof res.body.params, 'object', JSON.stringify(res.body));
  assert.equal(typeof res.body.session, 'string', JSON.stringify(res.body));
  assert.equal(res.body.errcode, errcode ?? undefined, JSON.stringify(res.body));
  if (errcode !== null) assert.equal(typeof res.body.error, 'string', JSON.stringify(res.body));
  return res.body.session;
}

/** The re-authentication challenge of the account and device endpoints: m.login.password only. */
export function assertPasswordChallenge(res: TestResponse, errcode: string | null = null): string {
  const session = assertChallenge(res, errcode);
  assert.deepEqual(res.body.flows, [{ stages: ['m.login.password'] }]);
  return session;
}
