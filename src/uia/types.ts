import type { CompletedStage, UiaSessionRow } from '../storage/repos/uia-sessions.js';

/** The `auth` dict of a UIA request (spec: "Authentication types"), or a v1 stage body. */
export interface AuthDict {
  type?: string;
  session?: string;
  [key: string]: unknown;
}

export interface StageContext {
  session: UiaSessionRow;
  /** For re-authentication operations: the user the stage must prove (the token owner). */
  userId: string | null;
  /** Stages already completed in this session, in order. */
  completed: readonly CompletedStage[];
  remoteIp: string;
}

/**
 * One authentication stage, a small plug-in. `check` throws a MatrixError when the stage
 * fails; what it returns is remembered with the completed stage (e.g. the proven user id).
 */
export interface Stage {
  readonly type: string;
  /** Data a client needs before it can perform the stage (`params[type]` in 401 replies). */
  params?(): Record<string, unknown> | null;
  /**
   * The stage writes rows that refer to its session (a registration token hold): a new
   * session is stored before `check` runs, and deleted again when the stage fails.
   */
  readonly needsStoredSession?: boolean;
  check(auth: AuthDict, ctx: StageContext): Promise<unknown>;
}

/** An operation protected by UIA, as one request sees it. */
export interface UiaOperation {
  /** Sessions are bound to their operation; a session cannot be reused for another one. */
  name: string;
  /** Each flow is an ordered list of stage types; completing any one flow is enough. */
  flows: readonly (readonly string[])[];
  stages: ReadonlyMap<string, Stage>;
  /** The token owner for re-authentication operations, else null. */
  userId: string | null;
  /**
   * What of a request body may be stored with the session (spec: the server remembers the
   * request so later stages may omit it). Strips secrets; default: everything but `auth`.
   */
  persistBody?(body: Record<string, unknown>): Record<string, unknown>;
}
