import type { Kysely, Selectable } from 'kysely';
import type { Database, DevicesTable } from '../schema.js';

export type DeviceRow = Selectable<DevicesTable>;

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
