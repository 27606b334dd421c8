import { createHash, hash as oneShotHash, timingSafeEqual } from 'node:crypto';

/** SHA-256 (hex) of a secret (a token): what the database stores and caches are keyed by. */
export function sha256Hex(value: string): string {
  // crypto.hash (Node ≥ 20.12) is the one-shot form: no Hash object per request.
  return oneShotHash('sha256', value, 'hex');
}

/**
 * Whether two secrets a client presents and the server keeps are equal, in time that depends on
 * neither: both are digested first, so even their lengths stay hidden (Synapse: hmac.compare_digest).
 */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}
