import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sql } from 'kysely';
import { migrations } from '../../src/storage/migrations/index.js';
import { openDatabase } from '../../src/storage/open.js';
import { backendRuns, describeOrSkip, postgresSkip } from '../helpers/backends.js';
import { databaseConfigFor, openFixture, type StorageFixture } from './fixture.js';
import { storageSuite } from './suite.js';

// The storage conformance suite, once per backend (SQLite always; PostgreSQL when reachable,
// and always in CI).
for (const { backend, skip } of await backendRuns()) {
  describeOrSkip(`storage [${backend}]`, skip, () => {
    let fixture: StorageFixture;
    before(async () => {
      fixture = await openFixture(backend);
    });
    after(() => fixture.close());
    storageSuite(() => fixture);
  });
}

describeOrSkip('storage [postgres]: several processes migrating a fresh schema at once', await postgresSkip(), () => {
  it('all succeed and each migration is applied once', async () => {
    const { config, cleanup } = databaseConfigFor('postgres');
    try {
      // Each open is what one process does at start: create the schema, lock, migrate.
      const opened = await Promise.all(Array.from({ length: 4 }, () => openDatabase(config)));
      const applied = await sql<{ name: string }>`select name from kysely_migration`.execute(opened[0]!.db);
      assert.deepEqual(applied.rows.map((r) => r.name).sort(), Object.keys(migrations).sort());
      await Promise.all(opened.map((o) => o.close()));
    } finally {
      await cleanup();
    }
  });
});
