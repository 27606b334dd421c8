import type { Config } from '../config/config.js';
import { MatrixError } from '../errors.js';
import { MAX_REGISTRATION_TOKEN_LENGTH } from '../limits.js';
import type { RegistrationTokenRow } from '../storage/repos/registration-tokens.js';
import type { Storage } from '../storage/storage.js';
import { isRegistrationTokenShaped } from '../uia/stages/registration-token.js';
import type { Clock } from '../util/clock.js';
import type { Random } from '../util/random.js';
import type { RateLimiter } from './rate-limiter.js';

/** A token as Synapse's admin API shows it (docs/admin_api/registration_tokens.md). */
export interface RegistrationTokenView {
  token: string;
  uses_allowed: number | null;
  pending: number;
  completed: number;
  expiry_time: number | null;
}

export interface NewRegistrationToken {
  /** The token to create; absent: one of `length` characters is generated. */
  token?: string;
  /** Default 16, at most 64 (Synapse). */
  length?: number;
  usesAllowed?: number | null;
  /** Milliseconds since the epoch; null: never expires. */
  expiryTime?: number | null;
}

/** What an update sets; an absent field is left as it is. */
export interface RegistrationTokenChanges {
  usesAllowed?: number | null;
  expiryTime?: number | null;
}

/** The characters a token may hold (spec "Token-authenticated registration"); generated ones too. */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-';
const DEFAULT_LENGTH = 16;
/** How many generated tokens may collide with existing ones before giving up (never, in practice). */
const GENERATE_ATTEMPTS = 5;

export function tokenView(row: RegistrationTokenRow): RegistrationTokenView {
  return {
    token: row.token,
    uses_allowed: row.uses_allowed === null ? null : Number(row.uses_allowed),
    pending: Number(row.pending),
    completed: Number(row.completed),
    expiry_time: row.expiry_time === null ? null : Number(row.expiry_time),
  };
}

function notFound(token: string): MatrixError {
  return new MatrixError('M_NOT_FOUND', `No such registration token: ${token}`);
}

function invalid(message: string): MatrixError {
  return new MatrixError('M_INVALID_PARAM', message);
}

/**
 * Registration tokens: what Synapse's admin API and `tessera tokens` do to them, with Synapse's
 * checks and messages (synapse/rest/admin/registration_tokens.py), and the client API's
 * validity check. The token stage itself is src/uia/stages/registration-token.ts.
 */
export class RegistrationTokenService {
  constructor(
    private readonly deps: {
      storage: Storage;
      config: Config;
      clock: Clock;
      random: Random;
      rateLimiter: RateLimiter;
    },
  ) {}

  async list(valid: boolean | null): Promise<RegistrationTokenView[]> {
    const rows = await this.deps.storage.registrationTokens.list(valid, this.deps.clock.now());
    return rows.map(tokenView);
  }

  async get(token: string): Promise<RegistrationTokenView> {
    // A string no token can be is not looked up.
    const row = isRegistrationTokenShaped(token) ? await this.deps.storage.registrationTokens.find(token) : null;
    if (row === null) throw notFound(token);
    return tokenView(row);
  }

