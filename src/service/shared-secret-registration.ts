import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config/config.js';
import { MatrixError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import type { Clock } from '../util/clock.js';
import type { Random } from '../util/random.js';
import { sameSecret, sha256Hex } from '../util/secrets.js';
import { checkAdminPassword, checkDisplayname, USER_TYPES } from './admin-users.js';
import type { Hasher } from './passwords.js';
import type { UserService } from './users.js';

/** Synapse's NONCE_TIMEOUT (synapse/rest/admin/users.py): a nonce is good for 60 seconds. */
export const NONCE_LIFETIME_MS = 60_000;
/** A nonce from a process whose clock runs a little ahead is still accepted. */
const CLOCK_SKEW_MS = 5_000;
/** Synapse refuses longer usernames here ("Invalid username"); passwords as the admin API does. */
const MAX_USERNAME_FIELD_LENGTH = 512;

const TS_BYTES = 6;
const RANDOM_BYTES = 16;
const TAG_BYTES = 16;
const NONCE_HEX_LENGTH = 2 * (TS_BYTES + RANDOM_BYTES + TAG_BYTES);

/** A shared-secret registration request, its JSON shape already checked at the edge. */
export interface SharedSecretRequest {
  nonce: string;
  username: string;
  password: string;
  mac: string;
  admin: boolean;
  userType: string | null;
  displayName: string | null;
}

export interface SharedSecretRegistered {
  userId: string;
  homeServer: string;
  accessToken: string;
  deviceId: string;
}

/**
 * Synapse's shared-secret registration (`/_synapse/admin/v1/register`; Synapse's
 * docs/admin_api/register_api.md), the way operators and `register_new_matrix_user` create
 * accounts while public registration is closed.
 *
 * Nonces are signed rather than stored (a deliberate difference from Synapse, which keeps them
 * in the memory of one process): a nonce is a timestamp and random bytes with an HMAC tag made
 * from the shared secret, so every process of a cluster accepts a nonce any other issued, and a
 * GET from anyone writes nothing. A nonce is spent only by a request whose MAC proves it knows
 * the secret: then its hash goes into `used_nonces`, whose key lets exactly one use win.
 */
export class SharedSecretRegistration {
  private readonly nonceKey: Buffer;

  constructor(
    private readonly deps: {
      config: Pick<Config, 'registrationSharedSecret' | 'serverName'>;
      storage: Storage;
      clock: Clock;
      random: Random;
      hasher: Hasher;
      users: UserService;
    },
  ) {
    const secret = deps.config.registrationSharedSecret;
    // Without a secret POST refuses everything; GET still answers, as Synapse's does.
    this.nonceKey =
      secret === null
        ? deps.random.bytes(32)
        : createHmac('sha256', secret).update('tessera shared-secret registration nonce').digest();
  }

  /** GET: a fresh nonce, good for one registration within 60 seconds. */
  newNonce(): string {
    const body = Buffer.alloc(TS_BYTES + RANDOM_BYTES);
    body.writeUIntBE(this.deps.clock.now(), 0, TS_BYTES);
    this.deps.random.bytes(RANDOM_BYTES).copy(body, TS_BYTES);
    return Buffer.concat([body, this.tag(body)]).toString('hex');
  }

  /** 400 "Shared secret registration is not enabled" (Synapse's answer) without a secret. */
  assertEnabled(): void {
    if (this.deps.config.registrationSharedSecret === null) {
      throw new MatrixError('M_UNKNOWN', 'Shared secret registration is not enabled');
    }
  }

  /**
   * POST: check the nonce and the MAC, then create the account and log it in. Every check that
   * costs nothing comes first; the password is hashed only once the MAC proved the caller
   * knows the secret. The password policy does not apply (as in Synapse: an operator chose it).
   */
  async register(req: SharedSecretRequest): Promise<SharedSecretRegistered> {
    this.assertEnabled();
    const expiresTs = this.nonceExpiry(req.nonce);
    if (req.username.length > MAX_USERNAME_FIELD_LENGTH) throw new MatrixError('M_INVALID_PARAM', 'Invalid username');
    // The same rules as the admin API's for what an operator sets (lengths in code points).
    checkAdminPassword(req.password, 'Invalid password');
    if (req.userType !== null && !USER_TYPES.has(req.userType)) {
      throw new MatrixError('M_INVALID_PARAM', 'Invalid user type');
    }
    if (req.displayName !== null) checkDisplayname(req.displayName);
    if (!this.macMatches(req)) throw new MatrixError('M_FORBIDDEN', 'HMAC incorrect');
    if (!(await this.deps.storage.usedNonces.consume(sha256Hex(req.nonce), expiresTs))) {
      throw new MatrixError('M_UNKNOWN', 'unrecognised nonce');
    }

    const { users, hasher, config } = this.deps;
    // Synapse registers `username.lower()`; the MAC covers the name as sent.
    const localpart = users.normaliseLocalpart(req.username);
    await users.assertAvailable(localpart);
    const registered = await users.register({
      localpart,
      password: { hash: await hasher.hash(req.password) },
      isGuest: false,
      isAdmin: req.admin,
      // An operator made it: approved, as Synapse's shared-secret registration (`approved=True`).
      approved: true,
      userType: req.userType,
      displayName: req.displayName,
      login: { deviceId: null, initialDisplayName: null, refreshToken: false },
    });
    return {
      userId: registered.userId,
      homeServer: config.serverName,
      accessToken: registered.accessToken!,
      deviceId: registered.deviceId!,
    };
  }

  private tag(body: Buffer): Buffer {
    return createHmac('sha256', this.nonceKey).update(body).digest().subarray(0, TAG_BYTES);
  }

  /** When a nonce we issued expires; 400 "unrecognised nonce" for anything else, as Synapse. */
  private nonceExpiry(nonce: string): number {
    const unrecognised = new MatrixError('M_UNKNOWN', 'unrecognised nonce');
    if (nonce.length !== NONCE_HEX_LENGTH || !/^[0-9a-f]+$/.test(nonce)) throw unrecognised;
    const raw = Buffer.from(nonce, 'hex');
    const body = raw.subarray(0, TS_BYTES + RANDOM_BYTES);
    if (!timingSafeEqual(raw.subarray(TS_BYTES + RANDOM_BYTES), this.tag(body))) throw unrecognised;
    const issued = body.readUIntBE(0, TS_BYTES);
    const now = this.deps.clock.now();
    if (issued > now + CLOCK_SKEW_MS || now - issued > NONCE_LIFETIME_MS) throw unrecognised;
    return issued + NONCE_LIFETIME_MS;
  }

  /** Compared in constant time (Synapse: hmac.compare_digest). */
  private macMatches(req: SharedSecretRequest): boolean {
    return sameSecret(req.mac, sharedSecretMac(this.deps.config.registrationSharedSecret!, req));
  }
}

/**
 * The MAC of Synapse's protocol: hex HMAC-SHA1 keyed by the shared secret over
 * `nonce NUL username NUL password NUL ("admin"|"notadmin") [NUL user_type]`.
 */
export function sharedSecretMac(
  secret: string,
  f: { nonce: string; username: string; password: string; admin: boolean; userType: string | null },
): string {
  const mac = createHmac('sha1', secret);
  mac.update(f.nonce).update('\0').update(f.username).update('\0').update(f.password).update('\0');
  mac.update(f.admin ? 'admin' : 'notadmin');
  // Synapse adds the user type only when it is non-empty (`if user_type:`).
  if (f.userType) mac.update('\0').update(f.userType);
  return mac.digest('hex');
}
