import type { Kysely, Selectable } from 'kysely';
import type { Database, UiaSessionsTable } from '../schema.js';
import { deleteSessionsReleasingHolds } from './registration-tokens.js';

/** PostgreSQL's foreign_key_violation, or SQLite's foreign-key constraint error. */
function isForeignKeyViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

export type UiaSessionRow = Selectable<UiaSessionsTable>;

export interface CompletedStage {
  stage: string;
  data: unknown;
}

/** All SQL about user-interactive auth sessions; they live here so any process can continue one. */
export class UiaSessionsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** Sessions not yet expired (for metrics). */
  async countOpen(now: number): Promise<number> {
    const row = await this.db
      .selectFrom('uia_sessions')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('expires_ts', '>', now)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async create(row: UiaSessionRow): Promise<void> {
    await this.db.insertInto('uia_sessions').values(row).execute();
  }

  /** The live session of that id, or null when unknown or expired. */
  async find(sessionId: string, now: number): Promise<UiaSessionRow | null> {
    const row = await this.db
      .selectFrom('uia_sessions')
      .selectAll()
      .where('session_id', '=', sessionId)
      .where('expires_ts', '>', now)
      .executeTakeFirst();
    return row ?? null;
  }

  async listStages(sessionId: string): Promise<CompletedStage[]> {
    const rows = await this.db
      .selectFrom('uia_stages')
      .select(['stage', 'data'])
      .where('session_id', '=', sessionId)
      .orderBy('seq')
      .execute();
    return rows.map((r) => ({ stage: r.stage, data: r.data === null ? null : JSON.parse(r.data) }));
  }

  /**
   * Record a completed stage; completing it again is a no-op (spec: finished stages stay
   * finished). False when the session no longer exists (deleted by a concurrent request): the
   * foreign key refuses the row, and that is an answer, not a failure.
   */
  async addStage(sessionId: string, stage: string, data: unknown, now: number, seq: number): Promise<boolean> {
    try {
      await this.insertStage(sessionId, stage, data, now, seq);
      return true;
    } catch (err) {
      if (isForeignKeyViolation(err)) return false;
      throw err;
    }
  }

  private async insertStage(sessionId: string, stage: string, data: unknown, now: number, seq: number) {
    await this.db
      .insertInto('uia_stages')
      .values({
        session_id: sessionId,
        stage,
        data: data === undefined ? null : JSON.stringify(data),
        completed_ts: now,
        seq,
      })
      .onConflict((oc) => oc.columns(['session_id', 'stage']).doNothing())
      .execute();
  }

  async updateRequestBody(sessionId: string, requestBody: string): Promise<void> {
    await this.db
      .updateTable('uia_sessions')
      .set({ request_body: requestBody })
      .where('session_id', '=', sessionId)
      .execute();
  }

  /**
   * Store the operation's result unless one is stored already; returns the stored result
   * (ours or the earlier one). One UPDATE … WHERE result IS NULL decides a race.
   */
  async setResultOnce(sessionId: string, result: string): Promise<string | null> {
    await this.db
      .updateTable('uia_sessions')
      .set({ result })
      .where('session_id', '=', sessionId)
      .where('result', 'is', null)
      .execute();
    const row = await this.db
      .selectFrom('uia_sessions')
      .select('result')
      .where('session_id', '=', sessionId)
      .executeTakeFirst();
    return row?.result ?? null;
  }

  /**
   * Delete the session and say whether this call deleted it: of concurrent callers (in any
   * process) exactly one gets true. Run inside the operation's transaction, so the operation
   * and the use of its authorisation commit or roll back together.
   */
  async consume(sessionId: string): Promise<boolean> {
    return this.inTransaction((trx) =>
      deleteSessionsReleasingHolds(trx, sessionId, async () => {
        const res = await trx.deleteFrom('uia_sessions').where('session_id', '=', sessionId).executeTakeFirst();
        return Number(res.numDeletedRows) === 1;
      }),
    );
  }

  /**
   * Every deletion of sessions first gives back the registration token uses they hold
   * (deleteSessionsReleasingHolds), in the same transaction: a session never takes a use with it.
   */
  private inTransaction<T>(fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    return this.db.isTransaction ? fn(this.db) : this.db.transaction().execute(fn);
  }

  /**
   * Forget the registration sessions that created `userId` (their `result` is exactly the JSON
   * RegistrationService writes), so they can no longer log that account in again.
   */
  async deleteRegistrationsOf(userId: string): Promise<void> {
    const result = JSON.stringify({ user_id: userId });
    await this.inTransaction(async (trx) => {
      const ids = trx
        .selectFrom('uia_sessions')
        .select('session_id')
        .where('operation', '=', 'register')
        .where('result', '=', result);
      await deleteSessionsReleasingHolds(trx, ids, () =>
        trx.deleteFrom('uia_sessions').where('operation', '=', 'register').where('result', '=', result).execute(),
      );
    });
  }

  async delete(sessionId: string): Promise<void> {
    await this.inTransaction((trx) =>
      deleteSessionsReleasingHolds(trx, sessionId, () =>
        trx.deleteFrom('uia_sessions').where('session_id', '=', sessionId).execute(),
      ),
    );
  }

  /** How many sessions are stored, live or expired (monitoring, tests). */
  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('uia_sessions')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Delete the sessions expired at `now`, giving back the token uses they held. A session that
   * took a hold after the holds were read makes the foreign key refuse the delete: the
   * transaction rolls back and the next run deletes it.
   */
  async deleteExpired(now: number): Promise<number> {
    return this.inTransaction((trx) =>
      deleteSessionsReleasingHolds(
        trx,
        trx.selectFrom('uia_sessions').select('session_id').where('expires_ts', '<=', now),
        async () => {
          const res = await trx.deleteFrom('uia_sessions').where('expires_ts', '<=', now).executeTakeFirst();
          return Number(res.numDeletedRows);
        },
      ),
    );
  }
}
