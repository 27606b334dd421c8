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
  /** 1 when an admin locked the account (0009). */
  locked: number;
  /** The refresh token this token was issued with, and whether that one was already used. */
  refresh_token_id: string | null;
  refresh_used: number | null;
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
      .leftJoin('refresh_tokens as r', 'r.id', 't.refresh_token_id')
      .select([
        't.user_id',
        't.device_id',
        't.expires_ts',
        'u.is_guest',
        'u.is_admin',
        'u.deactivated',
        'u.locked',
        't.refresh_token_id',
        'r.used as refresh_used',
      ])
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

  /** Delete every token of these devices of one user, in one statement; returns the hashes deleted. */
  async deleteByDevices(userId: string, deviceIds: readonly string[]): Promise<string[]> {
    if (deviceIds.length === 0) return [];
    const rows = await this.db
      .deleteFrom('access_tokens')
      .where('user_id', '=', userId)
      .where('device_id', 'in', deviceIds)
      .returning('token_hash')
      .execute();
    return rows.map((r) => r.token_hash);
  }

  /** Delete every token of a user (logout/all); returns the hashes deleted. */
  async deleteByUser(userId: string): Promise<string[]> {
    const rows = await this.db
      .deleteFrom('access_tokens')
      .where('user_id', '=', userId)
      .returning('token_hash')
      .execute();
    return rows.map((r) => r.token_hash);
  }

  /** Delete the tokens issued with one refresh token; returns the hashes deleted. */
  async deleteByRefreshToken(refreshTokenId: string): Promise<string[]> {
    const rows = await this.db
      .deleteFrom('access_tokens')
      .where('refresh_token_id', '=', refreshTokenId)
      .returning('token_hash')
      .execute();
    return rows.map((r) => r.token_hash);
  }

  /**
   * Delete the tokens issued with the refresh token that was exchanged for `refreshTokenId`
   * (the previous link of the chain); returns the hashes deleted.
   */
  async deleteByPredecessorOf(refreshTokenId: string): Promise<string[]> {
    const rows = await this.db
      .deleteFrom('access_tokens')
      .where('refresh_token_id', 'in', (eb) =>
        eb.selectFrom('refresh_tokens').select('id').where('next_token_id', '=', refreshTokenId),
      )
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
