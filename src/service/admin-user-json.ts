import type { UserListRow } from '../storage/repos/users.js';
import type { AdminUserView } from './admin-users.js';

/*
 * Accounts as Synapse's admin API shows them (docs/admin_api/user_admin_api.md), for both of
 * its front ends: the HTTP admin API and the `tessera users` commands.
 */

/**
 * `GET /v2/users/<user_id>` and the answer of PUT, with Synapse's fields. `creation_ts` is in
 * seconds here and in milliseconds in the list, as Synapse answers (its docs' examples too).
 * `threepids` are the email addresses bound to the account (spec "3PID"); Tessera keeps no
 * external ids, server notices or appservice data: those are empty or null; `consent_version`
 * and `consent_ts` are the terms accepted at registration.
 * `approved` (MSC3866) is shown always; Synapse shows it only with `experimental_features.msc3866`.
 */
export function userJson(u: AdminUserView) {
  return {
    name: u.user_id,
    displayname: u.displayname,
    avatar_url: u.avatar_url,
    threepids: u.threepids.map((t) => ({
      medium: t.medium,
      address: t.address,
      added_at: Number(t.added_ts),
      validated_at: Number(t.validated_ts),
    })),
    external_ids: [],
    is_guest: u.is_guest === 1,
    admin: u.is_admin === 1,
    deactivated: u.deactivated === 1,
    erased: u.erased === 1,
    shadow_banned: u.shadow_banned === 1,
    locked: u.locked === 1,
    suspended: false,
    approved: u.approved === 1,
    creation_ts: Math.floor(Number(u.created_ts) / 1000),
    appservice_id: null,
    consent_server_notice_sent: null,
    consent_version: u.consent_version,
    consent_ts: u.consent_ts === null ? null : Number(u.consent_ts),
    user_type: u.user_type,
    last_seen_ts: u.last_seen_ts,
  };
}

/** One account of `GET /v2/users` (Synapse's fields; `creation_ts` in milliseconds). */
export function listedJson(u: UserListRow) {
  return {
    name: u.user_id,
    user_type: u.user_type,
    is_guest: u.is_guest === 1,
    admin: u.is_admin === 1,
    deactivated: u.deactivated === 1,
    shadow_banned: u.shadow_banned === 1,
    displayname: u.displayname,
    avatar_url: u.avatar_url,
    creation_ts: Number(u.created_ts),
    erased: u.erased === 1,
    last_seen_ts: u.last_seen_ts,
    locked: u.locked === 1,
    approved: u.approved === 1,
  };
}
