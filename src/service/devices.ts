import { MatrixError } from '../errors.js';
import { DEVICE_DELETE_CHUNK } from '../limits.js';
import type { Storage } from '../storage/storage.js';
import { assertDeviceDisplayName } from '../util/device-id.js';
import type { ReauthService } from './reauth.js';
import type { Requester, TokenService } from './tokens.js';

/** A device as clients see it (spec: "Device Management", `Device`). */
export interface DeviceView {
  userId: string;
  deviceId: string;
  displayName: string | null;
  lastSeenIp: string | null;
  lastSeenTs: number | null;
}

/**
 * A user's devices: list, look up, rename, delete (spec: "Device Management"). Deleting a
 * device deletes its access and refresh tokens and drops them from the token cache at once.
 */
export class DeviceService {
  constructor(private readonly deps: { storage: Storage; tokens: TokenService; reauth: ReauthService }) {}

  async list(userId: string): Promise<DeviceView[]> {
    return (await this.deps.storage.devices.listByUser(userId)).map(toView);
  }

  /** One of the user's own devices; another user's device is as unknown as a missing one (404). */
  async get(userId: string, deviceId: string): Promise<DeviceView> {
    const row = await this.deps.storage.devices.find(userId, deviceId);
    if (row === null) throw new MatrixError('M_NOT_FOUND', 'No device found');
    return toView(row);
  }

  /**
   * Rename a device. `displayName` null or absent leaves the name as it is (Synapse) but the
   * device must still exist; clients cannot create devices here.
   */
  async rename(userId: string, deviceId: string, displayName: string | null): Promise<void> {
    if (displayName !== null) assertDeviceDisplayName(displayName);
    const found =
      displayName === null
        ? (await this.deps.storage.devices.find(userId, deviceId)) !== null
        : await this.deps.storage.devices.updateDisplayName(userId, deviceId, displayName);
    if (!found) throw new MatrixError('M_NOT_FOUND', 'No device found');
  }

  /**
   * DELETE /devices/{id} and POST /delete_devices, after re-authentication. The session is bound
   * to `operation` (method and path), so a session opened to delete device A cannot delete B
   *. Unknown ids are skipped: deleting a deleted device succeeds (spec).
   */
  async deleteWithAuth(
    requester: Requester,
    operation: string,
    body: Record<string, unknown>,
    remoteIp: string,
    deviceIds: readonly string[],
  ): Promise<void> {
    const success = await this.deps.reauth.authenticate({ requester, operation, body, remoteIp });
    const hashes = await this.deps.storage.transaction(async (tx) => {
      await this.deps.reauth.consume(tx, success);
      return deleteDevicesIn(tx, requester.userId, deviceIds);
    });
    this.deps.tokens.forget(hashes);
  }

  /**
   * Delete devices and every token of theirs in one transaction; the token hashes deleted are
   * collected there (DELETE … RETURNING) and dropped from the cache once it committed, so no
   * validation can re-cache a deleted token after the fact.
   */
  async deleteDevices(userId: string, deviceIds: readonly string[]): Promise<void> {
    const hashes = await this.deps.storage.transaction(async (tx) => deleteDevicesIn(tx, userId, deviceIds));
    this.deps.tokens.forget(hashes);
  }
}

/**
 * Delete `deviceIds` of `userId` with their tokens inside the caller's transaction; returns the
 * access-token hashes deleted, for the caller to forget after commit. Refresh tokens cascade.
 * Set-based: two statements per chunk of ids (`… WHERE device_id IN (…)`), not two per device,
 * so a long list costs a few round trips, not thousands.
 */
export async function deleteDevicesIn(tx: Storage, userId: string, deviceIds: readonly string[]): Promise<string[]> {
  const unique = [...new Set(deviceIds)];
  const hashes: string[] = [];
  for (let start = 0; start < unique.length; start += DEVICE_DELETE_CHUNK) {
    const chunk = unique.slice(start, start + DEVICE_DELETE_CHUNK);
    hashes.push(...(await tx.accessTokens.deleteByDevices(userId, chunk)));
    await tx.devices.deleteMany(userId, chunk);
  }
  return hashes;
}

/**
 * Delete every device of `userId` with all its tokens inside the caller's transaction (logout
 * from everywhere, deactivation); returns the access-token hashes deleted, for the caller to
 * forget after commit. Refresh tokens cascade with the devices.
 */
export async function deleteAllDevicesIn(tx: Storage, userId: string): Promise<string[]> {
  const hashes = await tx.accessTokens.deleteByUser(userId);
  await tx.devices.deleteAllByUser(userId);
  return hashes;
}

function toView(row: {
  user_id: string;
  device_id: string;
  display_name: string | null;
  last_seen_ip: string | null;
  last_seen_ts: number | null;
}): DeviceView {
  return {
    userId: row.user_id,
    deviceId: row.device_id,
    displayName: row.display_name,
    lastSeenIp: row.last_seen_ip,
    lastSeenTs: row.last_seen_ts === null ? null : Number(row.last_seen_ts),
  };
}
