import type { Kysely } from 'kysely';

/**
 * Device activity (Synapse's client_ips.py records it; its admin whois API shows it):
 * `devices.last_seen_user_agent`, the User-Agent of the device's latest authenticated request,
 * next to the `last_seen_ip` and `last_seen_ts` the client-server API's `Device` already has.
 * Written in batches off the request path (service/device-activity.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('devices').addColumn('last_seen_user_agent', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('devices').dropColumn('last_seen_user_agent').execute();
}
