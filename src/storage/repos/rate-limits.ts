import { type Kysely, sql } from 'kysely';
import type { Database } from '../schema.js';

export interface Consumed {
  allowed: boolean;
  /** When denied: ms until one more action fits in the bucket (0 when allowed). */
  retryAfterMs: number;
}

/**
 * Leaky buckets shared by every process (Synapse's synapse/api/ratelimiting.py semantics):
 * the level drains at `perSecond`; an action is allowed when the drained level plus one is at
 * most `burst`, and then the level becomes that. Timestamps are ms.
 */
export class RateLimitsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Take one action from the bucket `key` if it fits, in ONE statement (an upsert whose update
   * is guarded by the rule), so concurrent requests in any process cannot overdraw it. A
   * denied action changes nothing, as in Synapse.
   */
  async consume(key: string, perSecond: number, burst: number, now: number): Promise<Consumed> {
    const drained = drainedLevel(now, perSecond);
    const row = await sql<{ level: number }>`
      insert into rate_limits (key, level, updated_ts) values (${key}, 1, ${now})
      on conflict (key) do update set
        level = ${drained} + 1,
        updated_ts = case when rate_limits.updated_ts > ${now} then rate_limits.updated_ts else ${now} end
      where ${drained} + 1 <= ${burst}
      returning level`.execute(this.db);
    if (row.rows.length > 0) return { allowed: true, retryAfterMs: 0 };
    return { allowed: false, retryAfterMs: await this.retryAfter(key, perSecond, burst, now) };
  }

  /** Would one action fit now? Reads only (Synapse's `update=False` check). */
  async peek(key: string, perSecond: number, burst: number, now: number): Promise<Consumed> {
    const row = await this.find(key);
    if (row === null) return { allowed: true, retryAfterMs: 0 };
    const level = Math.max(0, row.level - (Math.max(0, now - row.updated_ts) / 1000) * perSecond);
    if (level + 1 <= burst) return { allowed: true, retryAfterMs: 0 };
    return { allowed: false, retryAfterMs: retryAfterMs(row, perSecond, burst, now) };
  }

  /** Give one action back (after a reservation turned out not to count), never below empty. */
  async refund(key: string, perSecond: number, now: number): Promise<void> {
    const drained = drainedLevel(now, perSecond);
    await sql`
      update rate_limits set
        level = case when ${drained} > 1 then ${drained} - 1 else 0 end,
        updated_ts = case when updated_ts > ${now} then updated_ts else ${now} end
      where key = ${key}`.execute(this.db);
  }

  /** Delete the buckets `keys`, or every bucket when `keys` is null; returns how many there were. */
  async clear(keys: readonly string[] | null): Promise<number> {
    let q = this.db.deleteFrom('rate_limits');
    if (keys !== null) {
      if (keys.length === 0) return 0;
      q = q.where('key', 'in', keys);
    }
    return Number((await q.executeTakeFirst()).numDeletedRows);
  }

  /** Delete buckets untouched since `cutoffTs` (housekeeping: they have drained to empty). */
  async deleteIdleSince(cutoffTs: number): Promise<number> {
    const res = await this.db.deleteFrom('rate_limits').where('updated_ts', '<', cutoffTs).executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  private async find(key: string): Promise<{ level: number; updated_ts: number } | null> {
    const row = await this.db
      .selectFrom('rate_limits')
      .select(['level', 'updated_ts'])
      .where('key', '=', key)
      .executeTakeFirst();
    return row === undefined ? null : { level: Number(row.level), updated_ts: Number(row.updated_ts) };
  }

  private async retryAfter(key: string, perSecond: number, burst: number, now: number): Promise<number> {
    const row = await this.find(key);
    // The row vanished between the two statements (deleted by housekeeping): try again now.
    return row === null ? 1 : retryAfterMs(row, perSecond, burst, now);
  }
}

/**
 * The bucket's level drained to `now`, as SQL over the stored row; CASE rather than
 * GREATEST/MAX, whose names and NULL handling differ between SQLite and PostgreSQL. A clock
 * behind the stored time (another process's) drains nothing rather than filling the bucket.
 * The casts keep PostgreSQL from typing the parameters as bigint.
 */
function drainedLevel(now: number, perSecond: number) {
  const elapsed = sql`(cast(${now} as double precision) - rate_limits.updated_ts)`;
  const level = sql`(rate_limits.level - ${elapsed} / 1000.0 * cast(${perSecond} as double precision))`;
  return sql`(case when ${elapsed} <= 0 then rate_limits.level when ${level} > 0 then ${level} else 0 end)`;
}

/** Synapse: the time one more action fits is `updated + (level - burst + 1) / rate`; at least 1 ms. */
function retryAfterMs(row: { level: number; updated_ts: number }, perSecond: number, burst: number, now: number) {
  const allowedAt = row.updated_ts + ((row.level - burst + 1) / perSecond) * 1000;
  return Math.max(1, Math.ceil(allowedAt - now));
}
