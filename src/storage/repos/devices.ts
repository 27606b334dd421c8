import { type Kysely, type Selectable, sql } from 'kysely';
import type { Database, DevicesTable } from '../schema.js';

export type DeviceRow = Selectable<DevicesTable>;

/** The latest authenticated request of one device, as the activity batch writes it. */
export interface DeviceActivityRow {
  userId: string;
  deviceId: string;
  ip: string;
  userAgent: string | null;
  ts: number;
}

/**
 * Rows per activity statement: 5 bound parameters each, so 2,500 per statement, far below
 * SQLite's 32,766 and PostgreSQL's 65,535.
 */
const ACTIVITY_CHUNK = 500;

/** All SQL about devices. Deleting a device deletes its tokens (foreign keys cascade). */
export class DevicesRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** Create the device, or keep the existing one of that id (login with a known `device_id`). */
  async upsert(userId: string, deviceId: string, displayName: string | null, now: number): Promise<void> {
    await this.db
      .insertInto('devices')
      .values({
        user_id: userId,
        device_id: deviceId,
        display_name: displayName,
        created_ts: now,
        last_seen_ts: now,
        last_seen_ip: null,
      })
      .onConflict((oc) => oc.columns(['user_id', 'device_id']).doNothing())
      .execute();
  }

  async find(userId: string, deviceId: string): Promise<DeviceRow | null> {
    const row = await this.db
      .selectFrom('devices')
      .selectAll()
      .where('user_id', '=', userId)
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
    return row ?? null;
  }

  async listByUser(userId: string): Promise<DeviceRow[]> {
    return this.db.selectFrom('devices').selectAll().where('user_id', '=', userId).orderBy('device_id').execute();
  }

  /** When any device of the user was last seen (Synapse's admin API `last_seen_ts`), or null. */
  async lastSeenTs(userId: string): Promise<number | null> {
    const row = await this.db
      .selectFrom('devices')
      .select((eb) => eb.fn.max('last_seen_ts').as('last'))
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row?.last === null || row?.last === undefined ? null : Number(row.last);
  }

  /** Ids of a user's devices, optionally all but one (password change keeps the caller's). */
  async listIdsByUser(userId: string, exceptDeviceId: string | null = null): Promise<string[]> {
    let q = this.db.selectFrom('devices').select('device_id').where('user_id', '=', userId);
    if (exceptDeviceId !== null) q = q.where('device_id', '!=', exceptDeviceId);
    return (await q.orderBy('device_id').execute()).map((r) => r.device_id);
  }

  async updateDisplayName(userId: string, deviceId: string, displayName: string | null): Promise<boolean> {
    const res = await this.db
      .updateTable('devices')
      .set({ display_name: displayName })
      .where('user_id', '=', userId)
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /**
   * Record the latest activity of many devices: one `UPDATE … FROM (VALUES …)` per chunk of
   * rows, so a batch costs a statement, not a round trip per device. It only updates: a
   * device deleted meanwhile stays deleted and its row of the batch does nothing. A stored
   * `last_seen_ts` newer than the row's (another process wrote later) is kept. Both SQLite
   * (3.33+) and PostgreSQL accept this form; VALUES columns are `column1…` in both, and the
   * cast types the timestamp for PostgreSQL. Returns how many devices were updated.
   */
  async recordActivity(rows: readonly DeviceActivityRow[]): Promise<number> {
    let updated = 0;
    for (let start = 0; start < rows.length; start += ACTIVITY_CHUNK) {
      const values = rows
        .slice(start, start + ACTIVITY_CHUNK)
        .map((r) => sql`(${r.userId}, ${r.deviceId}, ${r.ip}, ${r.userAgent}, cast(${r.ts} as bigint))`);
      const res = await sql`
        update devices set
          last_seen_ip = v.ip,
          last_seen_user_agent = v.user_agent,
          last_seen_ts = v.ts
        from (
          select column1 as user_id, column2 as device_id, column3 as ip, column4 as user_agent, column5 as ts
          from (values ${sql.join(values)}) as rows_in
        ) as v
        where devices.user_id = v.user_id and devices.device_id = v.device_id
          and (devices.last_seen_ts is null or devices.last_seen_ts <= v.ts)`.execute(this.db);
      updated += Number(res.numAffectedRows ?? 0);
    }
    return updated;
  }

  /** Delete every device of a user (logout/all); their tokens go with them (cascade). */
  async deleteAllByUser(userId: string): Promise<void> {
    await this.db.deleteFrom('devices').where('user_id', '=', userId).execute();
  }

  /**
   * Delete these devices of one user in one statement; their refresh tokens cascade. Delete
   * their access tokens first to learn the hashes. Returns how many devices were deleted.
   */
  async deleteMany(userId: string, deviceIds: readonly string[]): Promise<number> {
    if (deviceIds.length === 0) return 0;
    const res = await this.db
      .deleteFrom('devices')
      .where('user_id', '=', userId)
      .where('device_id', 'in', deviceIds)
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  /** Delete one device; its refresh tokens cascade. Delete its access tokens first to learn their hashes. */
  async delete(userId: string, deviceId: string): Promise<boolean> {
    const res = await this.db
      .deleteFrom('devices')
      .where('user_id', '=', userId)
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
}
