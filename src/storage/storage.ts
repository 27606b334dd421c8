import { type Kysely, sql } from 'kysely';
import type { Dialect } from './open.js';
import { AccessTokensRepo } from './repos/access-tokens.js';
import { DevicesRepo } from './repos/devices.js';
import { RateLimitsRepo } from './repos/rate-limits.js';
import { RefreshTokensRepo } from './repos/refresh-tokens.js';
import { RegistrationTokensRepo } from './repos/registration-tokens.js';
import { ThreepidsRepo } from './repos/threepids.js';
import { UiaSessionsRepo } from './repos/uia-sessions.js';
import { UsedNoncesRepo } from './repos/used-nonces.js';
import { UsersRepo } from './repos/users.js';
import type { Database } from './schema.js';

/**
 * What services see of the database: one repository per aggregate, and transactions.
 * Nothing dialect-specific leaks above this interface.
 */
export interface Storage {
  readonly dialect: Dialect;
  readonly users: UsersRepo;
  readonly devices: DevicesRepo;
  readonly accessTokens: AccessTokensRepo;
  readonly refreshTokens: RefreshTokensRepo;
  readonly uiaSessions: UiaSessionsRepo;
  readonly rateLimits: RateLimitsRepo;
  readonly usedNonces: UsedNoncesRepo;
  readonly registrationTokens: RegistrationTokensRepo;
  /** Email validation sessions and the addresses bound to accounts (0012). */
  readonly threepids: ThreepidsRepo;
  /** One trivial query: resolves when the database answers. */
  ping(): Promise<void>;
  /** Run `fn` in one transaction; the Storage it receives runs every query inside it. */
  transaction<T>(fn: (tx: Storage) => Promise<T>): Promise<T>;
}

export function createStorage(db: Kysely<Database>, dialect: Dialect): Storage {
  return {
    dialect,
    users: new UsersRepo(db),
    devices: new DevicesRepo(db),
    accessTokens: new AccessTokensRepo(db),
    refreshTokens: new RefreshTokensRepo(db),
    uiaSessions: new UiaSessionsRepo(db),
    rateLimits: new RateLimitsRepo(db),
    usedNonces: new UsedNoncesRepo(db),
    registrationTokens: new RegistrationTokensRepo(db),
    threepids: new ThreepidsRepo(db),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    transaction: (fn) =>
      db.isTransaction
        ? fn(createStorage(db, dialect))
        : db.transaction().execute((trx) => fn(createStorage(trx, dialect))),
  };
}
