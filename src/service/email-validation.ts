import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { MatrixError } from '../errors.js';
import { MAX_NEXT_LINK_LENGTH, MAX_SID_LENGTH } from '../limits.js';
import type { Storage } from '../storage/storage.js';
import type { EmailValidations, ValidatedEmail } from '../uia/ports.js';
import type { Clock } from '../util/clock.js';
import { assertClientSecret, canonicalEmail } from '../util/email.js';
import type { Random } from '../util/random.js';
import { sameSecret, sha256Hex } from '../util/secrets.js';
import type { Mailer } from './mailer.js';
import type { RateLimiter } from './rate-limiter.js';
import { validationMail } from './validation-mail.js';

/** What a validation proves the address for; a session serves its own purpose only. */
export type ValidationPurpose = 'register' | 'password_reset';

/** `POST …/email/requestToken`, its JSON types checked at the edge (spec registration.yaml). */
export interface RequestTokenRequest {
  clientSecret: string;
  email: string;
  sendAttempt: number;
  nextLink?: string;
}

/** The emailed link, opened: `GET …/email/submit_token?token=&client_secret=&sid=`. */
export interface SubmitTokenRequest {
  sid?: string;
  clientSecret?: string;
  token?: string;
}

/** How long a session lives after its last mail, validated or not (Synapse keeps them a day too). */
const SESSION_LIFETIME_MS = 24 * 3_600_000;

/**
 * Where the emailed link points, as Synapse serves it, so links and client handlers made for
 * Synapse work: registration under the client API's `unstable` prefix (Synapse's
 * rest/client/register.py), password reset under `/_synapse/client` (Synapse's
 * rest/synapse/client/password_reset.py).
 */
export const SUBMIT_TOKEN_PATHS: Record<ValidationPurpose, string> = {
  register: '/_matrix/client/unstable/registration/email/submit_token',
  password_reset: '/_synapse/client/password_reset/email/submit_token',
};

/**
 * Email validation by the homeserver itself (spec "Adding Account Administrative Contact
 * Information", `/register/email/requestToken` and `/account/password/email/requestToken`):
 * a session per client secret and address, a mail with a link, the link marks it validated, and
 * the UIA stage `m.login.email.identity` then proves the address.
 */
export class EmailValidationService {
  constructor(
    private readonly deps: {
      config: Config;
      storage: Storage;
      clock: Clock;
      random: Random;
      rateLimiter: RateLimiter;
      mailer: Mailer | null;
      log: Logger;
    },
  ) {}

  /**
   * Ask for a validation mail. Order: cheap refusals first (no email configured, registration
   * closed), then the client address counts (`rc_3pid_validation`), then the request's shape,
   * then the email address counts; only then is anything read, stored or sent. The same
   * client secret, address and `send_attempt` again sends nothing and answers the same `sid`;
   * a higher `send_attempt` sends a new link (the old one stops working).
   */
  async requestToken(purpose: ValidationPurpose, req: RequestTokenRequest, remoteIp: string): Promise<{ sid: string }> {
    const { config, storage, clock, random, rateLimiter } = this.deps;
    const mailer = this.deps.mailer;
    if (config.email === null || mailer === null) {
      // Synapse's answers when it cannot send mail.
      throw new MatrixError(
        'M_UNKNOWN',
        purpose === 'register'
          ? 'Email-based registration has been disabled on this server'
          : 'Password reset by email is not supported on this server',
      );
    }
    if (purpose === 'register' && !config.enableRegistration) {
      throw new MatrixError('M_FORBIDDEN', 'Registration has been disabled');
    }
    await rateLimiter.assert('3pid_validation.ip', remoteIp);
    assertClientSecret(req.clientSecret);
    const address = canonicalEmail(req.email);
    const nextLink = req.nextLink ?? null;
    if (nextLink !== null && (nextLink.length > MAX_NEXT_LINK_LENGTH || !isHttpUrl(nextLink))) {
      throw new MatrixError('M_INVALID_PARAM', 'next_link must be an http or https URL of at most 2048 characters');
    }
    await rateLimiter.assert('3pid_validation.address', address);

    const owner = await storage.threepids.userOf('email', address);
    if (purpose === 'register') {
      if (!this.allowed('email', address)) {
        throw new MatrixError('M_THREEPID_DENIED', 'Your email domain is not authorized to register on this server');
      }
      if (owner !== null) throw new MatrixError('M_THREEPID_IN_USE', 'Email is already in use');
    } else if (owner === null) {
      throw new MatrixError('M_THREEPID_NOT_FOUND', 'Email not found');
    }

    const now = clock.now();
    const token = random.urlSafe(24);
    const tokenHash = sha256Hex(token);
    const decision = await storage.threepids.prepareSend(
      {
        sid: random.urlSafe(24),
        purpose,
        medium: 'email',
        address,
        client_secret: req.clientSecret,
        token_hash: tokenHash,
        send_attempt: req.sendAttempt,
        next_link: nextLink,
        created_ts: now,
        token_expires_ts: now + config.email.validationTokenLifetimeMs,
        expires_ts: now + SESSION_LIFETIME_MS,
        validated_ts: null,
      },
      now,
    );
    if (!decision.send) return { sid: decision.sid };
    const link = this.linkFor(purpose, { token, clientSecret: req.clientSecret, sid: decision.sid });
    try {
      await mailer.send({ to: address, ...validationMail(purpose, link, config.email.appName, config.serverName) });
    } catch (err) {
      // The client's retry with the same send_attempt must send again.
      await storage.threepids.unsend(decision.sid, tokenHash);
      this.deps.log.error({ err }, 'could not send a validation email');
      // The mail server, not the request, failed: 503, which clients and proxies treat as retryable
      // (Synapse answers 500 here).
      throw new MatrixError('M_UNKNOWN', 'Unable to send email; try again later', {}, 503);
    }
    return { sid: decision.sid };
  }

