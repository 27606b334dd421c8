import { type Insertable, type Kysely, type Selectable, sql, type Updateable } from 'kysely';
import { asciiLowerCase } from '../../util/matrix-id.js';
import type { Database, UsersTable } from '../schema.js';

export type UserRow = Selectable<UsersTable>;

/** The columns the admin API may change on an existing account in one statement. */
export type UserPatch = Pick<
  Updateable<UsersTable>,
  'displayname' | 'avatar_url' | 'user_type' | 'is_admin' | 'locked' | 'shadow_banned' | 'approved'
>;

/** Columns Synapse's admin user list may be ordered by (`order_by`). */
export const USER_ORDER_COLUMNS = {
  name: 'user_id',
  displayname: 'displayname',
  is_guest: 'is_guest',
  admin: 'is_admin',
  deactivated: 'deactivated',
  user_type: 'user_type',
  avatar_url: 'avatar_url',
  shadow_banned: 'shadow_banned',
  creation_ts: 'created_ts',
  last_seen_ts: 'last_seen_ts',
  locked: 'locked',
} as const;
export type UserOrder = keyof typeof USER_ORDER_COLUMNS;

/** Filters of the admin user list; null: no filter on that property. */
export interface UserListQuery {
  /** Part of the user id (case-insensitive). */
  userIdContains: string | null;
  /** Part of the localpart or of the display name (case-insensitive). */
  nameContains: string | null;
  includeGuests: boolean;
  /** null: deactivated and active alike; false: active only; true: deactivated only. */
  deactivated: boolean | null;
  includeLocked: boolean;
  /** null: admins and others; true: only admins; false: no admins. */
  admins: boolean | null;
  /** true: only accounts awaiting approval (Synapse's `approved=false`); false: no filter. */
  onlyUnapproved: boolean;
  /** Exclude these user types; '' excludes ordinary users (no type), as in Synapse. */
  notUserTypes: readonly string[];
  orderBy: UserOrder;
  backwards: boolean;
  offset: number;
  limit: number;
}

export type UserListRow = UserRow & { last_seen_ts: number | null };

