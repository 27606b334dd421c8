import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { migrations } from '../../src/storage/migrations/index.js';
import { isUniqueViolation } from '../../src/storage/open.js';
import type { Storage } from '../../src/storage/storage.js';
import { makeDevice, makeUiaSession, makeUser, NOW, type StorageFixture, uniq } from './fixture.js';
import { refreshTokensBehaviour } from './refresh-tokens.js';

/**
 * The storage conformance suite: one set of behaviours every backend must show identically
 * (SQLite and PostgreSQL alike). storage.test.ts runs it once per backend.
 *
 * To extend it: add an `it` to the group of the repo, or a new group function below and a
 * line in `storageSuite`. Every test makes its own rows (names from `uniq`), so tests share
 * one database per backend and never depend on each other's data.
 */
export function storageSuite(fx: () => StorageFixture): void {
  describe('users', () => usersBehaviour(fx));
  describe('devices', () => devicesBehaviour(fx));
  describe('access tokens', () => accessTokensBehaviour(fx));
  describe('refresh tokens', () => refreshTokensBehaviour(fx));
  describe('uia sessions', () => uiaSessionsBehaviour(fx));
  describe('types and migrations', () => typesAndMigrationsBehaviour(fx));
}

async function makeToken(storage: Storage, userId: string, deviceId: string, expiresTs: number | null = null) {
  const hash = uniq('hash');
  await storage.accessTokens.create({
    id: uniq('id'),
    tokenHash: hash,
    userId,
    deviceId,
    createdTs: NOW,
    expiresTs,
    refreshTokenId: null,
  });
  return hash;
}

function usersBehaviour(fx: () => StorageFixture): void {
  it('creates a user and finds it by localpart in any case, and by id', async () => {
    const { storage } = fx();
    const localpart = uniq('Alice');
    const userId = await makeUser(storage, localpart);
    const byLower = await storage.users.findByLocalpart(localpart.toLowerCase());
    const byUpper = await storage.users.findByLocalpart(localpart.toUpperCase());
    assert.equal(byLower?.user_id, userId);
    assert.equal(byUpper?.user_id, userId);
    assert.equal(byLower?.localpart, localpart);
    assert.equal(byLower?.localpart_lower, localpart.toLowerCase());
    assert.deepEqual([byLower?.is_guest, byLower?.is_admin, byLower?.deactivated, byLower?.created_ts], [0, 0, 0, NOW]);
    assert.equal((await storage.users.findByUserId(userId))?.localpart, localpart);
    assert.equal(await storage.users.findByLocalpart(uniq('nobody')), null);
    assert.equal(await storage.users.findByUserId('@nobody:example.org'), null);
  });

  it('refuses the same localpart in another case (false, no exception)', async () => {
    const { storage } = fx();
    const localpart = uniq('bob');
    await makeUser(storage, localpart);
    const again = await storage.users.create({
      userId: `@${localpart.toUpperCase()}:example.org`,
      localpart: localpart.toUpperCase(),
      numericId: null,
      passwordHash: null,
      isGuest: false,
      isAdmin: false,
      createdTs: NOW,
    });
    assert.equal(again, false);
    assert.equal((await storage.users.findByLocalpart(localpart))?.user_id, `@${localpart}:example.org`);
  });

  it('bulk-inserts many users in one call, skipping ids that exist', async () => {
    const { storage } = fx();
    const prefix = uniq('bulk');
    const taken = await makeUser(storage, `${prefix}7`);
    const users = Array.from({ length: 1201 }, (_, i) => ({
      userId: `@${prefix}${i}:example.org`,
      localpart: `${prefix}${i}`,
      numericId: null,
      passwordHash: 'h',
      isGuest: false,
      isAdmin: false,
      createdTs: NOW,
    }));
    assert.equal(await storage.users.createMany(users), 1200);
    assert.equal((await storage.users.findByLocalpart(`${prefix}1200`))?.password_hash, 'h');
    assert.equal((await storage.users.findByUserId(taken))?.password_hash, '$argon2id$fake');
  });

  it('a race of 20 concurrent creates of one name gives exactly one true', async () => {
    const { storage } = fx();
    const localpart = uniq('race');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const lp = i % 2 === 0 ? localpart : localpart.toUpperCase();
        return storage.users.create({
          userId: `@${lp}:example.org`,
          localpart: lp,
          numericId: null,
          passwordHash: `hash${i}`,
          isGuest: false,
          isAdmin: false,
          createdTs: NOW + i,
        });
      }),
    );
    assert.equal(results.filter((r) => r).length, 1);
    const winner = results.indexOf(true);
    assert.equal((await storage.users.findByLocalpart(localpart))?.password_hash, `hash${winner}`);
  });

  it('nextNumericId is one past the largest numeric id, as a number', async () => {
    const { storage } = fx();
    const first = await storage.users.nextNumericId();
    assert.equal(typeof first, 'number');
    assert.ok(first >= 1);
    const big = first + 1000;
    const created = await storage.users.create({
      userId: `@${big}:example.org`,
      localpart: String(big),
      numericId: big,
      passwordHash: null,
      isGuest: true,
      isAdmin: false,
      createdTs: NOW,
    });
    assert.equal(created, true);
    assert.equal(await storage.users.nextNumericId(), big + 1);
    const row = await storage.users.findByLocalpart(String(big));
    assert.equal(row?.numeric_id, big);
    assert.equal(row?.is_guest, 1);
  });

  it('updates the password hash, the admin flag, and deactivates for good', async () => {
    const { storage } = fx();
    const userId = await makeUser(storage);
    await storage.users.updatePasswordHash(userId, '$argon2id$new');
    assert.equal((await storage.users.findByUserId(userId))?.password_hash, '$argon2id$new');
    await storage.users.updateAdmin(userId, true);
    assert.equal((await storage.users.findByUserId(userId))?.is_admin, 1);
    await storage.users.deactivate(userId);
    const row = await storage.users.findByUserId(userId);
    assert.equal(row?.deactivated, 1);
    assert.equal(row?.password_hash, null);
  });
}

