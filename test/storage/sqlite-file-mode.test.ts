import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { sql } from 'kysely';
import { openDatabase } from '../../src/storage/open.js';

/** The SQLite database holds password and token hashes: only Tessera's own user may read it. */

const dir = mkdtempSync(join(tmpdir(), 'tessera-mode-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const mode = (path: string) => statSync(path).mode & 0o777;

it('creates the database file, its WAL and shared-memory files and its directory readable by the owner only', async () => {
  const path = join(dir, 'fresh', 'tessera.db');
  const db = await openDatabase({ kind: 'sqlite', path });
  try {
    await sql`select count(*) from users`.execute(db.db);
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      assert.ok(existsSync(file), `${file} exists`);
      assert.equal(mode(file).toString(8), '600', file);
    }
    assert.equal(mode(join(dir, 'fresh')).toString(8), '700');
  } finally {
    await db.close();
  }
});

it('leaves the permissions of an existing database file as its operator set them', async () => {
  const path = join(dir, 'existing.db');
  writeFileSync(path, '');
  chmodSync(path, 0o640);
  const db = await openDatabase({ kind: 'sqlite', path });
  await db.close();
  assert.equal(mode(path).toString(8), '640');
});
