import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { MatrixError, UiaChallenge } from '../../src/errors.js';
import { type OpenDatabase, openDatabase } from '../../src/storage/open.js';
import { createStorage, type Storage } from '../../src/storage/storage.js';
import { MAX_STORED_BODY_BYTES, StageFailed, StageNotAllowed, UiaEngine } from '../../src/uia/engine.js';
import type { AuthDict, Stage, UiaOperation } from '../../src/uia/types.js';
import { cryptoRandom } from '../../src/util/random.js';

/**
 * The UIA engine (spec: client-server API "User-Interactive Authentication API";
 * spec "User-Interactive Authentication API") against a real in-memory SQLite storage and a fake clock.
 */

const LIFETIME = 30 * 60_000;

class FakeClock {
  ms = 1_700_000_000_000;
  now(): number {
    return this.ms;
  }
}

/** A stage that passes when `auth.answer` is "yes", counting how often it was checked. */
function answerStage(type: string, params: Record<string, unknown> | null = null): Stage & { checks: number } {
  const stage = {
    type,
    checks: 0,
    params: () => params,
    async check(auth: AuthDict) {
      stage.checks++;
      if (auth.answer === undefined) throw new MatrixError('M_MISSING_PARAM', 'Missing JSON keys: answer');
      if (auth.answer !== 'yes') throw new StageFailed('M_FORBIDDEN', `${type} refused`);
      return { proved: type };
    },
  };
  return stage;
}

function operation(overrides: Partial<UiaOperation> = {}): UiaOperation & { stageA: Stage & { checks: number } } {
  const stageA = answerStage('test.a', { hint: 'A' });
  const stageB = answerStage('test.b');
  const stageC = answerStage('test.c');
  return {
    name: 'test.op',
    flows: [
      ['test.a', 'test.b'],
      ['test.c', 'test.b'],
    ],
    stages: new Map<string, Stage>([
      [stageA.type, stageA],
      [stageB.type, stageB],
      [stageC.type, stageC],
    ]),
    userId: null,
    stageA,
    ...overrides,
  };
}

/** Run `fn`, expecting the 401 challenge; returns its body. */
async function challengeOf(fn: () => Promise<unknown>): Promise<Record<string, any>> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof UiaChallenge, `expected a UIA challenge, got ${String(err)}`);
    assert.equal(err.status, 401);
    return err.body as Record<string, any>;
  }
  assert.fail('expected a UIA challenge');
}

