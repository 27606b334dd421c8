/**
 * Matrix errors as values. Every error a client sees is built here: code throws
 * `new MatrixError('M_FORBIDDEN', '…')` and the HTTP status comes from the one table below
 * (spec: "Standard error response"; statuses per endpoint from the client-server API).
 * Anything that is not a MatrixError becomes a 500 M_UNKNOWN whose details go to the log only.
 */
export const ERRCODE_STATUS = {
  M_FORBIDDEN: 403,
  M_UNKNOWN_TOKEN: 401,
  M_MISSING_TOKEN: 401,
  M_USER_DEACTIVATED: 403,
  M_BAD_JSON: 400,
  M_NOT_JSON: 400,
  M_NOT_FOUND: 404,
  M_LIMIT_EXCEEDED: 429,
  M_UNRECOGNIZED: 404,
  M_UNKNOWN: 400,
  M_UNAUTHORIZED: 401,
  M_USER_IN_USE: 400,
  M_INVALID_USERNAME: 400,
  M_EXCLUSIVE: 400,
  M_INVALID_PARAM: 400,
  M_MISSING_PARAM: 400,
  M_TOO_LARGE: 413,
  M_CAPTCHA_NEEDED: 400,
  M_CAPTCHA_INVALID: 400,
  M_WEAK_PASSWORD: 400,
  M_GUEST_ACCESS_FORBIDDEN: 403,
  M_THREEPID_IN_USE: 400,
  M_THREEPID_NOT_FOUND: 400,
  M_THREEPID_AUTH_FAILED: 401,
  M_THREEPID_DENIED: 403,
  M_SERVER_NOT_TRUSTED: 401,
  M_UNSUPPORTED_ROOM_VERSION: 400,
  M_RESOURCE_LIMIT_EXCEEDED: 403,
  M_INVALID_TOKEN: 401,
  M_USER_LOCKED: 401,
  /**
   * MSC3866 (approval of new accounts), under the unstable name Synapse sends: the MSC is not
   * in the spec yet, and says "During development, the following unstable identifiers must be
   * used" (`M_USER_AWAITING_APPROVAL` once stable). See service/approval.ts.
   */
  'ORG.MATRIX.MSC3866_USER_AWAITING_APPROVAL': 403,
} as const;

export type ErrCode = keyof typeof ERRCODE_STATUS;

export class MatrixError extends Error {
  readonly errcode: ErrCode;
  /** HTTP status; the table's unless a spec rule names another one (405 M_UNRECOGNIZED, 500). */
  readonly status: number;
  /** Extra top-level keys of the error body (`soft_logout`, `retry_after_ms`, `error_url`…). */
  readonly extra: Readonly<Record<string, unknown>>;

  constructor(errcode: ErrCode, message: string, extra: Record<string, unknown> = {}, status?: number) {
    super(message);
    this.name = 'MatrixError';
    this.errcode = errcode;
    this.status = status ?? ERRCODE_STATUS[errcode];
    this.extra = extra;
  }

  toJSON(): Record<string, unknown> {
    return { errcode: this.errcode, error: this.message, ...this.extra };
  }
}

/**
 * The 401 reply of user-interactive auth (spec: "User-interactive API in the REST API").
 * Not an error of the standard shape: it carries `flows`, `params`, `session`, `completed`, and
 * `errcode`/`error` only when a stage just failed.
 */
export class UiaChallenge extends Error {
  readonly status = 401;
  readonly body: Readonly<Record<string, unknown>>;
  constructor(body: Record<string, unknown>) {
    super('user-interactive authentication required');
    this.name = 'UiaChallenge';
    this.body = body;
  }
}
