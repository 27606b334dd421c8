import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Storage } from '../../src/storage/storage.js';
import { makeDevice, NOW, type StorageFixture, uniq } from './fixture.js';

async function makeRefreshToken(storage: Storage, userId: string, deviceId: string, used = 0) {
  const id = uniq('rt');
  const hash = uniq('rthash');
  await storage.refreshTokens.create({ id, tokenHash: hash, userId, deviceId, createdTs: NOW, expiresTs: null, used });
  return { id, hash };
}

/** Refresh-token rotation: every race is decided by one guarded statement, on both dialects. */
export function refreshTokensBehaviour(fx: () => StorageFixture): void {
  it('finds a token by hash with its chain state', async () => {
    const { storage } = fx();
    const { userId, deviceId } = await makeDevice(storage);
    const { id, hash } = await makeRefreshToken(storage, userId, deviceId);
    const found = await storage.refreshTokens.findByHash(hash);
    assert.deepEqual(
      [found?.id, found?.user_id, found?.device_id, found?.expires_ts, found?.next_token_id, found?.deactivated],
      [id, userId, deviceId, null, null, 0],
    );
    assert.equal(await storage.refreshTokens.findByHash('unknown'), null);
    assert.equal(await storage.refreshTokens.isUsed(id), false);
    assert.equal(await storage.refreshTokens.isUsed('unknown'), null);
  });

  it('markUsed: of 10 concurrent callers exactly one flips the flag', async () => {
    const { storage } = fx();
    const { userId, deviceId } = await makeDevice(storage);
    const { id } = await makeRefreshToken(storage, userId, deviceId);
    const flips = await Promise.all(Array.from({ length: 10 }, () => storage.refreshTokens.markUsed(id)));
    assert.equal(flips.filter((f) => f).length, 1);
    assert.equal(await storage.refreshTokens.isUsed(id), true);
  });

  it('swapNext: of 10 concurrent exchanges exactly one wins; a stale expectation loses', async () => {
    const { storage } = fx();
    const { userId, deviceId } = await makeDevice(storage);
    const { id, hash } = await makeRefreshToken(storage, userId, deviceId);
    const wins = await Promise.all(
      Array.from({ length: 10 }, (_, i) => storage.refreshTokens.swapNext(id, null, `next${i}`)),
    );
    assert.equal(wins.filter((w) => w).length, 1);
    const next = `next${wins.indexOf(true)}`;
    assert.equal((await storage.refreshTokens.findByHash(hash))?.next_token_id, next);
    assert.equal(await storage.refreshTokens.swapNext(id, 'stale', 'other'), false);
    assert.equal(await storage.refreshTokens.swapNext(id, next, 'third'), true);
  });

  it('deleteUnused deletes only an unused token; deleting the device deletes its tokens', async () => {
    const { storage } = fx();
    const { userId, deviceId } = await makeDevice(storage);
    const unused = await makeRefreshToken(storage, userId, deviceId);
    const used = await makeRefreshToken(storage, userId, deviceId, 1);
    assert.equal(await storage.refreshTokens.deleteUnused(used.id), false);
    assert.equal(await storage.refreshTokens.deleteUnused(unused.id), true);
    assert.equal(await storage.refreshTokens.isUsed(unused.id), null);
    await storage.devices.delete(userId, deviceId);
    assert.equal(await storage.refreshTokens.findByHash(used.hash), null);
  });
}
