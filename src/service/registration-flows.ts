import type { Config } from '../config/config.js';
import { MatrixError } from '../errors.js';
import type { CompletedStage } from '../storage/repos/uia-sessions.js';
import type { Storage } from '../storage/storage.js';
import type { EmailValidations } from '../uia/ports.js';
import { dummyStage } from '../uia/stages/dummy.js';
import { EMAIL_IDENTITY_STAGE, emailIdentityStage, type ProvenEmail } from '../uia/stages/email-identity.js';
import { recaptchaStage } from '../uia/stages/recaptcha.js';
import { REGISTRATION_TOKEN_STAGE, registrationTokenStage } from '../uia/stages/registration-token.js';
import { type AcceptedTerms, TERMS_STAGE, termsStage } from '../uia/stages/terms.js';
import { v1PasswordStage } from '../uia/stages/v1-password.js';
import type { Stage, UiaOperation } from '../uia/types.js';
import type { Clock } from '../util/clock.js';
import type { CaptchaVerifier } from './captcha.js';
import { checkPasswordPolicy } from './password-policy.js';
import type { UserService } from './users.js';

/*
 * The registration flows the config offers (RegistrationService): which gates every flow
 * passes, in which order, and what a v3 session remembers between requests.
 */

/**
 * What a v3 registration session remembers between requests (spec "User-Interactive Authentication API"): the request
 * fields under their JSON names, and the password only as its argon2id hash, never in clear.
 * The hash is made only once a stage passed (RegistrationService.registerV3); a password seen
 * on a bare challenge leaves only `password_sent`.
 */
export interface StoredRegistration {
  username?: string;
  device_id?: string;
  initial_device_display_name?: string;
  inhibit_login?: boolean;
  refresh_token?: boolean;
  password_hash?: string;
  password_sent?: boolean;
}

const STORED_KEYS = [
  'username',
  'device_id',
  'initial_device_display_name',
  'inhibit_login',
  'refresh_token',
  'password_hash',
  'password_sent',
] as const;

/** The version of the terms a session accepted (`m.login.terms`), stored with the account; else null. */
export function acceptedTerms(completed: readonly CompletedStage[]): string | null {
  const data = completed.find((c) => c.stage === TERMS_STAGE)?.data as AcceptedTerms | undefined;
  return data?.version ?? null;
}

/** Stages with a fallback page (spec "Fallback"; api/client/auth-fallback.ts). */
export const FALLBACK_STAGES: ReadonlySet<string> = new Set([
  'm.login.recaptcha',
  REGISTRATION_TOKEN_STAGE,
  TERMS_STAGE,
]);

