import { MatrixError } from '../errors.js';
import { codePointLength, MAX_DEVICE_DISPLAY_NAME_LENGTH, MAX_DEVICE_ID_LENGTH } from '../limits.js';

/**
 * The one rule for a device id a client chooses (POST /login and POST /register `device_id`).
 * The spec calls device ids opaque; Tessera accepts any string that the device endpoints can
 * address afterwards as `/devices/{percent-encoded id}`, and that reads the same everywhere:
 * - 1 to 512 characters (Synapse's login limit, src/limits.ts);
 * - not `.` or `..`: a client that builds the path with encodeURIComponent sends those as they
 *   are, and URL normalisation removes such dot segments (RFC 3986 §5.2.4), so the request
 *   would reach another path;
 * - no unpaired surrogate: it has no UTF-8 form, so it could be neither stored unchanged nor
 *   percent-encoded (encodeURIComponent throws);
 * - no control character (U+0000–U+001F, U+007F–U+009F): the WHATWG URL parser silently drops
 *   tab and newline from a path that was not encoded, and in a device list, where a user picks
 *   which device to delete, invisible characters make two ids look alike.
 * Stricter than Synapse, which checks only the length. Returns why `deviceId` breaks the rule,
 * or null when it is acceptable.
 */
export function deviceIdProblem(deviceId: string): string | null {
  if (deviceId.length === 0) return 'device_id must not be empty';
  if (codePointLength(deviceId, MAX_DEVICE_ID_LENGTH) > MAX_DEVICE_ID_LENGTH) {
    return `device_id cannot be longer than ${MAX_DEVICE_ID_LENGTH} characters`;
  }
  if (deviceId === '.' || deviceId === '..') return 'device_id cannot be "." or ".."';
  if (UNADDRESSABLE.test(deviceId)) return 'device_id may not contain control characters or lone surrogates';
  return null;
}

/** Unicode's control characters (Cc: U+0000–U+001F, U+007F–U+009F) and unpaired surrogates (Cs). */
const UNADDRESSABLE = /[\p{Cc}\p{Cs}]/u;

/** 400 M_INVALID_PARAM (Synapse's errcode for an over-long login `device_id`) unless `deviceId` is acceptable. */
export function assertDeviceId(deviceId: string): void {
  const problem = deviceIdProblem(deviceId);
  if (problem !== null) throw new MatrixError('M_INVALID_PARAM', problem);
}

/**
 * 400 M_TOO_LARGE when a device display name is over Synapse's limit. Synapse answers 400
 * here (handlers/device.py), not the 413 that M_TOO_LARGE usually has.
 */
export function assertDeviceDisplayName(displayName: string): void {
  if (codePointLength(displayName, MAX_DEVICE_DISPLAY_NAME_LENGTH) > MAX_DEVICE_DISPLAY_NAME_LENGTH) {
    throw new MatrixError(
      'M_TOO_LARGE',
      `Device display name is too long (max ${MAX_DEVICE_DISPLAY_NAME_LENGTH} characters)`,
      {},
      400,
    );
  }
}

/**
 * The `{deviceId}` of a path (client or admin API), refused when no device can have it (over the
 * device-id limit of src/limits.ts): 400 M_INVALID_PARAM, Synapse's errcode for an over-long
 * device id. Checked before anything else, so a DELETE opens no UIA session for it.
 */
export function pathDeviceId(deviceId: string): string {
  if (codePointLength(deviceId, MAX_DEVICE_ID_LENGTH) > MAX_DEVICE_ID_LENGTH) {
    throw new MatrixError('M_INVALID_PARAM', `device_id cannot be longer than ${MAX_DEVICE_ID_LENGTH} characters`);
  }
  return deviceId;
}