function devicesBehaviour(fx: () => StorageFixture): void {
  it('upsert creates once and keeps the first device on a second upsert', async () => {
    const { storage } = fx();
    const { userId, deviceId } = await makeDevice(storage);
    await storage.devices.upsert(userId, deviceId, 'other name', NOW + 5);
    const row = await storage.devices.find(userId, deviceId);
    assert.deepEqual(
      { ...row },
      {
        user_id: userId,
        device_id: deviceId,
        display_name: 'phone',
        last_seen_ts: NOW,
        last_seen_ip: null,
        last_seen_user_agent: null,
        created_ts: NOW,
      },
    );
    assert.equal(await storage.devices.find(userId, 'NOPE'), null);
  });

  it('records activity of existing devices only, never moving last_seen_ts back', async () => {
    const { storage } = fx();
    const { userId, deviceId } = await makeDevice(storage);
    const row = (id: string, ts: number, ip: string) => ({ userId, deviceId: id, ip, userAgent: 'ua', ts });
    assert.equal(
      await storage.devices.recordActivity([row(deviceId, NOW + 9, '192.0.2.9'), row('GONE', NOW, '192.0.2.1')]),
      1,
    );
    assert.equal(await storage.devices.recordActivity([row(deviceId, NOW + 1, '192.0.2.1')]), 0);
    const found = await storage.devices.find(userId, deviceId);
    assert.deepEqual(
      [found?.last_seen_ip, found?.last_seen_user_agent, Number(found?.last_seen_ts)],
      ['192.0.2.9', 'ua', NOW + 9],
    );
    assert.equal(await storage.devices.find(userId, 'GONE'), null);
    assert.equal(await storage.devices.recordActivity([]), 0);
  });

  it('lists a user’s devices sorted by id, and only theirs', async () => {
    const { storage } = fx();
    const userId = await makeUser(storage);
    for (const id of ['CCC', 'AAA', 'BBB']) await storage.devices.upsert(userId, id, null, NOW);
    await makeDevice(storage);
    const list = await storage.devices.listByUser(userId);
    assert.deepEqual(
      list.map((d) => d.device_id),
      ['AAA', 'BBB', 'CCC'],
    );
  });

  it('renames and deletes, reporting whether the device existed', async () => {
    const { storage } = fx();
    const { userId, deviceId } = await makeDevice(storage);
    assert.equal(await storage.devices.updateDisplayName(userId, deviceId, 'laptop'), true);
    assert.equal((await storage.devices.find(userId, deviceId))?.display_name, 'laptop');
    assert.equal(await storage.devices.updateDisplayName(userId, 'NOPE', 'x'), false);
    assert.equal(await storage.devices.delete(userId, deviceId), true);
    assert.equal(await storage.devices.delete(userId, deviceId), false);
  });

  it('deleting a device deletes its access tokens (cascade)', async () => {
    const { storage } = fx();
    const { userId, deviceId } = await makeDevice(storage);
    const hash = await makeToken(storage, userId, deviceId);
    assert.notEqual(await storage.accessTokens.findOwnerByHash(hash), null);
    await storage.devices.delete(userId, deviceId);
    assert.equal(await storage.accessTokens.findOwnerByHash(hash), null);
  });

  it('a device of an unknown user is refused by the foreign key', async () => {
    const { storage } = fx();
    await assert.rejects(storage.devices.upsert('@ghost:example.org', 'DEV', null, NOW));
  });
}

