import type { AdminUserView } from '../../service/admin-users.js';
import type { DeviceRow } from '../../storage/repos/devices.js';
import type { UserListRow } from '../../storage/repos/users.js';

/**
 * What `tessera users` prints: plain-text tables for a terminal. Display names and device
 * names are chosen by users, so control characters are shown escaped, never sent to the
 * operator's terminal as they are.
 */

const NAME_WIDTH = 40;

/** Control characters (C0, DEL, C1) as `\u001b`-style escapes, so nothing reaches the terminal raw. */
export function printable(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  return value.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** At most `width` characters (code points), `…` marking a cut. */
function cut(value: string, width: number): string {
  const chars = [...value];
  return chars.length <= width ? value : `${chars.slice(0, width - 1).join('')}…`;
}

/** A timestamp in ms as `2025-01-31 14:05:09 UTC`, or `-`. */
export function timestamp(ms: number | null): string {
  if (ms === null) return '-';
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

const flag = (value: number) => (value === 1 ? 'yes' : 'no');
const text = (value: string | null) => (value === null || value === '' ? '-' : cut(printable(value), NAME_WIDTH));

/** Rows under a header, each column as wide as its widest cell, two spaces apart. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max([...h].length, ...rows.map((r) => [...(r[i] ?? '')].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - [...c].length)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** The accounts of one page of `users list`. */
export function userTable(rows: readonly UserListRow[]): string[] {
  return table(
    ['USER ID', 'ADMIN', 'DEACTIVATED', 'LOCKED', 'GUEST', 'APPROVED', 'DISPLAY NAME', 'CREATED'],
    rows.map((u) => [
      printable(u.user_id),
      flag(u.is_admin),
      flag(u.deactivated),
      flag(u.locked),
      flag(u.is_guest),
      flag(u.approved),
      text(u.displayname),
      timestamp(Number(u.created_ts)),
    ]),
  );
}

/** `users show`: the account, one property a line, then its devices. */
export function userDetails(u: AdminUserView, devices: readonly DeviceRow[]): string[] {
  const properties: [string, string][] = [
    ['user id', printable(u.user_id)],
    ['display name', text(u.displayname)],
    ['avatar url', text(u.avatar_url)],
    ['user type', text(u.user_type)],
    ['admin', flag(u.is_admin)],
    ['deactivated', flag(u.deactivated)],
    ['erased', flag(u.erased)],
    ['locked', flag(u.locked)],
    ['shadow-banned', flag(u.shadow_banned)],
    ['guest', flag(u.is_guest)],
    ['approved', flag(u.approved)],
    ['created', timestamp(Number(u.created_ts))],
    ['last seen', timestamp(u.last_seen_ts)],
  ];
  const width = Math.max(...properties.map(([k]) => k.length));
  const out = properties.map(([k, v]) => `${`${k}:`.padEnd(width + 1)}  ${v}`);
  out.push('', `devices: ${devices.length}`);
  if (devices.length > 0) {
    const rows = devices.map((d) => [
      printable(d.device_id),
      text(d.display_name),
      d.last_seen_ip ?? '-',
      timestamp(d.last_seen_ts === null ? null : Number(d.last_seen_ts)),
    ]);
    out.push(...table(['DEVICE ID', 'DISPLAY NAME', 'LAST SEEN IP', 'LAST SEEN'], rows).map((l) => `  ${l}`));
  }
  return out;
}

/** A device in `users show --json`: the fields of Synapse's admin device list it shows. */
export function deviceJson(d: DeviceRow) {
  return {
    device_id: d.device_id,
    display_name: d.display_name,
    last_seen_ip: d.last_seen_ip,
    last_seen_ts: d.last_seen_ts === null ? null : Number(d.last_seen_ts),
  };
}
