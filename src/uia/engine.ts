import { MatrixError, UiaChallenge } from '../errors.js';
import type { CompletedStage, UiaSessionRow } from '../storage/repos/uia-sessions.js';
import type { Storage } from '../storage/storage.js';
import type { Clock } from '../util/clock.js';
import type { Random } from '../util/random.js';
import type { AuthDict, UiaOperation } from './types.js';

/**
 * A stage that did not pass (wrong password, captcha refused, bad token). v1 answers it as a
 * plain error with its own status; UIA turns it into the 401 challenge with `errcode`/`error`
 * so the client may try again (spec-notes §1.3.5).
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
}

function withoutAuth(body: Record<string, unknown>): Record<string, unknown> {
  const { auth: _auth, ...rest } = body;
  return rest;
}

/**
 * User-interactive authentication (spec: client-server API, "User-Interactive Authentication
 * API"; shared/docs/spec-notes.md §1), one engine for v1 registration, v3 registration and
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
      request_body: JSON.stringify((op.persistBody ?? withoutAuth)(body)),
      result: null,
      created_ts: now,
      expires_ts: now + this.opts.sessionLifetimeMs,
    };
  }

  async deleteSession(sessionId: string): Promise<void> {
    await this.opts.storage.uiaSessions.delete(sessionId);
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
   * `session` null starts a new session, stored only when the stage passes and the flow is
   * not yet done: a one-stage flow (v1 password registration) writes no session at all.
   */
  async submitStage(
    op: UiaOperation,
    session: UiaSessionRow | null,
    auth: AuthDict & { type: string },
    remoteIp: string,
    body: Record<string, unknown> = {},
  ): Promise<StageOutcome> {
    const row = session ?? this.newSessionRow(op, body);
    const completed = session === null ? [] : await this.opts.storage.uiaSessions.listStages(row.session_id);
    let data: unknown = null;
    const fresh = !completed.some((c) => c.stage === auth.type);
    if (fresh) {
      const stage = op.stages.get(auth.type);
      if (stage === undefined || !this.allowedNext(op, completed).includes(auth.type)) {
        throw new StageNotAllowed(auth.type);
      }
      data = (await stage.check(auth, { session: row, userId: op.userId, completed, remoteIp })) ?? null;
    }
    const done = this.isDone(op, [...completed, ...(fresh ? [{ stage: auth.type, data }] : [])]);
    const stored = session !== null || !done;
    if (session === null && stored) await this.opts.storage.uiaSessions.create(row);
    if (fresh) {
      if (stored) {
        await this.opts.storage.uiaSessions.addStage(
          row.session_id,
          auth.type,
          data,
          this.opts.clock.now(),
          completed.length,
        );
      }
      completed.push({ stage: auth.type, data });
    }
    return { session: row, stored, completed, done, next: this.allowedNext(op, completed) };
  }

  /**
   * The whole UIA dance for one request of `op` (spec-notes §1.3): returns when a flow is
   * complete; otherwise throws the 401 challenge (with errcode/error when a stage just failed).
   */
  async authenticate(op: UiaOperation, body: Record<string, unknown>, remoteIp: string): Promise<UiaSuccess> {
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

    let session: UiaSessionRow;
    if (dict.session !== undefined) {
      session = await this.loadSession(op, dict.session);
      // Later requests may leave the body out; when they send fields, the newest values win.
      const fresh = (op.persistBody ?? withoutAuth)(body);
      if (Object.keys(fresh).length > 0) {
        const merged = { ...JSON.parse(session.request_body), ...fresh };
        session = { ...session, request_body: JSON.stringify(merged) };
        await this.opts.storage.uiaSessions.updateRequestBody(session.session_id, session.request_body);
      }
    } else {
      // No session: a new one. Synapse does this even when `auth` has a type, which is what
      // makes the one-shot `{"auth":{"type":"m.login.dummy"}}` registration work (spec-notes §1.3.4).
      session = await this.createSession(op, body);
    }

    let completed: CompletedStage[];
    if (dict.type === undefined) {
      // No type: the client asks us to look again (fallback stages, or the first request).
      completed = await this.opts.storage.uiaSessions.listStages(session.session_id);
      if (auth === undefined || Object.keys(dict).length === 0 || !this.isDone(op, completed)) {
        throw this.challenge(op, session, completed, null);
      }
    } else {
      try {
        completed = (await this.submitStage(op, session, dict as AuthDict & { type: string }, remoteIp)).completed;
      } catch (err) {
        if (err instanceof StageFailed) {
          const current = await this.opts.storage.uiaSessions.listStages(session.session_id);
          throw this.challenge(op, session, current, err);
        }
        throw err;
      }
      if (!this.isDone(op, completed)) throw this.challenge(op, session, completed, null);
    }
    const stored = JSON.parse(session.request_body) as Record<string, unknown>;
    return { session, completed, body: { ...stored, ...withoutAuth(body) } };
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
