import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseConfig } from '../../src/config/config.js';
import { type OpenDatabase, openDatabase } from '../../src/storage/open.js';
import { createStorage, type Storage } from '../../src/storage/storage.js';
import { type Backend, dropSchema, POSTGRES_URL, uniqueSchemaName } from '../helpers/backends.js';

/** One throwaway database of one backend, opened through the production code path. */
export interface StorageFixture {
  backend: Backend;
  config: DatabaseConfig;
  open: OpenDatabase;
  storage: Storage;
  /** Open the same database once more (a second process, a restart). */
  reopen(): Promise<OpenDatabase>;
  close(): Promise<void>;
}

export function databaseConfigFor(backend: Backend): { config: DatabaseConfig; cleanup(): Promise<void> } {
  if (backend === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-storage-'));
    return {
      config: { kind: 'sqlite', path: join(dir, 'tessera.db') },
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const schema = uniqueSchemaName();
  return { config: postgresConfig(schema), cleanup: () => dropSchema(schema) };
}

/** The parsed config of `schema` on the test PostgreSQL server. */
export function postgresConfig(schema: string, poolMax = 8): DatabaseConfig {
  return {
    kind: 'postgres',
    url: POSTGRES_URL,
    host: null,
    port: null,
    user: null,
    password: null,
    database: null,
    poolMin: 0,
    poolMax,
    connectTimeoutMs: 10_000,
    schema,
  };
}

export async function openFixture(backend: Backend): Promise<StorageFixture> {
  const { config, cleanup } = databaseConfigFor(backend);
  const open = await openDatabase(config);
  return {
    backend,
    config,
    open,
    storage: createStorage(open.db, open.dialect),
    reopen: () => openDatabase(config),
    async close() {
      await open.close();
      await cleanup();
    },
  };
}

let counter = 0;
/** A name no other test in this process uses. */
export function uniq(prefix: string): string {
  counter += 1;
  return `${prefix}${counter}x${Math.random().toString(36).slice(2, 6)}`;
}

/** A realistic millisecond timestamp: above 2^32, so it needs the BIGINT columns. */
export const NOW = 1_750_000_000_123;

export async function makeUser(storage: Storage, localpart = uniq('user')): Promise<string> {
  const userId = `@${localpart}:example.org`;
  const created = await storage.users.create({
    userId,
    localpart,
    numericId: null,
    passwordHash: '$argon2id$fake',
    isGuest: false,
    isAdmin: false,
    createdTs: NOW,
  });
  assert.equal(created, true);
  return userId;
}

/** A register UIA session expiring at `expiresTs`; returns its id. */
export async function makeUiaSession(storage: Storage, expiresTs = NOW + 60_000): Promise<string> {
  const sessionId = uniq('sess');
  await storage.uiaSessions.create({
    session_id: sessionId,
    operation: 'register',
    user_id: null,
    request_body: '{"username":"x"}',
    result: null,
    created_ts: NOW,
    expires_ts: expiresTs,
  });
  return sessionId;
}

export async function makeDevice(storage: Storage, userId?: string): Promise<{ userId: string; deviceId: string }> {
  const owner = userId ?? (await makeUser(storage));
  const deviceId = uniq('DEV');
  await storage.devices.upsert(owner, deviceId, 'phone', NOW);
  return { userId: owner, deviceId };
}
