/**
 * What the stages need from the layers above, as small interfaces: uia/ depends on nothing
 * above it, and the services hand the stages these when they build their flows. A new stage
 * is a plug-in with a port of its own, not a new dependency of the engine.
 */

/** Verifies a captcha response (service/captcha.ts). */
export interface CaptchaCheck {
  verify(response: string, remoteIp: string): Promise<'ok' | 'refused' | 'unavailable'>;
}

/** Password checks for re-authentication (service/password-auth.ts). */
export interface PasswordCheck {
  /** Whether `user` (localpart or full id, as sent) names the account `userId`. */
  names(user: string, userId: string): boolean;
  /** The account when the password is right; else 403 M_FORBIDDEN (or M_USER_DEACTIVATED). */
  verify(user: string, password: string): Promise<{ user_id: string }>;
}

/** The wrong-password bucket a re-authentication attempt counts against (`rc_login.failed_attempts`). */
export interface FailedAttempts {
  /** Take a slot for `userId`, or throw 429. */
  take(userId: string): Promise<void>;
  /** Give the slot back (the attempt was not a wrong password). */
  giveBack(userId: string): Promise<void>;
}

/** The rules a new account's name and password must pass (v1 registration's password stage). */
export interface NewAccountRules {
  /** The localpart to create, lower-cased, or 400 M_INVALID_USERNAME. */
  normaliseLocalpart(username: string): string;
  /** 400 M_USER_IN_USE when taken. */
  assertAvailable(localpart: string): Promise<void>;
  /** 400 M_WEAK_PASSWORD when the password policy refuses it. */
  checkPassword(password: string): void;
}

/** Stage outcomes, for metrics (service/telemetry.ts). */
export interface StageTelemetry {
  uiaStage(stage: string, outcome: 'passed' | 'failed'): void;
}

/** An email address proven by opening the emailed link (service/email-validation.ts). */
export interface ValidatedEmail {
  address: string;
  validatedAt: number;
}

/** Validation sessions for `m.login.email.identity`, of one purpose (registration, password reset). */
export interface EmailValidations {
  /** The address `sid` validated, when `clientSecret` is its own and its link was opened; else null. */
  validated(sid: string, clientSecret: string): Promise<ValidatedEmail | null>;
}
