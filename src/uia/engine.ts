import { MatrixError, UiaChallenge } from '../errors.js';
import type { CompletedStage, UiaSessionRow } from '../storage/repos/uia-sessions.js';
import type { Storage } from '../storage/storage.js';
import type { Clock } from '../util/clock.js';
import type { Random } from '../util/random.js';
import type { StageTelemetry } from './ports.js';
import type { AuthDict, UiaOperation } from './types.js';

/**
 * A stage that did not pass (wrong password, captcha refused, bad token). v1 answers it as a
 * plain error with its own status; UIA turns it into the 401 challenge with `errcode`/`error`
 * so the client may try again (spec "User-Interactive Authentication API").
 */
export class StageFailed extends MatrixError {}

/** A stage submitted where no offered flow allows it: v1 answers 400, UIA answers 401. */
export class StageNotAllowed extends StageFailed {
  constructor(type: string) {
    super('M_UNKNOWN', `Bad login type: ${type} is not allowed at this point of any offered flow`);
  }
}

/** The state of a session after a stage was submitted. */
export interface StageOutcome {
  session: UiaSessionRow;
  /** False when the session was never written (a new session finished in one stage). */
  stored: boolean;
  completed: CompletedStage[];
  /** True when every stage of some offered flow is complete. */
  done: boolean;
  /** Stage types that may come next (v1's `next`), in flow order, without duplicates. */
  next: string[];
}

/** A UIA request that passed: the operation may run. */
export interface UiaSuccess {
  op: UiaOperation;
  /** Always stored, so the operation can consume it (UiaEngine.consume). */
  session: UiaSessionRow;
  completed: CompletedStage[];
  /** The stored request body overlaid with this request's fields (newest values win). */
  body: Record<string, unknown>;
}

export interface UiaEngineOptions {
  storage: Storage;
  clock: Clock;
  random: Random;
  sessionLifetimeMs: number;
  /** Stage outcomes for metrics (service/telemetry.ts). */
  telemetry?: StageTelemetry;
}

/** Hooks of one `authenticate` call. */
export interface AuthenticateHooks {
  /**
   * A stage of this request passed but the flow goes on: the operation may now store what it
   * would not store for a bare challenge (registration: the password's hash; no hashing work
   * for a request that only gets a challenge).
   */
  onStagePassed?(session: UiaSessionRow): Promise<void>;
}

/**
 * The most a session may remember of its request body, as JSON bytes. Operations store only
 * the few short fields they need later (persistBody), so this is far above what they use; it
 * bounds what an unauthenticated client can make the server store.
 */
export const MAX_STORED_BODY_BYTES = 4096;

function withoutAuth(body: Record<string, unknown>): Record<string, unknown> {
  const { auth: _auth, ...rest } = body;
  return rest;
}

/** The JSON a session stores, refused with 400 when it is over the cap. */
function storedBodyJson(body: Record<string, unknown>): string {
  let json: string;
  try {
    json = JSON.stringify(body);
  } catch {
    // JSON.stringify throws RangeError on very deep nesting; the body came from the client.
    throw new MatrixError('M_BAD_JSON', 'The request body cannot be stored');
  }
  if (Buffer.byteLength(json) > MAX_STORED_BODY_BYTES) {
    throw new MatrixError('M_TOO_LARGE', `The request parameters are over ${MAX_STORED_BODY_BYTES} bytes`, {}, 400);
  }
  return json;
}

/**
 * User-interactive authentication (spec: client-server API, "User-Interactive Authentication
 * API"), one engine for v1 registration, v3 registration and
 * account operations. Sessions and completed stages live in the database so that a restart
 * or another process can continue them.
 */
export class UiaEngine {
  constructor(private readonly opts: UiaEngineOptions) {}

  /** Open a new session for `op`, remembering `body`. */
  async createSession(op: UiaOperation, body: Record<string, unknown>): Promise<UiaSessionRow> {
    const row = this.newSessionRow(op, body);
    await this.opts.storage.uiaSessions.create(row);
    return row;
  }

  private newSessionRow(op: UiaOperation, body: Record<string, unknown>): UiaSessionRow {
    const now = this.opts.clock.now();
    return {
      session_id: this.opts.random.urlSafe(18),
      operation: op.name,
      user_id: op.userId,
      request_body: storedBodyJson((op.persistBody ?? withoutAuth)(body)),
      result: null,
      created_ts: now,
      expires_ts: now + this.opts.sessionLifetimeMs,
    };
  }

