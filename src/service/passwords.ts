import { hash, parseOptions, verify } from '@node-rs/argon2';

/** Password hashing: the one module that touches password crypto (style rule 8). */
export interface Hasher {
  hash(password: string): Promise<string>;
  /** False for a wrong password and for a hash it cannot read; never throws for those. */
  verify(passwordHash: string, password: string): Promise<boolean>;
  /** True when the stored hash was made with other parameters than today's (rehash on login). */
  needsRehash(passwordHash: string): boolean;
  /**
   * Spend the time of one verification without an account, so a login for an unknown user
   * answers as slowly as one with a wrong password (no user enumeration by timing).
   */
  verifyDummy(password: string): Promise<void>;
}

export interface Argon2Params {
  memoryKib: number;
  iterations: number;
  parallelism: number;
}

const ARGON2ID = 2;

/**
 * argon2id through @node-rs/argon2, which hashes on libuv's thread pool, off the event loop.
 * The OWASP minimum (19 MiB, t=2, p=1) is the default; tests lower it to run fast.
 */
export function createArgon2Hasher(params: Argon2Params): Hasher {
  const options = {
    algorithm: ARGON2ID,
    memoryCost: params.memoryKib,
    timeCost: params.iterations,
    parallelism: params.parallelism,
  };
  let dummyHash: Promise<string> | null = null;
  const hasher: Hasher = {
    hash: (password) => hash(password, options),
    verify: async (passwordHash, password) => {
      try {
        return await verify(passwordHash, password);
      } catch {
        return false;
      }
    },
    needsRehash: (passwordHash) => {
      try {
        const p = parseOptions(passwordHash);
        return (
          p.algorithm !== ARGON2ID ||
          p.memoryCost !== params.memoryKib ||
          p.timeCost !== params.iterations ||
          p.parallelism !== params.parallelism
        );
      } catch {
        return true;
      }
    },
    verifyDummy: async (password) => {
      dummyHash ??= hash('tessera-dummy-password', options);
      await hasher.verify(await dummyHash, password);
    },
  };
  return hasher;
}