function accessTokensBehaviour(fx: () => StorageFixture): void {
  it('finds the owner of a token hash with the user flags', async () => {
    const { storage } = fx();
    const { userId, deviceId } = await makeDevice(storage);
    const hash = await makeToken(storage, userId, deviceId, NOW + 60_000);
    const owner = await storage.accessTokens.findOwnerByHash(hash);
    // The fields every caller relies on (repos may add more).
    assert.deepEqual(
      [owner?.user_id, owner?.device_id, owner?.expires_ts, owner?.is_guest, owner?.is_admin, owner?.deactivated],
      [userId, deviceId, NOW + 60_000, 0, 0, 0],
    );
    const forever = await makeToken(storage, userId, deviceId);
    assert.equal((await storage.accessTokens.findOwnerByHash(forever))?.expires_ts, null);
    assert.equal(await storage.accessTokens.findOwnerByHash('unknown'), null);
  });

  it('a duplicate token hash is a unique violation on both dialects', async () => {
    const { storage } = fx();
    const { userId, deviceId } = await makeDevice(storage);
    const hash = await makeToken(storage, userId, deviceId);
    const dup = storage.accessTokens.create({
      id: uniq('id'),
      tokenHash: hash,
      userId,
      deviceId,
      createdTs: NOW,
      expiresTs: null,
      refreshTokenId: null,
    });
    await assert.rejects(dup, (err) => isUniqueViolation(err));
  });

  it('deletes by hash and by device, returning the deleted hashes', async () => {
    const { storage } = fx();
    const { userId, deviceId } = await makeDevice(storage);
    const other = await makeDevice(storage, userId);
    const a = await makeToken(storage, userId, deviceId);
    const b = await makeToken(storage, userId, deviceId);
    const c = await makeToken(storage, userId, other.deviceId);
    assert.deepEqual(await storage.accessTokens.deleteByHash(a), [a]);
    assert.deepEqual(await storage.accessTokens.deleteByHash(a), []);
    assert.deepEqual((await storage.accessTokens.listHashesByUser(userId)).sort(), [b, c].sort());
    assert.deepEqual(await storage.accessTokens.listHashesByUser(userId, deviceId), [c]);
    assert.deepEqual(await storage.accessTokens.deleteByDevice(userId, deviceId), [b]);
    assert.deepEqual(await storage.accessTokens.listHashesByUser(userId), [c]);
  });
}

