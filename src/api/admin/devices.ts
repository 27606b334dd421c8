import { Type } from 'typebox';
import { MAX_DELETE_DEVICES, MAX_DEVICE_ID_LENGTH } from '../../limits.js';
import type { DeviceRow } from '../../storage/repos/devices.js';
import { pathDeviceId } from '../../util/device-id.js';
import { adminPath, defineRoute, type Route } from '../route.js';

type UserParams = { userId: string };
type DeviceParams = { userId: string; deviceId: string };

/** A device as Synapse's admin API shows it: the client API's fields and the user agent. */
function deviceJson(d: DeviceRow) {
  return {
    device_id: d.device_id,
    user_id: d.user_id,
    display_name: d.display_name,
    last_seen_ip: d.last_seen_ip,
    last_seen_ts: d.last_seen_ts === null ? null : Number(d.last_seen_ts),
    last_seen_user_agent: d.last_seen_user_agent,
  };
}

const RenameBody = Type.Object({
  display_name: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});

/** DELETE may carry an (ignored) object body. */
const NoBody = Type.Object({});

/** As the client API's: at most MAX_DELETE_DEVICES ids, none longer than a device id can be. */
const DeleteDevicesBody = Type.Object({
  devices: Type.Array(Type.String({ maxLength: MAX_DEVICE_ID_LENGTH }), { maxItems: MAX_DELETE_DEVICES }),
});

const DEVICES = adminPath('/v2/users/:userId/devices');
const DEVICE = adminPath('/v2/users/:userId/devices/:deviceId');

/** Any user's devices, without re-authentication (Synapse's user_admin_api.md, "User devices"). */
export const adminDeviceRoutes: Route[] = [
  // GET /_synapse/admin/v2/users/<user_id>/devices
  defineRoute<'admin', undefined, undefined, UserParams>(
    { method: 'GET', paths: [DEVICES], auth: 'admin' },
    async ({ services, params }) => {
      const devices = (await services.adminDevices.list(params.userId)).map(deviceJson);
      return { devices, total: devices.length };
    },
  ),

  // GET /_synapse/admin/v2/users/<user_id>/devices/<device_id>
  defineRoute<'admin', undefined, undefined, DeviceParams>(
    { method: 'GET', paths: [DEVICE], auth: 'admin' },
    async ({ services, params }) =>
      deviceJson(await services.adminDevices.get(params.userId, pathDeviceId(params.deviceId))),
  ),

  // PUT /_synapse/admin/v2/users/<user_id>/devices/<device_id>  {"display_name"?}
  defineRoute<'admin', typeof RenameBody, undefined, DeviceParams>(
    { method: 'PUT', paths: [DEVICE], auth: 'admin', body: RenameBody, bodyRequired: false },
    async ({ services, params, body }) => {
      await services.adminDevices.rename(params.userId, pathDeviceId(params.deviceId), body.display_name ?? null);
      return {};
    },
  ),

  // DELETE /_synapse/admin/v2/users/<user_id>/devices/<device_id>
  // - The device's tokens die with it; an unknown device is not an error (Synapse).
  defineRoute<'admin', typeof NoBody, undefined, DeviceParams>(
    { method: 'DELETE', paths: [DEVICE], auth: 'admin', body: NoBody, bodyRequired: false },
    async ({ services, params }) => {
      await services.adminDevices.delete(params.userId, [pathDeviceId(params.deviceId)]);
      return {};
    },
  ),

  // POST /_synapse/admin/v2/users/<user_id>/delete_devices  {"devices": [...]}
  defineRoute<'admin', typeof DeleteDevicesBody, undefined, UserParams>(
    { method: 'POST', paths: [adminPath('/v2/users/:userId/delete_devices')], auth: 'admin', body: DeleteDevicesBody },
    async ({ services, params, body }) => {
      await services.adminDevices.delete(params.userId, body.devices);
      return {};
    },
  ),
];
