import type { ExpressionBuilder, Kysely, Selectable, SelectQueryBuilder } from 'kysely';
import type { Database, RegistrationTokensTable } from '../schema.js';

export type RegistrationTokenRow = Selectable<RegistrationTokensTable>;

/** What `hold` did. */
export type HoldOutcome =
  /** This session now holds one use of the token (its `pending` went up by one). */
  | 'held'
  /** This session already held a use of this token: nothing changed. */
  | 'already-held'
  /** This session already holds a use of another token: nothing changed. */
  | 'other-token'
  /** Unknown, used up or expired: nothing changed. */
  | 'invalid'
  /** The session is gone or expired: nothing changed. */
  | 'session-gone';

/** Thrown inside a transaction to roll it back with an answer. */
class Rollback extends Error {
  constructor(readonly outcome: HoldOutcome) {
    super(outcome);
  }
}

/** A valid token at `now`: uses left (counting held ones) and not expired (Synapse's rule). */
function validAt(now: number) {
  return (eb: ExpressionBuilder<Database, 'registration_tokens'>) =>
    eb.and([
      eb.or([eb('uses_allowed', 'is', null), eb(eb('pending', '+', eb.ref('completed')), '<', eb.ref('uses_allowed'))]),
      eb.or([eb('expiry_time', 'is', null), eb('expiry_time', '>', now)]),
    ]);
}

/** Run `fn` in a transaction, or in the caller's when `db` is one already. */
function inTransaction<T>(db: Kysely<Database>, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}

/**
 * Delete sessions and give back the uses they hold, in the caller's transaction `trx`: the
 * hold rows of `sessionIds` (an id, or a subquery of ids) go, then `deleteSessions` runs, then
 * each token's `pending` goes down by as many holds as went. A hold row is deleted once, by one
 * caller (DELETE … RETURNING), so a use is never given back twice. The token rows are locked
 * last and in a fixed order: a concurrent stage locks its session before its token, so the two
 * never wait on each other in a cycle.
 */
export async function deleteSessionsReleasingHolds<T>(
  trx: Kysely<Database>,
  sessionIds: string | SelectQueryBuilder<Database, 'uia_sessions', { session_id: string }>,
  deleteSessions: () => Promise<T>,
): Promise<T> {
  const released = await trx
    .deleteFrom('registration_token_holds')
    .where('session_id', typeof sessionIds === 'string' ? '=' : 'in', sessionIds)
    .returning('token')
    .execute();
  const result = await deleteSessions();
  const counts = new Map<string, number>();
  for (const r of released) counts.set(r.token, (counts.get(r.token) ?? 0) + 1);
  for (const token of [...counts.keys()].sort()) {
    await trx
      .updateTable('registration_tokens')
      .set((eb) => ({ pending: eb('pending', '-', counts.get(token)!) }))
      .where('token', '=', token)
      .execute();
  }
  return result;
}

