/**
 * What the services report for metrics. The observability layer implements it (Prometheus,
 * observability/metrics.ts); services only call these, so they know nothing of how it is shown.
 */
export interface Telemetry {
  /** A password login: `success`, or `failure` for any refusal after the request was understood. */
  login(outcome: 'success' | 'failure'): void;
  /** An account was created. */
  accountCreated(kind: 'user' | 'guest'): void;
  /** A user-interactive authentication stage was submitted and passed or failed. */
  uiaStage(stage: string, outcome: 'passed' | 'failed'): void;
  /** A request was refused by a rate limit. */
  rateLimited(limit: string): void;
  /** A password hash or check finished after `seconds` (waiting included); `inFlight` now. */
  passwordHashing(seconds: number, inFlight: number): void;
}

export const noTelemetry: Telemetry = {
  login() {},
  accountCreated() {},
  uiaStage() {},
  rateLimited() {},
  passwordHashing() {},
};