  /** Create a token, Synapse's checks in Synapse's order; a taken name is 400 M_INVALID_PARAM. */
  async create(input: NewRegistrationToken): Promise<RegistrationTokenView> {
    const now = this.deps.clock.now();
    let token = input.token;
    if (token !== undefined) {
      if (token.length === 0 || token.length > MAX_REGISTRATION_TOKEN_LENGTH) {
        throw invalid(
          `token must not be empty and must not be longer than ${MAX_REGISTRATION_TOKEN_LENGTH} characters`,
        );
      }
      if (!isRegistrationTokenShaped(token)) {
        throw invalid('token must consist only of characters matched by the regex [A-Za-z0-9._~-]');
      }
    } else {
      const length = input.length ?? DEFAULT_LENGTH;
      if (!Number.isSafeInteger(length)) throw invalid('length must be an integer');
      if (length <= 0 || length > MAX_REGISTRATION_TOKEN_LENGTH) {
        throw invalid(`length must be greater than zero and not greater than ${MAX_REGISTRATION_TOKEN_LENGTH}`);
      }
      token = this.generate(length);
    }
    const usesAllowed = this.checkUsesAllowed(input.usesAllowed ?? null);
    const expiryTime = this.checkExpiryTime(input.expiryTime ?? null, now);
    const generated = input.token === undefined;
    for (let attempt = 0; ; attempt++) {
      const row = {
        token,
        uses_allowed: usesAllowed,
        pending: 0,
        completed: 0,
        expiry_time: expiryTime,
        created_ts: now,
      };
      if (await this.deps.storage.registrationTokens.create(row)) return tokenView(row);
      // A generated token that exists already: draw another (Synapse does the same).
      if (!generated || attempt + 1 >= GENERATE_ATTEMPTS) throw invalid(`Token already exists: ${token}`);
      token = this.generate(token.length);
    }
  }

  async update(token: string, changes: RegistrationTokenChanges): Promise<RegistrationTokenView> {
    const now = this.deps.clock.now();
    const fields: { uses_allowed?: number | null; expiry_time?: number | null } = {};
    if (changes.usesAllowed !== undefined) fields.uses_allowed = this.checkUsesAllowed(changes.usesAllowed);
    if (changes.expiryTime !== undefined) fields.expiry_time = this.checkExpiryTime(changes.expiryTime, now);
    const row = isRegistrationTokenShaped(token)
      ? await this.deps.storage.registrationTokens.update(token, fields)
      : null;
    if (row === null) throw notFound(token);
    return tokenView(row);
  }

  /** Delete a token; sessions holding one of its uses can no longer finish with it. */
  async delete(token: string): Promise<void> {
    const deleted = isRegistrationTokenShaped(token) && (await this.deps.storage.registrationTokens.delete(token));
    if (!deleted) throw notFound(token);
  }

  /**
   * `GET /_matrix/client/v1/register/m.login.registration_token/validity` (spec): counted per
   * client address first (`rc_registration_token_validity`); 403 while registration is closed
   * ("all tokens are considered invalid"); a string no token can be is 400 M_INVALID_PARAM.
   * When registration needs no token the stage is never offered, so no token is valid for it:
   * false (Synapse answers from its table regardless).
   */
  async isValid(token: string, remoteIp: string): Promise<boolean> {
    const { config, rateLimiter, storage, clock } = this.deps;
    await rateLimiter.assert('registration_token.validity', remoteIp);
    if (!config.enableRegistration) {
      throw new MatrixError('M_FORBIDDEN', 'Registration is not enabled on this homeserver.');
    }
    if (!isRegistrationTokenShaped(token)) {
      throw invalid(`token must be 1 to ${MAX_REGISTRATION_TOKEN_LENGTH} characters of the range [A-Za-z0-9._~-]`);
    }
    if (!config.registrationRequiresToken) return false;
    return storage.registrationTokens.isValid(token, clock.now());
  }

  private checkUsesAllowed(value: number | null): number | null {
    if (value !== null && !(Number.isSafeInteger(value) && value >= 0)) {
      throw invalid('uses_allowed must be a non-negative integer or null');
    }
    return value;
  }

  private checkExpiryTime(value: number | null, now: number): number | null {
    if (value === null) return null;
    if (!Number.isSafeInteger(value)) throw invalid('expiry_time must be an integer or null');
    if (value < now) throw invalid('expiry_time must not be in the past');
    return value;
  }

  /** `length` characters of ALPHABET from the CSPRNG, without bias (bytes ≥ 198 are redrawn). */
  private generate(length: number): string {
    const limit = 256 - (256 % ALPHABET.length);
    let out = '';
    while (out.length < length) {
      for (const b of this.deps.random.bytes(length * 2)) {
        if (b < limit && out.length < length) out += ALPHABET[b % ALPHABET.length];
      }
    }
    return out;
  }
}