/** All SQL about registration tokens and the uses UIA sessions hold. */
export class RegistrationTokensRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** Create a token; false when one of that name exists (the primary key decides, in any process). */
  async create(row: RegistrationTokenRow): Promise<boolean> {
    const rows = await this.db
      .insertInto('registration_tokens')
      .values(row)
      .onConflict((oc) => oc.column('token').doNothing())
      .returning('token')
      .execute();
    return rows.length === 1;
  }

  async find(token: string): Promise<RegistrationTokenRow | null> {
    const row = await this.db
      .selectFrom('registration_tokens')
      .selectAll()
      .where('token', '=', token)
      .executeTakeFirst();
    return row ?? null;
  }

  /** Every token, or only the valid (true) or invalid (false) ones at `now`, oldest first. */
  async list(valid: boolean | null, now: number): Promise<RegistrationTokenRow[]> {
    let q = this.db.selectFrom('registration_tokens').selectAll();
    if (valid === true) q = q.where(validAt(now));
    if (valid === false) q = q.where((eb) => eb.not(validAt(now)(eb)));
    return q.orderBy('created_ts').orderBy('token').execute();
  }

  /** Whether `token` could pass the registration token stage now. */
  async isValid(token: string, now: number): Promise<boolean> {
    const row = await this.db
      .selectFrom('registration_tokens')
      .select('token')
      .where('token', '=', token)
      .where(validAt(now))
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Set `uses_allowed` and/or `expiry_time`; the updated row, or null when there is no such
   * token. One statement: the counters a concurrent registration moves are never overwritten.
   */
  async update(
    token: string,
    fields: { uses_allowed?: number | null; expiry_time?: number | null },
  ): Promise<RegistrationTokenRow | null> {
    if (fields.uses_allowed === undefined && fields.expiry_time === undefined) return this.find(token);
    const row = await this.db
      .updateTable('registration_tokens')
      .set(fields)
      .where('token', '=', token)
      .returningAll()
      .executeTakeFirst();
    return row ?? null;
  }

  /**
   * Delete a token and the uses sessions hold of it, so those sessions can no longer finish
   * with it (completeHold then fails). False when there was no such token.
   */
  async delete(token: string): Promise<boolean> {
    return inTransaction(this.db, async (trx) => {
      await trx.deleteFrom('registration_token_holds').where('token', '=', token).execute();
      const res = await trx.deleteFrom('registration_tokens').where('token', '=', token).executeTakeFirst();
      return Number(res.numDeletedRows) === 1;
    });
  }

  /**
   * Take one use of `token` for the live session `sessionId`, in one transaction: the hold row
   * (its key refuses a second hold for the session), then one UPDATE that both checks the
   * token is valid and counts the use in `pending`. Concurrent holders of the last use, in any
   * process, are decided by that UPDATE: PostgreSQL re-checks its WHERE against the row a
   * concurrent transaction committed, SQLite runs one writer at a time.
   */
  async hold(sessionId: string, token: string, now: number): Promise<HoldOutcome> {
    try {
      return await inTransaction(this.db, async (trx) => {
        const inserted = await trx
          .insertInto('registration_token_holds')
          .columns(['session_id', 'token', 'created_ts'])
          .expression((eb) =>
            eb
              .selectFrom('uia_sessions')
              .select([
                eb.cast(eb.val(sessionId), 'text').as('session_id'),
                eb.cast(eb.val(token), 'text').as('token'),
                eb.cast(eb.val(now), 'bigint').as('created_ts'),
              ])
              .where('session_id', '=', sessionId)
              .where('expires_ts', '>', now),
          )
          .onConflict((oc) => oc.column('session_id').doNothing())
          .returning('session_id')
          .execute();
        if (inserted.length === 0) {
          const existing = await trx
            .selectFrom('registration_token_holds')
            .select('token')
            .where('session_id', '=', sessionId)
            .executeTakeFirst();
          if (existing === undefined) return 'session-gone';
          return existing.token === token ? 'already-held' : 'other-token';
        }
        const counted = await trx
          .updateTable('registration_tokens')
          .set((eb) => ({ pending: eb('pending', '+', 1) }))
          .where('token', '=', token)
          .where(validAt(now))
          .executeTakeFirst();
        if (Number(counted.numUpdatedRows) !== 1) throw new Rollback('invalid');
        return 'held';
      });
    } catch (err) {
      if (err instanceof Rollback) return err.outcome;
      throw err;
    }
  }

  /**
   * The registration of `sessionId` finished: its held use becomes a completed one (pending − 1,
   * completed + 1) and the hold row goes. Run inside the registration's transaction; false when
   * the session holds no use (given back at expiry, or its token was deleted), and the caller
   * must then not register.
   */
  async completeHold(sessionId: string): Promise<boolean> {
    return inTransaction(this.db, async (trx) => {
      const hold = await trx
        .deleteFrom('registration_token_holds')
        .where('session_id', '=', sessionId)
        .returning('token')
        .executeTakeFirst();
      if (hold === undefined) return false;
      const res = await trx
        .updateTable('registration_tokens')
        .set((eb) => ({ pending: eb('pending', '-', 1), completed: eb('completed', '+', 1) }))
        .where('token', '=', hold.token)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    });
  }

  /** The token session `sessionId` holds a use of, if any (tests, diagnostics). */
  async heldBy(sessionId: string): Promise<string | null> {
    const row = await this.db
      .selectFrom('registration_token_holds')
      .select('token')
      .where('session_id', '=', sessionId)
      .executeTakeFirst();
    return row?.token ?? null;
  }
}