function uiaSessionsBehaviour(fx: () => StorageFixture): void {
  it('finds a live session and not an expired one', async () => {
    const { storage } = fx();
    const id = await makeUiaSession(storage, NOW + 1000);
    const row = await storage.uiaSessions.find(id, NOW);
    assert.equal(row?.operation, 'register');
    assert.equal(row?.expires_ts, NOW + 1000);
    assert.equal(await storage.uiaSessions.find(id, NOW + 1000), null);
    assert.equal(await storage.uiaSessions.find('unknown', NOW), null);
  });

  it('addStage is idempotent: the first completion and its data stay', async () => {
    const { storage } = fx();
    const id = await makeUiaSession(storage);
    await storage.uiaSessions.addStage(id, 'm.login.recaptcha', { ok: 1 }, NOW, 1);
    await storage.uiaSessions.addStage(id, 'm.login.recaptcha', { ok: 2 }, NOW, 2);
    await storage.uiaSessions.addStage(id, 'm.login.dummy', undefined, NOW, 3);
    await Promise.all([1, 2, 3].map((i) => storage.uiaSessions.addStage(id, 'm.login.terms', { i }, NOW, 3 + i)));
    const stages = await storage.uiaSessions.listStages(id);
    assert.deepEqual(
      stages.map((s) => s.stage),
      ['m.login.recaptcha', 'm.login.dummy', 'm.login.terms'],
    );
    assert.deepEqual(stages[0]?.data, { ok: 1 });
    assert.equal(stages[1]?.data, null);
  });

  it('setResultOnce: of 10 concurrent results exactly one is stored and all callers see it', async () => {
    const { storage } = fx();
    const id = await makeUiaSession(storage);
    const seen = await Promise.all(
      Array.from({ length: 10 }, (_, i) => storage.uiaSessions.setResultOnce(id, `{"user":"u${i}"}`)),
    );
    assert.equal(new Set(seen).size, 1);
    assert.match(seen[0] ?? '', /^\{"user":"u\d"\}$/);
    assert.equal(await storage.uiaSessions.setResultOnce(id, '{"user":"late"}'), seen[0]);
    assert.equal(await storage.uiaSessions.setResultOnce('unknown', '{}'), null);
  });

  it('updates the request body; delete and deleteExpired remove sessions with their stages', async () => {
    const { storage, open } = fx();
    const id = await makeUiaSession(storage);
    await storage.uiaSessions.updateRequestBody(id, '{"username":"y"}');
    assert.equal((await storage.uiaSessions.find(id, NOW))?.request_body, '{"username":"y"}');
    await storage.uiaSessions.addStage(id, 'm.login.dummy', null, NOW, 1);
    await storage.uiaSessions.delete(id);
    assert.equal(await storage.uiaSessions.find(id, NOW), null);
    const orphans = await open.db.selectFrom('uia_stages').select('stage').where('session_id', '=', id).execute();
    assert.deepEqual(orphans, []);

    // Other tests' sessions may expire too: check ours by id, not by the count alone.
    const old = await makeUiaSession(storage, NOW + 10);
    const young = await makeUiaSession(storage, Number.MAX_SAFE_INTEGER);
    const deleted = await storage.uiaSessions.deleteExpired(NOW + 10);
    assert.ok(deleted >= 1);
    assert.equal(await storage.uiaSessions.find(old, 0), null);
    assert.notEqual(await storage.uiaSessions.find(young, NOW), null);
  });
}

function typesAndMigrationsBehaviour(fx: () => StorageFixture): void {
  it('BIGINT columns come back as JavaScript numbers, up to 2^53 - 1', async () => {
    const { storage, open } = fx();
    const id = await makeUiaSession(storage, Number.MAX_SAFE_INTEGER);
    const row = await storage.uiaSessions.find(id, NOW);
    assert.equal(typeof row?.created_ts, 'number');
    assert.equal(row?.created_ts, NOW);
    assert.equal(row?.expires_ts, Number.MAX_SAFE_INTEGER);
    // Aggregates too: count(*) is a bigint on PostgreSQL.
    const counted = await open.db
      .selectFrom('uia_sessions')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(typeof counted.n, 'number');
  });

  it('opening the same database again migrates nothing and keeps the data', async () => {
    const { storage } = fx();
    const userId = await makeUser(storage);
    const second = await fx().reopen();
    try {
      const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(second.db);
      assert.deepEqual(
        applied.rows.map((r) => r.name),
        Object.keys(migrations).sort(),
      );
      const found = await second.db.selectFrom('users').select('user_id').where('user_id', '=', userId).execute();
      assert.equal(found.length, 1);
    } finally {
      await second.close();
    }
  });
}