  async deleteSession(sessionId: string): Promise<void> {
    await this.opts.storage.uiaSessions.delete(sessionId);
  }

  /**
   * Use up the session of `success` inside the operation's transaction `tx`: one DELETE decides
   * which of several concurrent requests on one session (in any process) runs the operation;
   * the others get a 401 challenge (spec: a completed session authorises one request).
   */
  async consume(tx: Storage, success: UiaSuccess): Promise<void> {
    if (!(await tx.uiaSessions.consume(success.session.session_id))) throw this.sessionGone(success.op);
  }

  /** Merge `fields` into what the session remembers (same byte cap as the request body). */
  async remember(session: UiaSessionRow, fields: Record<string, unknown>): Promise<UiaSessionRow> {
    const merged = storedBodyJson({ ...JSON.parse(session.request_body), ...fields });
    await this.opts.storage.uiaSessions.updateRequestBody(session.session_id, merged);
    return { ...session, request_body: merged };
  }

  /** The 401 for a session deleted under a request (used by a concurrent one, or expired). */
  private sessionGone(op: UiaOperation): UiaChallenge {
    return this.challenge(
      op,
      null,
      [],
      new MatrixError('M_UNKNOWN', 'This session was used by another request or has expired; start again'),
    );
  }

  /** The live session `sessionId` of `op`; 400 when unknown or expired, 403 when bound elsewhere. */
  async loadSession(op: UiaOperation, sessionId: string): Promise<UiaSessionRow> {
    const session = await this.opts.storage.uiaSessions.find(sessionId, this.opts.clock.now());
    if (session === null) throw new MatrixError('M_UNKNOWN', 'Unknown or expired session');
    // A session authorises one operation for one user (spec: "the session … MUST NOT be used
    // for another operation"); Synapse answers 403.
    if (session.operation !== op.name || session.user_id !== op.userId) {
      throw new MatrixError('M_FORBIDDEN', 'This session belongs to another operation');
    }
    return session;
  }

  /**
   * Submit one stage (`auth.type`) to `session`. Stages must follow the order of some offered
   * flow (spec: "stages … must be completed in order"); resubmitting a completed stage is a
   * no-op. Throws StageFailed when the stage does not pass (StageNotAllowed when out of
   * place), or another MatrixError for a malformed stage dict.
   *
   * `session` null starts a new session, stored only when the stage passes, and then only
   * when the flow is not yet done unless `storeWhenDone`: a one-stage flow (v1 password
   * registration) writes no session at all, and a failed stage never leaves a row behind.
   */
  async submitStage(
    op: UiaOperation,
    session: UiaSessionRow | null,
    auth: AuthDict & { type: string },
    remoteIp: string,
    body: Record<string, unknown> = {},
    storeWhenDone = false,
  ): Promise<StageOutcome> {
    const row = session ?? this.newSessionRow(op, body);
    const completed = session === null ? [] : await this.opts.storage.uiaSessions.listStages(row.session_id);
    let data: unknown = null;
    let created = false;
    const fresh = !completed.some((c) => c.stage === auth.type);
    if (fresh) {
      const stage = op.stages.get(auth.type);
      if (stage === undefined || !this.allowedNext(op, completed).includes(auth.type)) {
        throw new StageNotAllowed(auth.type);
      }
      if (session === null && stage.needsStoredSession === true) {
        await this.opts.storage.uiaSessions.create(row);
        created = true;
      }
      try {
        data = (await stage.check(auth, { session: row, userId: op.userId, completed, remoteIp })) ?? null;
      } catch (err) {
        if (err instanceof StageFailed) this.opts.telemetry?.uiaStage(auth.type, 'failed');
        // As if never stored: a failed stage leaves no session behind.
        if (created) await this.opts.storage.uiaSessions.delete(row.session_id);
        throw err;
      }
      this.opts.telemetry?.uiaStage(auth.type, 'passed');
    }
    const done = this.isDone(op, [...completed, ...(fresh ? [{ stage: auth.type, data }] : [])]);
    const stored = session !== null || created || !done || storeWhenDone;
    if (session === null && stored && !created) await this.opts.storage.uiaSessions.create(row);
    if (fresh) {
      if (stored) {
        const added = await this.opts.storage.uiaSessions.addStage(
          row.session_id,
          auth.type,
          data,
          this.opts.clock.now(),
          completed.length,
        );
        // The session was deleted since we loaded it (a concurrent request consumed it).
        if (!added) throw this.sessionGone(op);
      }
      completed.push({ stage: auth.type, data });
    }
    return { session: row, stored, completed, done, next: this.allowedNext(op, completed) };
  }

