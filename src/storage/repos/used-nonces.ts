import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

/** All SQL about spent shared-secret registration nonces. */
export class UsedNoncesRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Spend a nonce: true for the one caller whose INSERT took the key, false when it was spent
   * already (by any process). One statement, so two concurrent uses cannot both win.
   */
  async consume(nonceHash: string, expiresTs: number): Promise<boolean> {
    const rows = await this.db
      .insertInto('used_nonces')
      .values({ nonce_hash: nonceHash, expires_ts: expiresTs })
      .onConflict((oc) => oc.doNothing())
      .returning('nonce_hash')
      .execute();
    return rows.length === 1;
  }

  /** Forget nonces past their expiry: they are refused as expired anyway (housekeeping). */
  async deleteExpired(now: number): Promise<number> {
    const res = await this.db.deleteFrom('used_nonces').where('expires_ts', '<=', now).executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}