async function matrixErrorOf(fn: () => Promise<unknown>): Promise<MatrixError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof MatrixError, `expected a MatrixError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a MatrixError');
}

describe('UiaEngine', () => {
  let database: OpenDatabase;
  let storage: Storage;
  let clock: FakeClock;
  let engine: UiaEngine;
  const IP = '127.0.0.1';

  before(async () => {
    database = await openDatabase({ kind: 'sqlite', path: ':memory:' });
    storage = createStorage(database.db, database.dialect);
  });
  after(() => database.close());
  beforeEach(() => {
    clock = new FakeClock();
    engine = new UiaEngine({ storage, clock, random: cryptoRandom, sessionLifetimeMs: LIFETIME });
  });

  it('answers a request without auth with the flows, params and a new stored session', async () => {
    const op = operation();
    const body = await challengeOf(() => engine.authenticate(op, { x: 1 }, IP));
    assert.deepEqual(body.flows, [{ stages: ['test.a', 'test.b'] }, { stages: ['test.c', 'test.b'] }]);
    assert.deepEqual(body.params, { 'test.a': { hint: 'A' } });
    assert.equal(typeof body.session, 'string');
    assert.equal(body.completed, undefined);
    assert.equal(body.errcode, undefined);
    const row = await storage.uiaSessions.find(body.session, clock.now());
    assert.ok(row !== null);
    assert.equal(row.operation, 'test.op');
    assert.equal(row.expires_ts, clock.now() + LIFETIME);
    assert.deepEqual(JSON.parse(row.request_body), { x: 1 });
  });

  it('walks a flow in order and then lets the operation run with the remembered body', async () => {
    const op = operation();
    const { session } = await challengeOf(() => engine.authenticate(op, { device: 'D1' }, IP));
    const mid = await challengeOf(() =>
      engine.authenticate(op, { auth: { type: 'test.a', answer: 'yes', session } }, IP),
    );
    assert.deepEqual(mid.completed, ['test.a']);
    assert.equal(mid.session, session);
    const done = await engine.authenticate(op, { auth: { type: 'test.b', answer: 'yes', session }, extra: 2 }, IP);
    assert.equal(done.session.session_id, session);
    assert.deepEqual(
      done.completed.map((c) => c.stage),
      ['test.a', 'test.b'],
    );
    assert.deepEqual(done.completed[0]!.data, { proved: 'test.a' });
    assert.deepEqual(done.body, { device: 'D1', extra: 2 });
  });

  it('allowedNext follows the flows: first stages, then only what continues a started flow', () => {
    const op = operation();
    assert.deepEqual(engine.allowedNext(op, []), ['test.a', 'test.c']);
    assert.deepEqual(engine.allowedNext(op, [{ stage: 'test.a', data: null }]), ['test.b']);
    assert.deepEqual(engine.allowedNext(op, [{ stage: 'test.b', data: null }]), []);
    assert.deepEqual(
      engine.allowedNext(op, [
        { stage: 'test.a', data: null },
        { stage: 'test.b', data: null },
      ]),
      [],
    );
    const shared = operation({ flows: [['test.a'], ['test.a', 'test.b'], ['test.c']] });
    assert.deepEqual(engine.allowedNext(shared, []), ['test.a', 'test.c']);
  });

  it('refuses a stage out of order with a challenge carrying M_UNKNOWN, without checking it', async () => {
    const op = operation();
    const stageB = op.stages.get('test.b') as Stage & { checks: number };
    const { session } = await challengeOf(() => engine.authenticate(op, {}, IP));
    const body = await challengeOf(() =>
      engine.authenticate(op, { auth: { type: 'test.b', answer: 'yes', session } }, IP),
    );
    assert.equal(body.errcode, 'M_UNKNOWN');
    assert.match(body.error, /test\.b/);
    assert.equal(body.completed, undefined);
    assert.equal(stageB.checks, 0);
    // After test.a, test.c (the other flow's first stage) is out of place.
    await challengeOf(() => engine.authenticate(op, { auth: { type: 'test.a', answer: 'yes', session } }, IP));
    const row = (await storage.uiaSessions.find(session, clock.now()))!;
    await assert.rejects(
      () => engine.submitStage(op, row, { type: 'test.c', answer: 'yes' }, IP),
      (err) => err instanceof StageNotAllowed && err.errcode === 'M_UNKNOWN',
    );
  });

  it('refuses a stage type no flow offers', async () => {
    const op = operation();
    const body = await challengeOf(() => engine.authenticate(op, { auth: { type: 'm.login.dummy' } }, IP));
    assert.equal(body.errcode, 'M_UNKNOWN');
  });

  it('turns StageFailed into a challenge with its errcode and keeps the session', async () => {
    const op = operation();
    const { session } = await challengeOf(() => engine.authenticate(op, {}, IP));
    await challengeOf(() => engine.authenticate(op, { auth: { type: 'test.a', answer: 'yes', session } }, IP));
    const failed = await challengeOf(() =>
      engine.authenticate(op, { auth: { type: 'test.b', answer: 'no', session } }, IP),
    );
    assert.equal(failed.errcode, 'M_FORBIDDEN');
    assert.equal(failed.error, 'test.b refused');
    assert.equal(failed.session, session);
    assert.deepEqual(failed.completed, ['test.a']);
    assert.ok(Array.isArray(failed.flows));
    const ok = await engine.authenticate(op, { auth: { type: 'test.b', answer: 'yes', session } }, IP);
    assert.equal(ok.session.session_id, session);
  });

  it('lets a malformed stage dict through as a plain 400, not a challenge', async () => {
    const op = operation();
    const err = await matrixErrorOf(() => engine.authenticate(op, { auth: { type: 'test.a' } }, IP));
    assert.ok(!(err instanceof StageFailed));
    assert.equal(err.errcode, 'M_MISSING_PARAM');
    assert.equal(err.status, 400);
  });

  it('keeps finished stages finished: a resubmitted stage is not checked again', async () => {
    const op = operation();
    const { session } = await challengeOf(() => engine.authenticate(op, {}, IP));
    await challengeOf(() => engine.authenticate(op, { auth: { type: 'test.a', answer: 'yes', session } }, IP));
    assert.equal(op.stageA.checks, 1);
    // Even a now-wrong answer does not undo it.
    const again = await challengeOf(() =>
      engine.authenticate(op, { auth: { type: 'test.a', answer: 'no', session } }, IP),
    );
    assert.equal(op.stageA.checks, 1);
    assert.equal(again.errcode, undefined);
    assert.deepEqual(again.completed, ['test.a']);
    // A failure of the next stage does not drop it either.
    const failed = await challengeOf(() =>
      engine.authenticate(op, { auth: { type: 'test.b', answer: 'no', session } }, IP),
    );
    assert.deepEqual(failed.completed, ['test.a']);
  });

  it('expires sessions after the configured lifetime', async () => {
    const op = operation();
    const { session } = await challengeOf(() => engine.authenticate(op, {}, IP));
    clock.ms += LIFETIME - 1;
    await challengeOf(() => engine.authenticate(op, { auth: { type: 'test.a', answer: 'yes', session } }, IP));
    clock.ms += 1;
    const err = await matrixErrorOf(() =>
      engine.authenticate(op, { auth: { type: 'test.b', answer: 'yes', session } }, IP),
    );
    assert.ok(!(err instanceof UiaChallenge));
    assert.equal(err.status, 400);
    assert.equal(err.errcode, 'M_UNKNOWN');
    assert.match(err.message, /expired/);
  });

  it('answers an unknown session with 400', async () => {
    const err = await matrixErrorOf(() =>
      engine.authenticate(operation(), { auth: { type: 'test.a', answer: 'yes', session: 'nope' } }, IP),
    );
    assert.equal(err.status, 400);
  });

  it('binds a session to its operation and user: anything else is 403', async () => {
    const op = operation({ userId: '@alice:hs' });
    const { session } = await challengeOf(() => engine.authenticate(op, {}, IP));
    const otherOp = { ...operation({ userId: '@alice:hs' }), name: 'test.other' };
    const e1 = await matrixErrorOf(() =>
      engine.authenticate(otherOp, { auth: { type: 'test.a', answer: 'yes', session } }, IP),
    );
    assert.equal(e1.status, 403);
    assert.equal(e1.errcode, 'M_FORBIDDEN');
    const otherUser = operation({ userId: '@mallory:hs' });
    const e2 = await matrixErrorOf(() =>
      engine.authenticate(otherUser, { auth: { type: 'test.a', answer: 'yes', session } }, IP),
    );
    assert.equal(e2.status, 403);
    const anonymous = operation({ userId: null });
    assert.equal((await matrixErrorOf(() => engine.loadSession(anonymous, session))).status, 403);
    // The rightful owner can still use it.
    assert.equal((await engine.loadSession(op, session)).session_id, session);
  });

  it('never stores the auth dict, nor what persistBody strips', async () => {
    const op = operation({
      persistBody: ({ auth: _a, password: _p, ...rest }) => rest,
    });
    const secret = 'plaintext-password-123';
    const { session } = await challengeOf(() =>
      engine.authenticate(op, { username: 'alice', password: secret, auth: { password: secret } }, IP),
    );
    await challengeOf(() =>
      engine.authenticate(op, { password: secret, auth: { type: 'test.a', answer: 'yes', session } }, IP),
    );
    const row = (await storage.uiaSessions.find(session, clock.now()))!;
    assert.ok(!row.request_body.includes(secret), row.request_body);
    assert.deepEqual(JSON.parse(row.request_body), { username: 'alice' });
    const done = await engine.authenticate(
      op,
      { password: secret, auth: { type: 'test.b', answer: 'yes', session } },
      IP,
    );
    // The current request's own fields still reach the operation.
    assert.deepEqual(done.body, { username: 'alice', password: secret });
  });

  it('rejects auth, auth.type and auth.session of the wrong JSON type with M_BAD_JSON', async () => {
    const op = operation();
    for (const body of [{ auth: 'x' }, { auth: [] }, { auth: { type: 5 } }, { auth: { type: 'test.a', session: 7 } }]) {
      const err = await matrixErrorOf(() => engine.authenticate(op, body, IP));
      assert.equal(err.errcode, 'M_BAD_JSON', JSON.stringify(body));
    }
  });

  it('submitStage stores nothing when a new session finishes in one stage', async () => {
    const op = operation({ flows: [['test.a']] });
    const outcome = await engine.submitStage(op, null, { type: 'test.a', answer: 'yes' }, IP);
    assert.equal(outcome.done, true);
    assert.equal(outcome.stored, false);
    assert.equal(await storage.uiaSessions.find(outcome.session.session_id, clock.now()), null);
  });

  it('submitStage stores a new session when more stages follow, and reports next', async () => {
    const op = operation();
    const outcome = await engine.submitStage(op, null, { type: 'test.c', answer: 'yes' }, IP, { k: 'v' });
    assert.equal(outcome.done, false);
    assert.equal(outcome.stored, true);
    assert.deepEqual(outcome.next, ['test.b']);
    const row = await storage.uiaSessions.find(outcome.session.session_id, clock.now());
    assert.ok(row !== null);
    assert.deepEqual(
      (await storage.uiaSessions.listStages(row.session_id)).map((s) => s.stage),
      ['test.c'],
    );
  });

  it('a failed first stage stores no session', async () => {
    const op = operation();
    await assert.rejects(
      () => engine.submitStage(op, null, { type: 'test.a', answer: 'no' }, IP),
      (err) => err instanceof StageFailed,
    );
  });

  it('a failed stage without a session stores no session and names none', async () => {
    const op = operation();
    const before = await storage.uiaSessions.count();
    const failed = await challengeOf(() => engine.authenticate(op, { auth: { type: 'test.a', answer: 'no' } }, IP));
    assert.equal(failed.errcode, 'M_FORBIDDEN');
    assert.equal(failed.session, undefined);
    const misplaced = await challengeOf(() => engine.authenticate(op, { auth: { type: 'test.b', answer: 'yes' } }, IP));
    assert.equal(misplaced.errcode, 'M_UNKNOWN');
    assert.equal(misplaced.session, undefined);
    assert.equal(await storage.uiaSessions.count(), before);
  });

  it('a one-shot flow that passes is stored, so the operation can consume it exactly once', async () => {
    const op = operation({ flows: [['test.a']] });
    const first = await engine.authenticate(op, { auth: { type: 'test.a', answer: 'yes' } }, IP);
    assert.ok((await storage.uiaSessions.find(first.session.session_id, clock.now())) !== null);
    await storage.transaction((tx) => engine.consume(tx, first));
    assert.equal(await storage.uiaSessions.find(first.session.session_id, clock.now()), null);
    const again = await challengeOf(() => storage.transaction((tx) => engine.consume(tx, first)));
    assert.equal(again.errcode, 'M_UNKNOWN');
    assert.equal(again.session, undefined);
  });

  it('a stage completed on a session deleted meanwhile is a 401 challenge, not a storage error', async () => {
    const op = operation();
    const { session } = await challengeOf(() => engine.authenticate(op, {}, IP));
    const row = (await storage.uiaSessions.find(session, clock.now()))!;
    await storage.uiaSessions.delete(session);
    const gone = await challengeOf(() => engine.submitStage(op, row, { type: 'test.a', answer: 'yes' }, IP));
    assert.equal(gone.errcode, 'M_UNKNOWN');
  });

  it('refuses to store a body over the byte cap, or one too deep to serialise, with a 400', async () => {
    const op = operation();
    const big = await matrixErrorOf(() => engine.authenticate(op, { name: 'x'.repeat(MAX_STORED_BODY_BYTES) }, IP));
    assert.equal(big.errcode, 'M_TOO_LARGE');
    assert.equal(big.status, 400);
    let deep: unknown = 'leaf';
    for (let i = 0; i < 20_000; i++) deep = { d: deep };
    const nested = await matrixErrorOf(() => engine.authenticate(op, { deep }, IP));
    assert.equal(nested.errcode, 'M_BAD_JSON');
    assert.equal(nested.status, 400);
    // A later request cannot grow a stored session past the cap either.
    const { session } = await challengeOf(() => engine.authenticate(op, { name: 'small' }, IP));
    const grown = await matrixErrorOf(() =>
      engine.authenticate(op, { name: 'y'.repeat(MAX_STORED_BODY_BYTES), auth: { session } }, IP),
    );
    assert.equal(grown.errcode, 'M_TOO_LARGE');
    assert.deepEqual(JSON.parse((await storage.uiaSessions.find(session, clock.now()))!.request_body), {
      name: 'small',
    });
  });
});
