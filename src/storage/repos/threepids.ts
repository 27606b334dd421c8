import { type Kysely, type Selectable, sql } from 'kysely';
import type { Database, ThreepidValidationSessionsTable, UserThreepidsTable } from '../schema.js';

export type ValidationSessionRow = Selectable<ThreepidValidationSessionsTable>;
export type UserThreepidRow = Selectable<UserThreepidsTable>;

/** What a request for a validation mail does to its session. */
export type SendDecision =
  /** A mail is due: a new session, a higher `send_attempt`, or an expired session renewed. */
  | { send: true; sid: string }
  /** The same (or a lower) `send_attempt` again: the mail was sent before, nothing changed. */
  | { send: false; sid: string };

/** All SQL about email addresses: validation sessions and the addresses bound to accounts. */
export class ThreepidsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * The session of (client_secret, medium, address, purpose), created or given the new token,
   * in ONE statement: an upsert whose update applies only to a higher `send_attempt` or an
   * expired session, so two concurrent requests (in any process) never both send for one
   * attempt. `row.sid` is used only when the session is new. A renewed expired session starts
   * unvalidated.
   */
  async prepareSend(row: ValidationSessionRow, now: number): Promise<SendDecision> {
    const done = await sql<{ sid: string }>`
      insert into threepid_validation_sessions
        (sid, purpose, medium, address, client_secret, token_hash, send_attempt, next_link,
         created_ts, token_expires_ts, expires_ts, validated_ts)
      values (${row.sid}, ${row.purpose}, ${row.medium}, ${row.address}, ${row.client_secret},
        ${row.token_hash}, ${row.send_attempt}, ${row.next_link}, ${row.created_ts},
        ${row.token_expires_ts}, ${row.expires_ts}, null)
      on conflict (client_secret, medium, address, purpose) do update set
        token_hash = excluded.token_hash,
        send_attempt = excluded.send_attempt,
        next_link = excluded.next_link,
        token_expires_ts = excluded.token_expires_ts,
        expires_ts = excluded.expires_ts,
        created_ts = case when threepid_validation_sessions.expires_ts <= ${now}
          then excluded.created_ts else threepid_validation_sessions.created_ts end,
        validated_ts = case when threepid_validation_sessions.expires_ts <= ${now}
          then null else threepid_validation_sessions.validated_ts end
      where threepid_validation_sessions.send_attempt < excluded.send_attempt
        or threepid_validation_sessions.expires_ts <= ${now}
      returning sid`.execute(this.db);
    const sent = done.rows[0];
    if (sent !== undefined) return { send: true, sid: sent.sid };
    const existing = await this.db
      .selectFrom('threepid_validation_sessions')
      .select('sid')
      .where('client_secret', '=', row.client_secret)
      .where('medium', '=', row.medium)
      .where('address', '=', row.address)
      .where('purpose', '=', row.purpose)
      .executeTakeFirstOrThrow();
    return { send: false, sid: existing.sid };
  }

  /**
   * The mail of `prepareSend` could not be sent: the session's attempt falls below any the
   * client can send, so its retry with the same `send_attempt` sends again. Only while the
   * session still has this token (a later attempt is not undone).
   */
  async unsend(sid: string, tokenHash: string): Promise<void> {
    await this.db
      .updateTable('threepid_validation_sessions')
      .set({ send_attempt: -1 })
      .where('sid', '=', sid)
      .where('token_hash', '=', tokenHash)
      .execute();
  }

  /** The live session `sid` (not past `expires_ts`), or null. */
  async find(sid: string, now: number): Promise<ValidationSessionRow | null> {
    const row = await this.db
      .selectFrom('threepid_validation_sessions')
      .selectAll()
      .where('sid', '=', sid)
      .where('expires_ts', '>', now)
      .executeTakeFirst();
    return row ?? null;
  }

  /** Mark `sid` validated (the first time counts); false when the token changed meanwhile. */
  async markValidated(sid: string, tokenHash: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('threepid_validation_sessions')
      .set((eb) => ({ validated_ts: eb.fn.coalesce('validated_ts', eb.val(now)) }))
      .where('sid', '=', sid)
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Delete the session `sid` (its purpose is done); false when another request did first. */
  async consume(sid: string): Promise<boolean> {
    const rows = await this.db
      .deleteFrom('threepid_validation_sessions')
      .where('sid', '=', sid)
      .returning('sid')
      .execute();
    return rows.length === 1;
  }

  async deleteExpired(now: number): Promise<number> {
    const r = await this.db
      .deleteFrom('threepid_validation_sessions')
      .where('expires_ts', '<=', now)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** Bind an address to `userId`; false when it is bound already (the primary key decides). */
  async bind(row: UserThreepidRow): Promise<boolean> {
    const rows = await this.db
      .insertInto('user_threepids')
      .values(row)
      .onConflict((oc) => oc.columns(['medium', 'address']).doNothing())
      .returning('user_id')
      .execute();
    return rows.length === 1;
  }

  /** The account an address is bound to, or null. */
  async userOf(medium: string, address: string): Promise<string | null> {
    const row = await this.db
      .selectFrom('user_threepids')
      .select('user_id')
      .where('medium', '=', medium)
      .where('address', '=', address)
      .executeTakeFirst();
    return row?.user_id ?? null;
  }

  /** The addresses bound to `userId`, oldest first. */
  async listOf(userId: string): Promise<UserThreepidRow[]> {
    return this.db
      .selectFrom('user_threepids')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('added_ts')
      .orderBy('address')
      .execute();
  }

  /** Unbind every address of `userId` (deactivation). */
  async unbindAll(userId: string): Promise<void> {
    await this.db.deleteFrom('user_threepids').where('user_id', '=', userId).execute();
  }
}
