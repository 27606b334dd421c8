import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

export interface NewRefreshToken {
  id: string;
  tokenHash: string;
  userId: string;
  deviceId: string;
  createdTs: number;
  expiresTs: number | null;
  /** 1 when the token has no live predecessor (a fresh login), so its first use changes nothing. */
  used: number;
}

/** A presented refresh token with what the rotation rules need to judge it. */
export interface RefreshTokenState {
  id: string;
  user_id: string;
  device_id: string;
  expires_ts: number | null;
  next_token_id: string | null;
  deactivated: number;
}

/**
 * All SQL about refresh tokens (spec v1.3 "Refreshing access tokens"). Only SHA-256 hashes are
 * stored. A device's tokens form a chain R1 → R2 → … through `next_token_id`; every write that
 * decides a race is one guarded statement, so concurrent processes agree.
 */
export class RefreshTokensRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async create(t: NewRefreshToken): Promise<void> {
    await this.db
      .insertInto('refresh_tokens')
      .values({
        id: t.id,
        token_hash: t.tokenHash,
        user_id: t.userId,
        device_id: t.deviceId,
        created_ts: t.createdTs,
        expires_ts: t.expiresTs,
        next_token_id: null,
        used: t.used,
      })
      .execute();
  }

  async findByHash(tokenHash: string): Promise<RefreshTokenState | null> {
    const row = await this.db
      .selectFrom('refresh_tokens as r')
      .innerJoin('users as u', 'u.user_id', 'r.user_id')
      .select(['r.id', 'r.user_id', 'r.device_id', 'r.expires_ts', 'r.next_token_id', 'u.deactivated'])
      .where('r.token_hash', '=', tokenHash)
      .executeTakeFirst();
    return row ?? null;
  }

  /** Whether the token was used (itself exchanged, or an access token issued with it used); null if gone. */
  async isUsed(id: string): Promise<boolean | null> {
    const row = await this.db.selectFrom('refresh_tokens').select('used').where('id', '=', id).executeTakeFirst();
    return row === undefined ? null : row.used === 1;
  }

  /** Record the first use; true only for the one caller that flipped the flag. */
  async markUsed(id: string): Promise<boolean> {
    const res = await this.db
      .updateTable('refresh_tokens')
      .set({ used: 1 })
      .where('id', '=', id)
      .where('used', '=', 0)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /**
   * Point the token at its successor, if its successor is still `expected` (null: never
   * exchanged). One compare-and-swap statement: of concurrent refreshes only one wins.
   */
  async swapNext(id: string, expected: string | null, next: string): Promise<boolean> {
    let q = this.db.updateTable('refresh_tokens').set({ next_token_id: next }).where('id', '=', id);
    q = expected === null ? q.where('next_token_id', 'is', null) : q.where('next_token_id', '=', expected);
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /** Delete a successor nobody has used yet (its response was lost); false if it was used meanwhile. */
  async deleteUnused(id: string): Promise<boolean> {
    const res = await this.db
      .deleteFrom('refresh_tokens')
      .where('id', '=', id)
      .where('used', '=', 0)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async deleteByDevice(userId: string, deviceId: string): Promise<void> {
    await this.db
      .deleteFrom('refresh_tokens')
      .where('user_id', '=', userId)
      .where('device_id', '=', deviceId)
      .execute();
  }
}
