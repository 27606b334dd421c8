/**
 * Every length and count limit on what a client sends, in one table, with its source. Lengths
 * count characters (Unicode code points), as Python's `len()` does in Synapse, unless a line
 * says otherwise. Each limit is checked where the request enters (src/api/, or the service a
 * handler calls first), before any hashing or storage: an over-long value is a 400 with a
 * Matrix errcode, never a database error (PostgreSQL refuses btree keys over ~2,700 bytes).
 */

/**
 * A whole user id, `@localpart:server` (spec appendices, "User Identifiers": "The length of a
 * user ID, including the @ sigil and the domain, MUST NOT exceed 255 characters"). Also bounds
 * any `user` a login or re-authentication names: a longer one cannot be an account.
 */
export const MAX_USER_ID_LENGTH = 255;

/**
 * A device id (Synapse rest/client/login.py: "device_id cannot be longer than 512
 * characters", 400 M_INVALID_PARAM). The spec calls device ids opaque and sets no limit.
 * Tessera applies it to every device id a client may choose (login and v3 registration) and
 * to the ids `delete_devices` and the `/devices/{deviceId}` paths name.
 */
export const MAX_DEVICE_ID_LENGTH = 512;

/** A device display name (Synapse handlers/device.py MAX_DEVICE_DISPLAY_NAME_LEN; 400 M_TOO_LARGE). */
export const MAX_DEVICE_DISPLAY_NAME_LENGTH = 100;

/**
 * A new password (Synapse rest/client/register.py and account.py refuse longer ones with 400).
 * Checked with the password policy, src/service/password-policy.ts.
 */
export const MAX_PASSWORD_LENGTH = 512;

/**
 * How many ids one `POST /delete_devices` may name (Tessera; Synapse sets no limit). A user
 * with more devices than this deletes them in several requests; one request stays a bounded
 * amount of work (two set-based statements) instead of holding a database connection for as
 * long as a client likes. 1,000 ids of the longest allowed device id still fit in the default
 * `max_request_body_size` (1 MiB).
 */
export const MAX_DELETE_DEVICES = 1000;

/** A display name set through the admin API or shared-secret registration (Synapse's MAX_DISPLAYNAME_LEN; 400). */
export const MAX_DISPLAYNAME_LENGTH = 256;

/** An avatar URL set through the admin API (Synapse's MAX_AVATAR_URL_LEN; 400). */
export const MAX_AVATAR_URL_LENGTH = 1000;

/**
 * Most accounts on one page of `GET /_synapse/admin/v2/users` (Tessera; Synapse sets no
 * limit). A larger `limit` is served as this many, with `next_token` to the rest: a page is
 * always a bounded query.
 */
export const MAX_ADMIN_USER_PAGE = 1000;

/**
 * An access or refresh token (Tessera), in UTF-16 units. Tessera's tokens are 47 ASCII
 * characters (a 4-character prefix and 32 random bytes in base64url, src/service/tokens.ts);
 * a presented token longer than this cannot be one of ours and is unknown without hashing it.
 */
export const MAX_TOKEN_LENGTH = 255;

/**
 * The User-Agent kept as a device's `last_seen_user_agent` (Tessera; Synapse keeps it whole), in
 * UTF-16 units; Node reads header values as Latin-1, one unit per byte. Longer headers are
 * truncated, not refused: the value is only shown to administrators. Real clients send well
 * under 300 (browsers, Element, matrix-nio).
 */
export const MAX_USER_AGENT_LENGTH = 512;

/**
 * How many ids one set-based `DELETE … WHERE device_id IN (…)` binds (Tessera). SQLite allows
 * 32,766 bound parameters per statement and PostgreSQL 65,535; a smaller chunk keeps every
 * statement short whatever list a caller passes (password change deletes all other devices).
 */
export const DEVICE_DELETE_CHUNK = 500;

/** The length of `value` in code points, counted only up to `max + 1` (enough to compare). */
export function codePointLength(value: string, max: number): number {
  // A string of more than 2 × max UTF-16 units has more than max code points.
  if (value.length > 2 * max) return value.length;
  let n = 0;
  for (const _ of value) if (++n > max) break;
  return n;
}

/**
 * A registration token (spec "Token-authenticated registration": "an opaque string with
 * maximum length of 64 characters in the range [A-Za-z0-9._~-]"; Synapse's admin API refuses
 * longer ones and generates at most this many characters).
 */
export const MAX_REGISTRATION_TOKEN_LENGTH = 64;

/**
 * A `client_secret` of a third-party identifier validation (spec "Adding Account
 * Administrative Contact Information": 1 to 255 characters of `[0-9a-zA-Z.=_-]`).
 */
export const MAX_CLIENT_SECRET_LENGTH = 255;

/**
 * An email address (RFC 5321 §4.5.3.1.3: a path is at most 256 octets with its angle brackets,
 * so an address is at most 254). Synapse sets no limit of its own; a longer one cannot be
 * delivered, so it is refused (400 M_INVALID_PARAM) before it is counted, stored or mailed.
 */
export const MAX_EMAIL_LENGTH = 254;

/**
 * A validation session id (`sid`) a client presents (spec: "at most 255 characters", grammar
 * `[0-9a-zA-Z.=_-]`), and the validation token of an emailed link. Tessera's are 32 characters.
 */
export const MAX_SID_LENGTH = 255;

/** A `next_link` kept with a validation session (Tessera; Synapse sets none), in UTF-16 units. */
export const MAX_NEXT_LINK_LENGTH = 2048;

/**
 * The version of the terms (`user_consent.version`), stored with each account that accepted
 * them (`users.consent_version`) and used as a file name (`<lang>/<version>.html`).
 */
export const MAX_CONSENT_VERSION_LENGTH = 64;

/** A policy page of `user_consent.template_dir`, read into memory at start-up. */
export const MAX_POLICY_PAGE_BYTES = 1024 * 1024;