  /**
   * The emailed link was opened: mark its session validated. Returns the session's
   * `next_link`. Refused alike (400 M_UNKNOWN) for an unknown or expired session, another
   * purpose, another client secret or token, or an expired link; the secrets are compared in
   * constant time.
   */
  async submitToken(purpose: ValidationPurpose, req: SubmitTokenRequest, remoteIp: string): Promise<string | null> {
    const { storage, clock } = this.deps;
    await this.deps.rateLimiter.assert('registration.requests', remoteIp);
    const { sid, clientSecret, token } = req;
    if (sid === undefined || clientSecret === undefined || token === undefined) {
      throw new MatrixError('M_MISSING_PARAM', 'The link is incomplete: it needs token, client_secret and sid');
    }
    const refused = new MatrixError('M_UNKNOWN', 'This validation link is not valid, or has expired');
    if (sid.length > MAX_SID_LENGTH || token.length > MAX_SID_LENGTH || clientSecret.length > MAX_SID_LENGTH) {
      throw refused;
    }
    const now = clock.now();
    const row = await storage.threepids.find(sid, now);
    if (row === null || row.purpose !== purpose) throw refused;
    const secretOk = sameSecret(row.client_secret, clientSecret);
    const tokenOk = sameSecret(row.token_hash, sha256Hex(token));
    if (!secretOk || !tokenOk || row.token_expires_ts <= now) throw refused;
    if (!(await storage.threepids.markValidated(sid, row.token_hash, now))) throw refused;
    return row.next_link;
  }

  /** GET /account/3pid (spec administrative_contact.yaml): the addresses bound to `userId`. */
  async boundTo(
    userId: string,
  ): Promise<{ medium: string; address: string; validated_at: number; added_at: number }[]> {
    const rows = await this.deps.storage.threepids.listOf(userId);
    return rows.map((t) => ({
      medium: t.medium,
      address: t.address,
      validated_at: Number(t.validated_ts),
      added_at: Number(t.added_ts),
    }));
  }

  /** The port of `m.login.email.identity` for one purpose. */
  validations(purpose: ValidationPurpose): EmailValidations {
    return {
      validated: async (sid, clientSecret): Promise<ValidatedEmail | null> => {
        const row = await this.deps.storage.threepids.find(sid, this.deps.clock.now());
        if (row === null || row.purpose !== purpose || row.medium !== 'email') return null;
        if (!sameSecret(row.client_secret, clientSecret) || row.validated_ts === null) return null;
        return { address: row.address, validatedAt: Number(row.validated_ts) };
      },
    };
  }

  /** `allowed_local_3pids` (Synapse's check_3pid_allowed): no list allows all; else one entry must match. */
  allowed(medium: string, address: string): boolean {
    const rules = this.deps.config.allowedLocal3pids;
    if (rules === null) return true;
    return rules.some((r) => {
      if (r.medium !== medium) return false;
      r.pattern.lastIndex = 0;
      return r.pattern.test(address);
    });
  }

  private linkFor(purpose: ValidationPurpose, q: { token: string; clientSecret: string; sid: string }): string {
    const base = this.deps.config.publicBaseurl.replace(/\/+$/, '');
    const query = new URLSearchParams({ token: q.token, client_secret: q.clientSecret, sid: q.sid });
    return `${base}${SUBMIT_TOKEN_PATHS[purpose]}?${query}`;
  }
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
