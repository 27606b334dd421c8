import type { Config } from '../config/config.js';
import { MatrixError } from '../errors.js';
import type { DeviceRow } from '../storage/repos/devices.js';
import type { Storage } from '../storage/storage.js';
import { existingLocalUser } from './admin-target.js';
import type { DeviceService } from './devices.js';

const NOT_LOCAL = 'Can only lookup local users';
const UNKNOWN_USER = 'Unknown user';

/**
 * Any user's devices, for server admins (Synapse's docs/admin_api/user_admin_api.md, "User
 * devices"): no re-authentication. Deleting goes through DeviceService, so the devices' tokens
 * are deleted in the same transaction and dropped from the token cache.
 */
export class AdminDeviceService {
  constructor(
    private readonly deps: { storage: Storage; config: Pick<Config, 'serverName'>; devices: DeviceService },
  ) {}

  private async user(userId: string): Promise<void> {
    await existingLocalUser(this.deps.storage, this.deps.config.serverName, userId, {
      notLocal: NOT_LOCAL,
      notFound: UNKNOWN_USER,
    });
  }

  async list(userId: string): Promise<DeviceRow[]> {
    await this.user(userId);
    return this.deps.storage.devices.listByUser(userId);
  }

  async get(userId: string, deviceId: string): Promise<DeviceRow> {
    await this.user(userId);
    const row = await this.deps.storage.devices.find(userId, deviceId);
    if (row === null) throw new MatrixError('M_NOT_FOUND', 'No device found');
    return row;
  }

  /** Rename; `displayName` null leaves the name as it is, but the device must exist (404). */
  async rename(userId: string, deviceId: string, displayName: string | null): Promise<void> {
    await this.user(userId);
    await this.deps.devices.rename(userId, deviceId, displayName);
  }

  /** Delete devices and their tokens; unknown ids are skipped, as in Synapse. */
  async delete(userId: string, deviceIds: readonly string[]): Promise<void> {
    await this.user(userId);
    await this.deps.devices.deleteDevices(userId, deviceIds);
  }
}
