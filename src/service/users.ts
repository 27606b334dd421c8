import type { Config } from '../config/config.js';
import { MatrixError } from '../errors.js';
import { isUniqueViolation } from '../storage/open.js';
import type { Storage } from '../storage/storage.js';
import type { Clock } from '../util/clock.js';
import { asciiLowerCase, LOCALPART_PROBLEM_TEXT, localpartProblem, userId as makeUserId } from '../util/matrix-id.js';
import { checkPasswordPolicy } from './password-policy.js';
import type { Hasher } from './passwords.js';
import type { SessionService } from './sessions.js';
import type { Telemetry } from './telemetry.js';

export interface RegisterInput {
  /** Lower-cased localpart the client chose, or null to generate the next numeric one. */
  localpart: string | null;
  /** Plain password (hashed here), or an argon2 hash made earlier (UIA stored it), or null. */
  password: { plain: string } | { hash: string } | null;
  isGuest: boolean;
  isAdmin: boolean;
  /**
   * False: the account awaits an admin's approval and cannot log in (MSC3866, service/approval.ts).
   * Every caller decides: open registration asks the config, operators' accounts are approved.
   */
  approved: boolean;
  /** The version of the terms of service accepted with `m.login.terms`, stored with the account. */
  consentVersion?: string | null;
  /** Synapse's user type (`support`, `bot`); absent: an ordinary user. */
  userType?: string | null;
  /** A display name chosen by the operator who creates the account. */
  displayName?: string | null;
  /** An avatar URL chosen by the operator who creates the account (admin API). */
  avatarUrl?: string | null;
  /** Log the new account in (a device and an access token) unless `inhibit_login`. */
  login: { deviceId: string | null; initialDisplayName: string | null; refreshToken: boolean } | null;
  /**
   * Runs inside the registration transaction once the account row exists, before the login;
   * throwing rolls the account back. v3 registration binds the new id to its UIA session here,
   * so a concurrent duplicate of one session cannot create a second account.
   */
  onCreated?: (tx: Storage, userId: string) => Promise<void>;
}

export interface Registered {
  userId: string;
  deviceId: string | null;
  accessToken: string | null;
  refreshToken: string | null;
  expiresInMs: number | null;
}

/** How many times a generated numeric id may collide with a concurrent registration. */
const GENERATE_ATTEMPTS = 10;

/** Accounts: the username rules, availability, registration. */
export class UserService {
  constructor(
    private readonly deps: {
      storage: Storage;
      config: Config;
      clock: Clock;
      hasher: Hasher;
      sessions: SessionService;
      telemetry?: Pick<Telemetry, 'accountCreated'>;
    },
  ) {}

  /**
   * The localpart a client asked for, lower-cased (Synapse lowercases r0/v3 usernames; spec "User Identifiers"), or a 400 M_INVALID_USERNAME naming the rule it breaks. Only A-Z are folded, so the
   * grammar judges the characters the client sent (U+212A KELVIN SIGN is refused, not read as
   * `k`), for v1 and v3 alike, and as GET /register/available judges them.
   */
  normaliseLocalpart(username: string): string {
    const localpart = asciiLowerCase(username);
    const problem = localpartProblem(localpart, this.deps.config.serverName);
    if (problem !== null) throw new MatrixError('M_INVALID_USERNAME', LOCALPART_PROBLEM_TEXT[problem]);
    return localpart;
  }

  /** 400 M_USER_IN_USE when the localpart (in any case) is taken, deactivated ones included. */
  async assertAvailable(localpart: string): Promise<void> {
    if ((await this.deps.storage.users.findByLocalpart(localpart)) !== null) {
      throw new MatrixError('M_USER_IN_USE', 'User ID already taken.');
    }
  }

  /** Validate a new password and hash it (off the event loop). */
  async hashNewPassword(password: string): Promise<string> {
    checkPasswordPolicy(password, this.deps.config.passwordPolicy);
    return this.deps.hasher.hash(password);
  }

  /**
   * Create an account, and its first device and token unless `login` is null, in one
   * transaction. The unique index on the lower-cased localpart decides who wins a race:
   * the loser gets M_USER_IN_USE.
   *
   * Deliberate difference from Synapse 0.34's v1 register: the username is checked before the
   * password is hashed, so a bad request costs no hashing time.
   */
  async register(input: RegisterInput): Promise<Registered> {
    const { storage, config, clock } = this.deps;
    if (input.localpart !== null) {
      this.normaliseLocalpart(input.localpart);
      await this.assertAvailable(input.localpart);
    }
    let passwordHash: string | null = null;
    if (input.password !== null) {
      passwordHash = 'plain' in input.password ? await this.hashNewPassword(input.password.plain) : input.password.hash;
    }

    for (let attempt = 0; attempt < GENERATE_ATTEMPTS; attempt++) {
      const numericId = input.localpart === null ? await storage.users.nextNumericId() : null;
      const localpart = input.localpart ?? String(numericId);
      const userId = makeUserId(localpart, config.serverName);
      try {
        const result = await storage.transaction(async (tx): Promise<Registered | null> => {
          const created = await tx.users.create({
            userId,
            localpart,
            numericId,
            passwordHash,
            isGuest: input.isGuest,
            isAdmin: input.isAdmin,
            approved: input.approved,
            consentVersion: input.consentVersion ?? null,
            userType: input.userType ?? null,
            displayName: input.displayName ?? null,
            avatarUrl: input.avatarUrl ?? null,
            createdTs: clock.now(),
          });
          if (!created) return null;
          if (input.onCreated) await input.onCreated(tx, userId);
          if (input.login === null) {
            return { userId, deviceId: null, accessToken: null, refreshToken: null, expiresInMs: null };
          }
          const session = await this.deps.sessions.start(tx, { userId, ...input.login });
          return { userId, ...session };
        });
        if (result !== null) {
          this.deps.telemetry?.accountCreated(input.isGuest ? 'guest' : 'user');
          return result;
        }
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
      if (input.localpart !== null) throw new MatrixError('M_USER_IN_USE', 'User ID already taken.');
      // A generated id collided with a concurrent registration: take the next number.
    }
    throw new MatrixError('M_UNKNOWN', 'Could not generate a free user ID; try again');
  }
}
