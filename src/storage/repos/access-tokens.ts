import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

export interface NewAccessToken {
  id: string;
  tokenHash: string;
  userId: string;
  deviceId: string;
  createdTs: number;
  expiresTs: number | null;
  refreshTokenId: string | null;
}

/** What the hot path needs to turn a token into a requester: one indexed join. */
export interface TokenOwner {
  user_id: string;
  device_id: string;
  expires_ts: number | null;
  is_guest: number;
  is_admin: number;
  deactivated: number;
}

/** All SQL about access tokens. Only SHA-256 hashes are stored. */
export class AccessTokensRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async create(t: NewAccessToken): Promise<void> {
    await this.db
      .insertInto('access_tokens')
      .values({
        id: t.id,
        token_hash: t.tokenHash,
        user_id: t.userId,
        device_id: t.deviceId,
        created_ts: t.createdTs,
        expires_ts: t.expiresTs,
        refresh_token_id: t.refreshTokenId,
      })
      .execute();
  }

  async findOwnerByHash(tokenHash: string): Promise<TokenOwner | null> {
    const row = await this.db
      .selectFrom('access_tokens as t')
      .innerJoin('users as u', 'u.user_id', 't.user_id')
      .select(['t.user_id', 't.device_id', 't.expires_ts', 'u.is_guest', 'u.is_admin', 'u.deactivated'])
      .where('t.token_hash', '=', tokenHash)
      .executeTakeFirst();
    return row ?? null;
  }

  /** Delete one token; returns the hashes deleted (for cache invalidation). */
  async deleteByHash(tokenHash: string): Promise<string[]> {
    const rows = await this.db
      .deleteFrom('access_tokens')
      .where('token_hash', '=', tokenHash)
      .returning('token_hash')
      .execute();
    return rows.map((r) => r.token_hash);
  }

  /** Delete every token of one device; returns the hashes deleted. */
  async deleteByDevice(userId: string, deviceId: string): Promise<string[]> {
    const rows = await this.db
      .deleteFrom('access_tokens')
      .where('user_id', '=', userId)
      .where('device_id', '=', deviceId)
      .returning('token_hash')
      .execute();
    return rows.map((r) => r.token_hash);
  }

  /** Hashes of every token of a user (before a cascade deletes them, for cache invalidation). */
  async listHashesByUser(userId: string, exceptDeviceId: string | null = null): Promise<string[]> {
    let q = this.db.selectFrom('access_tokens').select('token_hash').where('user_id', '=', userId);
    if (exceptDeviceId !== null) q = q.where('device_id', '!=', exceptDeviceId);
    return (await q.execute()).map((r) => r.token_hash);
  }
}
