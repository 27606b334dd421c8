import type { Kysely, Selectable } from 'kysely';
import { asciiLowerCase } from '../../util/matrix-id.js';
import type { Database, UsersTable } from '../schema.js';

export type UserRow = Selectable<UsersTable>;

export interface NewUser {
  userId: string;
  localpart: string;
  numericId: number | null;
  passwordHash: string | null;
  isGuest: boolean;
  isAdmin: boolean;
  userType?: string | null;
  displayName?: string | null;
  createdTs: number;
}

/** All SQL about accounts. */
export class UsersRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Insert a user; false when the id (or the same localpart in another case) exists. The
   * unique index decides, in one statement: never check-then-insert.
   */
  async create(u: NewUser): Promise<boolean> {
    const rows = await this.db
      .insertInto('users')
      .values({
        user_id: u.userId,
        localpart: u.localpart,
        localpart_lower: asciiLowerCase(u.localpart),
        numeric_id: u.numericId,
        password_hash: u.passwordHash,
        is_guest: u.isGuest ? 1 : 0,
        is_admin: u.isAdmin ? 1 : 0,
        deactivated: 0,
        created_ts: u.createdTs,
        user_type: u.userType ?? null,
        displayname: u.displayName ?? null,
      })
      .onConflict((oc) => oc.doNothing())
      .returning('user_id')
      .execute();
    return rows.length === 1;
  }

  /**
   * The account of `localpart` in any case. Localparts are ASCII (src/util/matrix-id.ts), so
   * only A-Z fold: `\u212Aelvin` is not `kelvin`.
   */
  async findByLocalpart(localpart: string): Promise<UserRow | null> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('localpart_lower', '=', asciiLowerCase(localpart))
      .executeTakeFirst();
    return row ?? null;
  }

  async findByUserId(userId: string): Promise<UserRow | null> {
    const row = await this.db.selectFrom('users').selectAll().where('user_id', '=', userId).executeTakeFirst();
    return row ?? null;
  }

  /** The next generated numeric localpart: one past the largest numeric id ever used. */
  async nextNumericId(): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.max('numeric_id').as('max'))
      .executeTakeFirst();
    return Number(row?.max ?? 0) + 1;
  }

  async updatePasswordHash(userId: string, passwordHash: string | null): Promise<void> {
    await this.db.updateTable('users').set({ password_hash: passwordHash }).where('user_id', '=', userId).execute();
  }

  /**
   * Mark deactivated and drop the password; the row stays so the id is never reused.
   * False when the account does not exist or was deactivated already (one guarded UPDATE).
   */
  async deactivate(userId: string): Promise<boolean> {
    const res = await this.db
      .updateTable('users')
      .set({ deactivated: 1, password_hash: null })
      .where('user_id', '=', userId)
      .where('deactivated', '=', 0)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async updateAdmin(userId: string, isAdmin: boolean): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ is_admin: isAdmin ? 1 : 0 })
      .where('user_id', '=', userId)
      .execute();
  }
}
