/**
 * Row types of every table, for Kysely. Portable types only:
 * text, integer 0/1 booleans, bigint millisecond timestamps (pg's int8 is parsed to number).
 */
export interface UsersTable {
  /** Full user id, `@localpart:server`, as it was created. */
  user_id: string;
  localpart: string;
  /** lower(localpart): the unique index that makes ids case-insensitively unique (spec "User Identifiers"). */
  localpart_lower: string;
  /** The number when the localpart is all digits (generated ids, guests); finds the next free one. */
  numeric_id: number | null;
  /** argon2id PHC string; null for guests and accounts without a password. */
  password_hash: string | null;
  is_guest: number;
  is_admin: number;
  /** Set once, never cleared: a deactivated id is never reused and never logs in again. */
  deactivated: number;
  created_ts: number;
  /** Synapse's user type (`support`, `bot`), or null for an ordinary user (0007). */
  user_type: string | null;
  /** The display name given when an operator created the account (0007). */
  displayname: string | null;
  /** 1: the account's tokens are refused with M_USER_LOCKED (Synapse's admin API; 0009). */
  locked: number;
  /** 1: shadow-banned (Synapse's admin API; recorded and reported only; 0009). */
  shadow_banned: number;
  /** 1: deactivated with `erase` (Synapse's admin API; 0009). */
  erased: number;
  /** The avatar an operator set through the admin API (0009). */
  avatar_url: string | null;
  /** 0: awaits an admin's approval and cannot log in (MSC3866; 0011). */
  approved: number;
  /** The version of the terms of service accepted at registration (`m.login.terms`; 0011). */
  consent_version: string | null;
  /** When those terms were accepted (ms; 0011). */
  consent_ts: number | null;
}

export interface DevicesTable {
  user_id: string;
  device_id: string;
  display_name: string | null;
  /** When and from where the device last made an authenticated request (batched; service/device-activity.ts). */
  last_seen_ts: number | null;
  last_seen_ip: string | null;
  /** The User-Agent of that request, truncated to MAX_USER_AGENT_LENGTH (0008). */
  last_seen_user_agent: string | null;
  created_ts: number;
}

export interface AccessTokensTable {
  /** Random row id; lets logs and refresh chains name a token without holding the secret. */
  id: string;
  /** SHA-256 (hex) of the token; the token itself is never stored. */
  token_hash: string;
  user_id: string;
  device_id: string;
  created_ts: number;
  /** null: never expires (tokens issued without refresh tokens). */
  expires_ts: number | null;
  /** The refresh token issued with this access token, if any. */
  refresh_token_id: string | null;
}

export interface RefreshTokensTable {
  id: string;
  token_hash: string;
  user_id: string;
  device_id: string;
  created_ts: number;
  expires_ts: number | null;
  /** Set when this token was exchanged: a second use of it means theft, and kills the chain. */
  next_token_id: string | null;
  /** 1 once this token or an access token issued with it was used: its predecessor is dead (0002). */
  used: number;
}

export interface UiaSessionsTable {
  session_id: string;
  /** What the session authorises ("register", "POST /account/password"…); never reused across operations. */
  operation: string;
  /** For re-authentication operations: the owner of the access token that opened the session. */
  user_id: string | null;
  /** The request body of the first request (JSON), so later requests may omit it (spec: UIA). */
  request_body: string;
  /** Operation results remembered for idempotent retries, e.g. the registered user id (JSON). */
  result: string | null;
  created_ts: number;
  expires_ts: number;
}

export interface UiaStagesTable {
  session_id: string;
  /** A completed stage; one row per stage, so concurrent completions cannot lose each other. */
  stage: string;
  /** Data the stage produced (JSON), e.g. which user a password stage proved. */
  data: string | null;
  /** Order of completion. */
  completed_ts: number;
  seq: number;
}

/** Leaky-bucket rate limits shared by every process (0006; repos/rate-limits.ts). */
export interface RateLimitsTable {
  /** `<kind>:<ip or user id>`, e.g. `registration:203.0.113.7`. */
  key: string;
  /** How full the bucket was at `updated_ts`; drains at the configured per_second. */
  level: number;
  updated_ts: number;
}

/** Shared-secret registration nonces already used; the key decides a race (0007). */
export interface UsedNoncesTable {
  /** SHA-256 (hex) of the nonce. */
  nonce_hash: string;
  /** When the nonce would have expired anyway: the row can go then. */
  expires_ts: number;
}

/** Registration tokens, with Synapse's columns (0010; repos/registration-tokens.ts). */
export interface RegistrationTokensTable {
  /** 1–64 characters of [A-Za-z0-9._~-] (spec "Token-authenticated registration"). */
  token: string;
  /** null: any number of registrations. */
  uses_allowed: number | null;
  /** Registrations that passed the token stage and have not finished (one per hold row). */
  pending: number;
  /** Registrations that finished with this token. */
  completed: number;
  /** Milliseconds since the epoch after which the token is invalid; null: never. */
  expiry_time: number | null;
  created_ts: number;
}

/** Which UIA session holds one `pending` use of which token (0010). */
export interface RegistrationTokenHoldsTable {
  session_id: string;
  token: string;
  created_ts: number;
}

/** A validation of an email address a client asked for (0012; repos/threepids.ts). */
export interface ThreepidValidationSessionsTable {
  /** The session id handed to the client (`sid`). */
  sid: string;
  /** 'register' or 'password_reset': a session proves the address for that purpose only. */
  purpose: string;
  medium: string;
  /** Lower-cased for email. */
  address: string;
  client_secret: string;
  /** SHA-256 (hex) of the token in the last mail sent; the token itself is never stored. */
  token_hash: string;
  /** The highest `send_attempt` a mail was sent for. */
  send_attempt: number;
  /** Where the link's page redirects once validated. */
  next_link: string | null;
  created_ts: number;
  /** The emailed link works until then. */
  token_expires_ts: number;
  /** The session, validated or not, is gone then. */
  expires_ts: number;
  /** Set when the link was opened; null until then. */
  validated_ts: number | null;
}

/** Addresses bound to accounts (0012). */
export interface UserThreepidsTable {
  user_id: string;
  medium: string;
  address: string;
  validated_ts: number;
  added_ts: number;
}

export interface Database {
  users: UsersTable;
  devices: DevicesTable;
  access_tokens: AccessTokensTable;
  refresh_tokens: RefreshTokensTable;
  uia_sessions: UiaSessionsTable;
  uia_stages: UiaStagesTable;
  rate_limits: RateLimitsTable;
  used_nonces: UsedNoncesTable;
  registration_tokens: RegistrationTokensTable;
  registration_token_holds: RegistrationTokenHoldsTable;
  threepid_validation_sessions: ThreepidValidationSessionsTable;
  user_threepids: UserThreepidsTable;
}
