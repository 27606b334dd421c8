import type { Config } from '../config/config.js';
import { MatrixError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import type { UiaEngine } from '../uia/engine.js';
import type { EmailValidations } from '../uia/ports.js';
import type { V1Credentials } from '../uia/stages/v1-password.js';
import type { AuthDict, UiaOperation } from '../uia/types.js';
import type { Clock } from '../util/clock.js';
import { userId as makeUserId } from '../util/matrix-id.js';
import { registeredAwaitingApproval } from './approval.js';
import type { CaptchaVerifier } from './captcha.js';
import { checkPasswordPolicy } from './password-policy.js';
import type { RateLimiter } from './rate-limiter.js';
import {
  acceptedTerms,
  completeGates,
  FALLBACK_STAGES,
  registrationOperations,
  type StoredRegistration,
} from './registration-flows.js';
import type { SessionService } from './sessions.js';
import type { UserService } from './users.js';

/** A v1 registration flow as docs/client-api-v1-registration.md lists it: `type` is the first stage, `stages` all of them. */
export interface V1Flow {
  type: string;
  stages?: string[];
}

export type V1Result =
  | { kind: 'next'; next: string; session: string }
  | { kind: 'registered'; userId: string; accessToken: string; deviceId: string; homeServer: string };

/** A v3 `POST /register` request, its JSON already type-checked; absent fields are undefined. */
export interface V3RegisterRequest {
  kind: 'user' | 'guest';
  /** The raw `auth` dict (the UIA engine checks its shape), undefined when absent. */
  auth: unknown;
  username?: string;
  password?: string;
  deviceId?: string;
  initialDisplayName?: string;
  inhibitLogin?: boolean;
  refreshToken?: boolean;
}

/** The v3 result; the login fields are null with `inhibit_login`. */
export interface V3Registered {
  userId: string;
  homeServer: string;
  deviceId: string | null;
  accessToken: string | null;
  refreshToken: string | null;
  expiresInMs: number | null;
}

/**
 * How long after the account was created a finished registration session may log it in again
 * (the client lost the 200 and retries; spec "User-Interactive Authentication API"). Synapse allows it for the whole
 * session lifetime; we deliberately keep it short: a retry follows the lost response within
 * seconds, and a replayed session id must not mint tokens for long. The window also closes when
 * the account's password changes, it is deactivated, or it logs out everywhere (those delete
 * the session: UiaSessionsRepo.deleteRegistrationsOf).
 */
export const REGISTRATION_RETRY_WINDOW_MS = 60_000;

type Login = { deviceId: string | null; initialDisplayName: string | null; refreshToken: boolean };

/** Thrown inside the registration transaction when the session already names another account. */
class SessionAlreadyRegistered extends Error {}

/** The user id a v3 registration session created, from its `result` column. */
function registeredUserOf(result: string | null): string | null {
  if (result === null) return null;
  const parsed = JSON.parse(result) as { user_id?: unknown };
  return typeof parsed.user_id === 'string' ? parsed.user_id : null;
}

/** Registration: the flows the config offers, the v1 protocol (docs/client-api-v1-registration.md) and v3 (current spec). */
export class RegistrationService {
  private readonly v1Op: UiaOperation;
  private readonly v3Op: UiaOperation;

  constructor(
    private readonly deps: {
      config: Config;
      storage: Storage;
      uia: UiaEngine;
      users: UserService;
      sessions: SessionService;
      captcha: CaptchaVerifier | null;
      rateLimiter: RateLimiter;
      clock: Clock;
      /** Registration's email validations; null when no email is configured. */
      emailValidations?: EmailValidations | null;
    },
  ) {
    ({ v1: this.v1Op, v3: this.v3Op } = registrationOperations(deps));
  }

  /** GET /register (v1): "All login stages MUST be mentioned if there is >1 login type" (docs/client-api-v1-registration.md). */
  v1Flows(): V1Flow[] {
    return this.v1Op.flows.map((f) => (f.length > 1 ? { type: f[0]!, stages: [...f] } : { type: f[0]! }));
  }

  private assertEnabled(): void {
    if (!this.deps.config.enableRegistration) {
      throw new MatrixError('M_FORBIDDEN', 'Registration has been disabled');
    }
  }

  /**
   * POST /register (v1): one stage per request. A non-final stage answers `next` + `session`
   * (docs/client-api-v1-registration.md: a multi-stage step MUST carry `session`); the last one creates the account and logs
   * it in. The session is gone once registration finishes.
   */
  async submitV1(stage: AuthDict & { type: string }, remoteIp: string): Promise<V1Result> {
    await this.deps.rateLimiter.assert('registration.requests', remoteIp);
    await this.deps.rateLimiter.check('registration', remoteIp);
    this.assertEnabled();
    const { uia } = this.deps;
    const session = stage.session === undefined ? null : await uia.loadSession(this.v1Op, stage.session);
    const outcome = await uia.submitStage(this.v1Op, session, stage, remoteIp);
    if (!outcome.done) {
      return { kind: 'next', next: outcome.next[0]!, session: outcome.session.session_id };
    }
    const creds = outcome.completed.find((c) => c.stage === 'm.login.password')?.data as V1Credentials;
    const password = stage.password as string;
    await this.deps.rateLimiter.assert('registration', remoteIp);
    const approved = !this.deps.config.registrationRequiresApproval;
    const registered = await this.deps.users.register({
      localpart: creds.localpart,
      password: { plain: password },
      isGuest: false,
      isAdmin: false,
      approved,
      consentVersion: acceptedTerms(outcome.completed),
      // An account awaiting approval gets no device and no token (MSC3866).
      login: approved ? { deviceId: null, initialDisplayName: null, refreshToken: false } : null,
      onCreated: (tx, userId) =>
        completeGates(tx, userId, outcome.session.session_id, outcome.completed, this.deps.clock.now()),
    });
    if (outcome.stored) await this.deps.uia.deleteSession(outcome.session.session_id);
    // The account exists; as v3 (below), the answer is MSC3866's 403 instead of a login.
    if (!approved) throw registeredAwaitingApproval();
    return {
      kind: 'registered',
      userId: registered.userId,
      accessToken: registered.accessToken!,
      deviceId: registered.deviceId!,
      homeServer: this.deps.config.serverName,
    };
  }

  /**
   * POST /register (v3, spec "Account registration"), the whole request:
   * - every request counts against the client address (`rc_registration_requests`) before it
   *   stores or checks anything; then a full `rc_registration` bucket refuses it.
   * - `kind=guest`: no UIA, a generated numeric id, no password (spec: guest access).
   * - otherwise the ordinary checks come first (registration disabled, username, password
   *   policy; spec "User-Interactive Authentication API"), then UIA, then the account.
   * - The password is hashed only when this request passed a stage: once the flow is complete
   *   (after `rc_registration` counted the account), or when a stage passed and more follow
   *   (the hash is then kept with the session, so later requests may leave `password` out).
   *   Synapse also hashes for a bare challenge; we deliberately do not, so a challenge costs no
   *   hashing. A password sent only with a bare challenge must therefore be sent again: the
   *   completing request without it is 400 M_MISSING_PARAM (never an account without one).
   * - A session that already created an account logs that account in again (a new device
   *   and token) instead of answering M_USER_IN_USE: the client lost the first response
   *   (spec "User-Interactive Authentication API"), within REGISTRATION_RETRY_WINDOW_MS. The id is bound to the session
   *   inside the registration transaction, so two concurrent retries cannot create two accounts.
   */
  async registerV3(req: V3RegisterRequest, remoteIp: string): Promise<V3Registered> {
    await this.deps.rateLimiter.assert('registration.requests', remoteIp);
    // rc_registration, as Synapse: every request is refused while the IP's
    // bucket is full, guests too; only an account about to be created fills it (below).
    await this.deps.rateLimiter.check('registration', remoteIp);
    if (req.kind === 'guest') return this.registerGuest(req, remoteIp);
    this.assertEnabled();
    const { users, uia, config } = this.deps;

    const auth = req.auth as AuthDict | undefined;
    const sessionId = typeof auth?.session === 'string' ? auth.session : null;
    const already = sessionId === null ? null : registeredUserOf((await uia.loadSession(this.v3Op, sessionId)).result);
    if (req.username !== undefined) {
      const localpart = users.normaliseLocalpart(req.username);
      if (already === null) await users.assertAvailable(localpart);
      else this.assertSameUser(already, localpart);
    }
    // Policy first: M_WEAK_PASSWORD before the challenge (spec "User-Interactive Authentication API"); no hashing yet.
    if (req.password !== undefined) checkPasswordPolicy(req.password, config.passwordPolicy);

    const fields: StoredRegistration = {
      ...(req.username !== undefined && { username: req.username }),
      ...(req.deviceId !== undefined && { device_id: req.deviceId }),
      ...(req.initialDisplayName !== undefined && { initial_device_display_name: req.initialDisplayName }),
      ...(req.inhibitLogin !== undefined && { inhibit_login: req.inhibitLogin }),
      ...(req.refreshToken !== undefined && { refresh_token: req.refreshToken }),
      ...(req.password !== undefined && { password_sent: true }),
    };
    const success = await uia.authenticate(
      this.v3Op,
      { ...fields, ...(req.auth !== undefined && { auth: req.auth }) },
      remoteIp,
      {
        // A stage passed and more follow: keep the hash so later requests may omit the
        // password. Only the hash is stored, never the password. Once per session, and counted
        // against rc_registration first, as the final request would be: repeating a passed
        // stage, or opening sessions with a gate that always passes (the terms), hashes no
        // more than that limit allows.
        onStagePassed: async (session) => {
          if (req.password === undefined) return;
          if ((JSON.parse(session.request_body) as StoredRegistration).password_hash !== undefined) return;
          await this.deps.rateLimiter.assert('registration', remoteIp);
          await uia.remember(session, { password_hash: await users.hashNewPassword(req.password) });
        },
      },
    );
    const body = success.body as StoredRegistration;
    const login: Login | null =
      body.inhibit_login === true
        ? null
        : {
            deviceId: body.device_id ?? null,
            initialDisplayName: body.initial_device_display_name ?? null,
            refreshToken: body.refresh_token === true,
          };
    const localpart = body.username === undefined ? null : users.normaliseLocalpart(body.username);
    const session = success.session;

    const earlier = registeredUserOf(session.result);
    if (earlier !== null) return this.loginAgain(earlier, localpart, login);
    const approved = !config.registrationRequiresApproval;
    // Counted before any hashing, so a burst of sign-ups from one address hashes at most
    // `burst_count` passwords (Synapse counts after hashing, in register_user); a session that
    // kept a hash was counted when it made it.
    if (body.password_hash === undefined) await this.deps.rateLimiter.assert('registration', remoteIp);
    // This request's password wins over one hashed earlier in the session (newest values win).
    const passwordHash =
      req.password !== undefined ? await users.hashNewPassword(req.password) : (body.password_hash ?? null);
    if (passwordHash === null && body.password_sent === true) {
      throw new MatrixError('M_MISSING_PARAM', 'Missing JSON keys: password (send it again with this request)');
    }
    try {
      const registered = await users.register({
        localpart,
        password: passwordHash === null ? null : { hash: passwordHash },
        isGuest: false,
        isAdmin: false,
        approved,
        consentVersion: acceptedTerms(success.completed),
        // No device and no token for an account awaiting approval: Synapse does not log it in
        // (rest/client/register.py `_create_registration_details`).
        login: approved ? login : null,
        onCreated: async (tx, userId) => {
          const bound = await tx.uiaSessions.setResultOnce(session.session_id, JSON.stringify({ user_id: userId }));
          if (registeredUserOf(bound) !== userId) throw new SessionAlreadyRegistered();
          await completeGates(tx, userId, session.session_id, success.completed, this.deps.clock.now());
        },
      });
      // MSC3866 "Registration": the request that completes registration answers 403 with the
      // errcode, once the account exists (so registration is complete), as Synapse does.
      if (!approved) throw registeredAwaitingApproval();
      return { ...registered, homeServer: config.serverName };
    } catch (err) {
      // A concurrent request of this session won: log its account in. (With a chosen name the
      // loser sees M_USER_IN_USE from the unique index; with a generated one, our guard above.)
      const lost =
        err instanceof SessionAlreadyRegistered || (err instanceof MatrixError && err.errcode === 'M_USER_IN_USE');
      if (!lost) throw err;
      const winner = registeredUserOf((await uia.loadSession(this.v3Op, session.session_id)).result);
      if (winner === null) throw err;
      return this.loginAgain(winner, localpart, login);
    }
  }

  /** Synapse: "A different user ID has already been registered for this session". */
  private assertSameUser(registered: string, localpart: string | null): void {
    if (localpart !== null && makeUserId(localpart, this.deps.config.serverName) !== registered) {
      throw new MatrixError('M_UNKNOWN', 'A different user ID has already been registered for this session');
    }
  }

  /** The idempotent retry: the session's account, with a new login unless `inhibit_login`. */
  private async loginAgain(userId: string, localpart: string | null, login: Login | null): Promise<V3Registered> {
    this.assertSameUser(userId, localpart);
    const { storage, sessions, config } = this.deps;
    const user = await storage.users.findByUserId(userId);
    if (user === null || user.deactivated === 1) {
      throw new MatrixError('M_USER_DEACTIVATED', 'This account has been deactivated');
    }
    // Still awaiting approval: the same 403 as the first answer, never a login. (Synapse
    // answers such a retry 200 with no token; the same answer twice is clearer to a client.)
    if (user.approved === 0) throw registeredAwaitingApproval();
    if (this.deps.clock.now() - Number(user.created_ts) > REGISTRATION_RETRY_WINDOW_MS) {
      // As a session that is gone: the client must log in like anyone else.
      throw new MatrixError('M_UNKNOWN', 'Unknown or expired session');
    }
    const none = { deviceId: null, accessToken: null, refreshToken: null, expiresInMs: null };
    if (login === null) return { userId, homeServer: config.serverName, ...none };
    const started = await storage.transaction((tx) => sessions.start(tx, { userId, ...login }));
    return { userId, homeServer: config.serverName, ...started };
  }

  /**
   * `POST /register?kind=guest` (spec: "Guest access"): allowed only with `allow_guest_access`,
   * even when registration is otherwise closed (as in Synapse). Everything in the body but
   * `initial_device_display_name` is ignored; the server picks the id and the device.
   */
  private async registerGuest(req: V3RegisterRequest, remoteIp: string): Promise<V3Registered> {
    if (!this.deps.config.allowGuestAccess) {
      throw new MatrixError('M_GUEST_ACCESS_FORBIDDEN', 'Guest access is disabled');
    }
    await this.deps.rateLimiter.assert('registration', remoteIp);
    const registered = await this.deps.users.register({
      localpart: null,
      password: null,
      isGuest: true,
      isAdmin: false,
      // A guest gets its token now and never logs in: approval would change nothing.
      approved: true,
      login: { deviceId: null, initialDisplayName: req.initialDisplayName ?? null, refreshToken: false },
    });
    return { ...registered, homeServer: this.deps.config.serverName };
  }

  /**
   * GET /register/available (spec): 200 when `username` could be registered now. Like Synapse
   * the name is not lower-cased here: `Alice` is M_INVALID_USERNAME.
   */
  async checkAvailable(username: string, remoteIp: string): Promise<void> {
    // Synapse rate-limits this per address too (rest/client/register.py, RegisterAvailabilityRestServlet).
    await this.deps.rateLimiter.assert('registration.requests', remoteIp);
    this.assertEnabled();
    const { users } = this.deps;
    if (username !== username.toLowerCase()) {
      throw new MatrixError('M_INVALID_USERNAME', "User ID can only contain characters a-z, 0-9, or '=_-./+'");
    }
    await users.assertAvailable(users.normaliseLocalpart(username));
  }

  /**
   * The fallback page (spec "Fallback") of `stage` for a live v3 registration session: the
   * stage's `params` (the captcha's site key, the terms' policies). 404 when no offered flow
   * has the stage, or it has no page.
   */
  async fallback(stage: string, sessionId: string): Promise<Record<string, unknown>> {
    const params = this.fallbackParams(stage);
    await this.deps.uia.loadSession(this.v3Op, sessionId);
    return params;
  }

  /** The `params` of a stage that has a fallback page here; 404 for any other stage. */
  fallbackParams(stage: string): Record<string, unknown> {
    const params = this.v3Op.stages.get(stage)?.params?.() ?? {};
    const offered = FALLBACK_STAGES.has(stage) && this.v3Op.flows.some((f) => f.includes(stage));
    // The captcha page needs the site key.
    if (!offered || (stage === 'm.login.recaptcha' && typeof params.public_key !== 'string')) {
      throw new MatrixError('M_UNKNOWN', 'Unknown auth stage type', {}, 404);
    }
    return params;
  }

  /**
   * The fallback page's answer: completes `stage` in the session with `fields` (the captcha's
   * `response`, the registration token's `token`; nothing for the terms), so the client's next
   * `{"auth":{"session":S}}` sees it in `completed`. A refused answer is a plain error here
   * (the page shows it and lets the user try again), not a UIA challenge.
   */
  async completeFallback(
    stage: string,
    sessionId: string,
    fields: Record<string, unknown>,
    remoteIp: string,
  ): Promise<void> {
    await this.deps.rateLimiter.assert('registration.requests', remoteIp);
    await this.fallback(stage, sessionId);
    const session = await this.deps.uia.loadSession(this.v3Op, sessionId);
    await this.deps.uia.submitStage(this.v3Op, session, { ...fields, type: stage, session: sessionId }, remoteIp);
  }
}
