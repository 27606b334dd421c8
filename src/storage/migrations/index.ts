import type { Migration } from 'kysely';
import * as m0001 from './0001-initial.js';
import * as m0002 from './0002-refresh-token-use.js';
import * as m0006 from './0006-rate-limits.js';
import * as m0007 from './0007-shared-secret-registration.js';
import * as m0008 from './0008-device-activity.js';
import * as m0009 from './0009-admin-users.js';
import * as m0010 from './0010-registration-tokens.js';
import * as m0011 from './0011-registration-gates.js';
import * as m0012 from './0012-threepids.js';

/**
 * Every migration, in order, for both dialects (one set: portable types only). Kysely's
 * Migrator records applied names in `kysely_migration` and, on PostgreSQL, holds an advisory
 * lock while migrating, so several processes may start at once. Add new ones at the end.
 */
export const migrations: Record<string, Migration> = {
  '0001-initial': m0001,
  '0002-refresh-token-use': m0002,
  '0006-rate-limits': m0006,
  '0007-shared-secret-registration': m0007,
  '0008-device-activity': m0008,
  '0009-admin-users': m0009,
  '0010-registration-tokens': m0010,
  '0011-registration-gates': m0011,
  '0012-threepids': m0012,
};
