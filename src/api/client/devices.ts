import { Type } from 'typebox';
import { MAX_DELETE_DEVICES, MAX_DEVICE_ID_LENGTH } from '../../limits.js';
import type { DeviceView } from '../../service/devices.js';
import { pathDeviceId } from '../../util/device-id.js';
import { clientPaths, defineRoute, type Route } from '../route.js';

/** The wire form of a device; like Synapse, unknown values are sent as null. */
function deviceJson(d: DeviceView) {
  return {
    device_id: d.deviceId,
    user_id: d.userId,
    display_name: d.displayName,
    last_seen_ip: d.lastSeenIp,
    last_seen_ts: d.lastSeenTs,
  };
}

type DeviceParams = { deviceId: string };

const RenameBody = Type.Object({
  display_name: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});

/** DELETE carries only `auth`; a non-object body is 400 M_BAD_JSON, none at all is `{}`. */
const DeleteBody = Type.Object({});

/**
 * At most MAX_DELETE_DEVICES ids, each no longer than a device id can be (src/limits.ts);
 * more is 400 M_BAD_JSON from the schema, before UIA and before any database work.
 */
const DeleteDevicesBody = Type.Object({
  devices: Type.Array(Type.String({ maxLength: MAX_DEVICE_ID_LENGTH }), { maxItems: MAX_DELETE_DEVICES }),
});

/** Device management (spec: client-server API, "Device Management"; device_management.yaml). */
export const deviceRoutes: Route[] = [
  // GET /_matrix/client/v3/devices
  // - Guests may list their devices (Synapse allows it).
  defineRoute({ method: 'GET', paths: clientPaths('/devices', 'v3', 'r0'), auth: 'required' }, async (ctx) => ({
    devices: (await ctx.services.devices.list(ctx.requester.userId)).map(deviceJson),
  })),

  // GET /_matrix/client/v3/devices/{deviceId}
  // - Another user's device answers 404 like an unknown one: ids of others are not revealed.
  defineRoute<'required', undefined, undefined, DeviceParams>(
    { method: 'GET', paths: clientPaths('/devices/:deviceId', 'v3', 'r0'), auth: 'required' },
    async ({ services, requester, params }) =>
      deviceJson(await services.devices.get(requester.userId, pathDeviceId(params.deviceId))),
  ),

  // PUT /_matrix/client/v3/devices/{deviceId}
  // - Only renames: an unknown device is 404, clients cannot create devices here.
  defineRoute<'required', typeof RenameBody, undefined, DeviceParams>(
    { method: 'PUT', paths: clientPaths('/devices/:deviceId', 'v3', 'r0'), auth: 'required', body: RenameBody },
    async ({ services, requester, params, body }) => {
      await services.devices.rename(requester.userId, pathDeviceId(params.deviceId), body.display_name ?? null);
      return {};
    },
  ),

  // DELETE /_matrix/client/v3/devices/{deviceId}
  // - UIA m.login.password; no body at all is allowed and gets the 401 challenge (D3.4).
  // - The session is bound to this device id: it cannot delete another device (D3.6).
  defineRoute<'required', typeof DeleteBody, undefined, DeviceParams>(
    {
      method: 'DELETE',
      paths: clientPaths('/devices/:deviceId', 'v3', 'r0'),
      auth: 'required',
      body: DeleteBody,
      bodyRequired: false,
    },
    async ({ services, requester, params, body, remoteIp }) => {
      const deviceId = pathDeviceId(params.deviceId);
      await services.devices.deleteWithAuth(
        requester,
        `DELETE /devices/${deviceId}`,
        body as Record<string, unknown>,
        remoteIp,
        [deviceId],
      );
      return {};
    },
  ),

  // POST /_matrix/client/v3/delete_devices
  // - `devices` is validated before UIA (Synapse), so a missing list is 400 M_MISSING_PARAM
  //   and a list over the limit 400 M_BAD_JSON.
  // - Unknown ids are not an error (spec).
  defineRoute(
    {
      method: 'POST',
      paths: clientPaths('/delete_devices', 'v3', 'r0'),
      auth: 'required',
      body: DeleteDevicesBody,
      bodyRequired: false,
    },
    async ({ services, requester, body, remoteIp }) => {
      await services.devices.deleteWithAuth(requester, 'POST /delete_devices', body, remoteIp, body.devices);
      return {};
    },
  ),
];