/** The UIA operations of v1 registration (docs/client-api-v1-registration.md) and v3 (current spec), as the config asks. */
export function registrationOperations(deps: {
  config: Config;
  storage: Storage;
  users: UserService;
  captcha: CaptchaVerifier | null;
  clock: Clock;
  /** Registration's email validations; null when no email is configured. */
  emailValidations?: EmailValidations | null;
}): { v1: UiaOperation; v3: UiaOperation } {
  const { config } = deps;
  // The gates every flow passes, in order, before its last stage: the captcha first, then the
  // registration token (spec "Token-authenticated registration"), then the terms (spec
  // "Terms of service at registration"). Synapse puts the token before the captcha; we
  // deliberately put it after, so only a client that solved the captcha can take one of a
  // token's uses and hold it for the session's lifetime. The terms come last of the gates
  // (Synapse puts them after the captcha too): a user reads them once let in.
  const terms = config.userConsent?.requireAtRegistration === true ? config.userConsent : null;
  const gates = [
    ...(config.enableRegistrationCaptcha ? ['m.login.recaptcha'] : []),
    ...(config.registrationRequiresToken ? [REGISTRATION_TOKEN_STAGE] : []),
    ...(terms !== null ? [TERMS_STAGE] : []),
    // `registrations_require_3pid: [email]`: the address is the last gate, proven before the account.
    ...(config.registrationRequiresEmail ? [EMAIL_IDENTITY_STAGE] : []),
  ];
  const emailStage = deps.emailValidations ? emailIdentityStage(deps.emailValidations) : null;
  const tokenStage = config.registrationRequiresToken ? registrationTokenStage(deps.storage, deps.clock) : null;
  const gateStage = terms === null ? null : termsStage(terms, config.publicBaseurl);
  const stages = new Map<string, Stage>();
  stages.set(
    'm.login.password',
    v1PasswordStage({
      normaliseLocalpart: (username) => deps.users.normaliseLocalpart(username),
      assertAvailable: (localpart) => deps.users.assertAvailable(localpart),
      checkPassword: (password) => checkPasswordPolicy(password, config.passwordPolicy),
    }),
  );
  if (deps.captcha !== null) stages.set('m.login.recaptcha', recaptchaStage(deps.captcha, config.recaptchaPublicKey));
  if (tokenStage !== null) stages.set(REGISTRATION_TOKEN_STAGE, tokenStage);
  if (gateStage !== null) stages.set(TERMS_STAGE, gateStage);
  if (emailStage !== null) stages.set(EMAIL_IDENTITY_STAGE, emailStage);
  const v1: UiaOperation = {
    name: 'register.v1',
    // The password stage carries the account, so it is always last: no v1 flow skips a gate.
    flows: [[...gates, 'm.login.password']],
    stages,
    userId: null,
    persistBody: () => ({}),
  };
  const v3Stages = new Map<string, Stage>([['m.login.dummy', dummyStage]]);
  if (deps.captcha !== null) {
    v3Stages.set('m.login.recaptcha', recaptchaStage(deps.captcha, config.recaptchaPublicKey, 'uia'));
  }
  if (tokenStage !== null) v3Stages.set(REGISTRATION_TOKEN_STAGE, tokenStage);
  if (gateStage !== null) v3Stages.set(TERMS_STAGE, gateStage);
  if (emailStage !== null) v3Stages.set(EMAIL_IDENTITY_STAGE, emailStage);
  // With email configured but not required, a second flow binds an address (Synapse offers
  // `m.login.email.identity` as an alternative too), so the account can reset its password.
  const optionalEmail = emailStage !== null && !config.registrationRequiresEmail;
  const v3: UiaOperation = {
    name: 'register',
    // Synapse keeps the dummy stage last, so a gate alone never finishes a flow (SyTest
    // "Register with a recaptcha").
    flows: [[...gates, 'm.login.dummy'], ...(optionalEmail ? [[...gates, EMAIL_IDENTITY_STAGE, 'm.login.dummy']] : [])],
    stages: v3Stages,
    userId: null,
    // Only the known fields, and the password only as `password_hash` (set by registerV3).
    persistBody: (body) => {
      const kept: Record<string, unknown> = {};
      for (const key of STORED_KEYS) if (body[key] !== undefined) kept[key] = body[key];
      return kept;
    },
  };
  return { v1, v3 };
}

/**
 * Inside the registration's transaction, once the account row exists: what the gates a session
 * passed mean for the account.
 * - The use of a registration token the session holds becomes a completed use (spec
 *   "Token-authenticated registration"). When the hold is gone (the session expired meanwhile,
 *   or the token was deleted) the account is not created: 401 M_UNAUTHORIZED, start again.
 * - The address `m.login.email.identity` proved is bound to the account and its validation
 *   session used up. One INSERT decides between concurrent registrations with one address (the
 *   unique key): the loser's account is not created, 400 M_THREEPID_IN_USE (spec registration.yaml).
 */
export async function completeGates(
  tx: Storage,
  userId: string,
  sessionId: string,
  completed: readonly CompletedStage[],
  now: number,
): Promise<void> {
  if (
    completed.some((c) => c.stage === REGISTRATION_TOKEN_STAGE) &&
    !(await tx.registrationTokens.completeHold(sessionId))
  ) {
    throw new MatrixError('M_UNAUTHORIZED', 'The registration token is no longer held by this session; start again');
  }
  const proven = completed.find((c) => c.stage === EMAIL_IDENTITY_STAGE)?.data as ProvenEmail | undefined;
  if (proven === undefined) return;
  const bound = await tx.threepids.bind({
    user_id: userId,
    medium: proven.medium,
    address: proven.address,
    validated_ts: proven.validated_at,
    added_ts: now,
  });
  if (!bound) throw new MatrixError('M_THREEPID_IN_USE', 'Email is already in use');
  // The validation is spent once: another registration that used it meanwhile wins.
  if (!(await tx.threepids.consume(proven.sid))) {
    throw new MatrixError('M_UNAUTHORIZED', 'This email validation was used already; validate the address again');
  }
}