/** `%`, `_` and the escape character itself match literally in a LIKE pattern. */
function containsPattern(value: string): string {
  return `%${value.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export interface NewUser {
  userId: string;
  localpart: string;
  numericId: number | null;
  passwordHash: string | null;
  isGuest: boolean;
  isAdmin: boolean;
  userType?: string | null;
  displayName?: string | null;
  avatarUrl?: string | null;
  /** False: the account awaits an admin's approval (MSC3866); default true, as the column's. */
  approved?: boolean;
  /** The version of the terms accepted at registration (accepted at `createdTs`), or null. */
  consentVersion?: string | null;
  createdTs: number;
}

function userRow(u: NewUser): Insertable<UsersTable> {
  return {
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
    avatar_url: u.avatarUrl ?? null,
    locked: 0,
    shadow_banned: 0,
    erased: 0,
    approved: u.approved === false ? 0 : 1,
    consent_version: u.consentVersion ?? null,
    consent_ts: u.consentVersion ? u.createdTs : null,
  };
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
      .values(userRow(u))
      .onConflict((oc) => oc.doNothing())
      .returning('user_id')
      .execute();
    return rows.length === 1;
  }

  /**
   * Insert many accounts at once (bulk loads, e.g. the benchmark's million accounts): one
   * multi-row INSERT per 500 accounts, all in one transaction. Ids that exist are skipped, as
   * in `create`; returns how many were inserted.
   */
  async createMany(users: readonly NewUser[]): Promise<number> {
    // 500 rows × 15 columns stays under both dialects' bound on parameters per statement.
    const CHUNK = 500;
    return this.db.transaction().execute(async (trx) => {
      let inserted = 0;
      for (let i = 0; i < users.length; i += CHUNK) {
        const res = await trx
          .insertInto('users')
          .values(users.slice(i, i + CHUNK).map(userRow))
          .onConflict((oc) => oc.doNothing())
          .executeTakeFirst();
        inserted += Number(res.numInsertedOrUpdatedRows ?? 0);
      }
      return inserted;
    });
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

  /**
   * Set the password hash of an active account; false when it is deactivated (or gone), in the
   * same statement, so a deactivation that commits first is never undone by a password.
   */
  async updatePasswordHash(userId: string, passwordHash: string | null): Promise<boolean> {
    const res = await this.db
      .updateTable('users')
      .set({ password_hash: passwordHash })
      .where('user_id', '=', userId)
      .where('deactivated', '=', 0)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
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

  /** Change some columns of an account; false when it does not exist. */
  async update(userId: string, patch: UserPatch): Promise<boolean> {
    if (Object.keys(patch).length === 0) return (await this.findByUserId(userId)) !== null;
    const res = await this.db.updateTable('users').set(patch).where('user_id', '=', userId).executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /** Deactivated with `erase`: marked erased, profile cleared (Synapse's admin API). */
  async markErased(userId: string): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ erased: 1, displayname: null, avatar_url: null })
      .where('user_id', '=', userId)
      .execute();
  }

  /** An operator re-activates a deactivated account with a new password (Synapse's admin API). */
  /** Re-activate a deactivated account with a password; false when it was not deactivated. */
  async reactivate(userId: string, passwordHash: string): Promise<boolean> {
    const res = await this.db
      .updateTable('users')
      .set({ deactivated: 0, erased: 0, password_hash: passwordHash })
      .where('user_id', '=', userId)
      .where('deactivated', '=', 1)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /**
   * One page of the admin user list and the number of accounts matching the filters: a
   * COUNT and a LIMIT/OFFSET query, never the whole table. Ties are broken by user id, so
   * pages are stable; nulls sort last going forwards on SQLite and PostgreSQL alike.
   */
  async page(q: UserListQuery): Promise<{ rows: UserListRow[]; total: number }> {
    let base = this.db.selectFrom('users as u');
    if (q.userIdContains !== null) {
      base = base.where(sql<boolean>`lower(u.user_id) like ${containsPattern(q.userIdContains)} escape '\\'`);
    }
    if (q.nameContains !== null) {
      const pattern = containsPattern(q.nameContains);
      base = base.where(
        sql<boolean>`(lower(u.localpart) like ${pattern} escape '\\' or lower(u.displayname) like ${pattern} escape '\\')`,
      );
    }
    if (!q.includeGuests) base = base.where('u.is_guest', '=', 0);
    if (q.deactivated !== null) base = base.where('u.deactivated', '=', q.deactivated ? 1 : 0);
    if (!q.includeLocked) base = base.where('u.locked', '=', 0);
    if (q.admins !== null) base = base.where('u.is_admin', '=', q.admins ? 1 : 0);
    if (q.onlyUnapproved) base = base.where('u.approved', '=', 0);
    const types = q.notUserTypes.filter((t) => t !== '');
    if (types.length > 0) {
      base = base.where((eb) => eb.or([eb('u.user_type', 'is', null), eb('u.user_type', 'not in', types)]));
    }
    if (q.notUserTypes.includes('')) base = base.where('u.user_type', 'is not', null);

    const counted = await base.select((eb) => eb.fn.countAll<number | string>().as('total')).executeTakeFirst();
    const total = Number(counted?.total ?? 0);

    const lastSeen = sql<number | null>`(select max(d.last_seen_ts) from devices d where d.user_id = u.user_id)`;
    const column = q.orderBy === 'last_seen_ts' ? lastSeen : sql.ref(`u.${USER_ORDER_COLUMNS[q.orderBy]}`);
    const dir = q.backwards ? sql`desc` : sql`asc`;
    const rows = await base
      .selectAll('u')
      .select(lastSeen.as('last_seen_ts'))
      .orderBy(sql`case when ${column} is null then 1 else 0 end ${dir}`)
      .orderBy(sql`${column} ${dir}`)
      .orderBy('u.user_id', 'asc')
      .limit(q.limit)
      .offset(q.offset)
      .execute();
    return {
      rows: rows.map((r) => ({ ...r, last_seen_ts: r.last_seen_ts === null ? null : Number(r.last_seen_ts) })),
      total,
    };
  }
}