  /**
   * The whole UIA dance for one request of `op` (spec "User-Interactive Authentication API"): returns when a flow is
   * complete; otherwise throws the 401 challenge (with errcode/error when a stage just failed).
   */
  async authenticate(
    op: UiaOperation,
    body: Record<string, unknown>,
    remoteIp: string,
    hooks: AuthenticateHooks = {},
  ): Promise<UiaSuccess> {
    const auth = body.auth;
    if (auth !== undefined && (typeof auth !== 'object' || auth === null || Array.isArray(auth))) {
      throw new MatrixError('M_BAD_JSON', 'auth must be an object');
    }
    const dict = (auth ?? {}) as AuthDict;
    if (dict.session !== undefined && typeof dict.session !== 'string') {
      throw new MatrixError('M_BAD_JSON', 'auth.session must be a string');
    }
    if (dict.type !== undefined && typeof dict.type !== 'string') {
      throw new MatrixError('M_BAD_JSON', 'auth.type must be a string');
    }

    let session: UiaSessionRow | null = null;
    if (dict.session !== undefined) {
      session = await this.loadSession(op, dict.session);
      // Later requests may leave the body out; when they send fields, the newest values win.
      const fresh = (op.persistBody ?? withoutAuth)(body);
      if (Object.keys(fresh).length > 0) session = await this.remember(session, fresh);
    }

    let completed: CompletedStage[];
    if (dict.type === undefined) {
      // No type: the client asks us to look again (fallback stages, or the first request).
      // Without a session that is the first request: a new session is stored for the challenge.
      session ??= await this.createSession(op, body);
      completed = await this.opts.storage.uiaSessions.listStages(session.session_id);
      if (auth === undefined || Object.keys(dict).length === 0 || !this.isDone(op, completed)) {
        throw this.challenge(op, session, completed, null);
      }
    } else {
      // A stage without a session starts a new one, as Synapse does, which is what makes the
      // one-shot `{"auth":{"type":"m.login.dummy"}}` registration work (spec "User-Interactive Authentication API").
      // Unlike Synapse, the new session is stored only once the stage passed: a refused guess
      // leaves no row (its challenge then carries no `session`, which the spec allows: "if one
      // is provided").
      let outcome: StageOutcome;
      try {
        outcome = await this.submitStage(op, session, dict as AuthDict & { type: string }, remoteIp, body, true);
      } catch (err) {
        if (err instanceof StageFailed) {
          const current = session === null ? [] : await this.opts.storage.uiaSessions.listStages(session.session_id);
          throw this.challenge(op, session, current, err);
        }
        throw err;
      }
      session = outcome.session;
      completed = outcome.completed;
      if (!outcome.done) {
        if (hooks.onStagePassed) await hooks.onStagePassed(session);
        throw this.challenge(op, session, completed, null);
      }
    }
    const stored = JSON.parse(session.request_body) as Record<string, unknown>;
    return { op, session, completed, body: { ...stored, ...withoutAuth(body) } };
  }

  /** The 401 reply body: flows, params, session, completed, and the stage error if any. */
  challenge(
    op: UiaOperation,
    session: UiaSessionRow | null,
    completed: readonly CompletedStage[],
    error: MatrixError | null,
  ) {
    const params: Record<string, unknown> = {};
    for (const type of new Set(op.flows.flat())) {
      const p = op.stages.get(type)?.params?.();
      if (p) params[type] = p;
    }
    return new UiaChallenge({
      ...(error && { errcode: error.errcode, error: error.message }),
      flows: op.flows.map((stages) => ({ stages: [...stages] })),
      params,
      ...(session && { session: session.session_id }),
      ...(completed.length > 0 && { completed: completed.map((c) => c.stage) }),
    });
  }

  isDone(op: UiaOperation, completed: readonly CompletedStage[]): boolean {
    const done = new Set(completed.map((c) => c.stage));
    return op.flows.some((flow) => flow.every((s) => done.has(s)));
  }

  /** Stage types that can come next: flows whose first stages are exactly those completed. */
  allowedNext(op: UiaOperation, completed: readonly CompletedStage[]): string[] {
    const next = new Set<string>();
    for (const flow of op.flows) {
      if (flow.length <= completed.length) continue;
      if (completed.every((c, i) => flow[i] === c.stage)) next.add(flow[completed.length]!);
    }
    return [...next];
  }
}
