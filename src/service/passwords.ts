import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { MatrixError } from '../errors.js';
import { noTelemetry, type Telemetry } from './telemetry.js';

/** Password hashing: the one module that touches password crypto. */
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

type Argon2 = typeof import('@node-rs/argon2');
let argon2Module: Argon2 | null = null;
/**
 * @node-rs/argon2 (a native addon) is loaded on the first hash or verification, not at start:
 * a server answers its first request sooner, and commands that never hash never load it.
 */
function argon2(): Argon2 {
  argon2Module ??= createRequire(import.meta.url)('@node-rs/argon2') as Argon2;
  return argon2Module;
}

/**
 * The one rule for what a password is: its Unicode NFKC form, for hashing and for verifying,
 * as Synapse does (synapse/handlers/auth.py `hash` and `validate_hash` normalise with
 * `unicodedata.normalize("NFKC", password)`). So `café` typed as NFC or as NFD is one password.
 */
export function normalisePassword(password: string): string {
  return password.normalize('NFKC');
}

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
  const verifyExact = async (passwordHash: string, password: string) => {
    try {
      return await argon2().verify(passwordHash, password);
    } catch {
      return false;
    }
  };
  const hasher: Hasher = {
    hash: async (password) => argon2().hash(normalisePassword(password), options),
    verify: async (passwordHash, password) => {
      const normalised = normalisePassword(password);
      if (await verifyExact(passwordHash, normalised)) return true;
      // Hashes made before passwords were normalised hold the password as it was typed.
      return normalised !== password && verifyExact(passwordHash, password);
    },
    needsRehash: (passwordHash) => {
      try {
        const p = argon2().parseOptions(passwordHash);
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
      dummyHash ??= argon2().hash('tessera-dummy-password', options);
      await hasher.verify(await dummyHash, password);
    },
  };
  return hasher;
}

/**
 * How long a client refused by a full hashing queue should wait: about the time the queue
 * takes to drain a little at the default parameters. The spec only asks for a hint.
 */
const QUEUE_FULL_RETRY_AFTER_MS = 1000;

/**
 * How many hashes run at once by default: one per CPU core, at most libuv's thread pool
 * (UV_THREADPOOL_SIZE, default 4), where @node-rs/argon2 runs them. More at once would not
 * finish sooner (argon2id is CPU-bound), but each holds its `memory_kib` (19 MiB by default)
 * and would take the pool threads that file system and DNS work need.
 */
export function defaultHashingConcurrency(): number {
  const pool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  return Math.max(1, Math.min(availableParallelism(), pool));
}

/**
 * `inner` with at most `maxQueue` hashes and verifications running or waiting at once (per
 * process), of which at most `concurrency` run while the rest wait in order. One more than
 * `maxQueue` is refused at once with 429 M_LIMIT_EXCEEDED and `retry_after_ms`, instead of
 * waiting in an unbounded line while memory and latency grow: login, registration,
 * re-authentication and password change alike.
 */
export function createBoundedHasher(
  inner: Hasher,
  maxQueue: number,
  telemetry: Pick<Telemetry, 'passwordHashing' | 'rateLimited'> = noTelemetry,
  concurrency: () => number = defaultHashingConcurrency,
): Hasher {
  let inFlight = 0;
  let running = 0;
  const waiting: (() => void)[] = [];
  const bounded = async <T>(work: () => Promise<T>): Promise<T> => {
    if (inFlight >= maxQueue) {
      telemetry.rateLimited('password_hashing.max_queue');
      throw new MatrixError('M_LIMIT_EXCEEDED', 'Too many password checks in progress; try again shortly', {
        retry_after_ms: QUEUE_FULL_RETRY_AFTER_MS,
      });
    }
    inFlight++;
    const started = performance.now();
    try {
      // Asked each time (one system call): the CPUs this process may use can change while it runs.
      // A finished hash hands its slot to the next in line, so a call arriving before that one
      // resumes cannot take the slot as well.
      if (running >= concurrency()) await new Promise<void>((resolve) => waiting.push(resolve));
      else running++;
      try {
        return await work();
      } finally {
        const next = waiting.shift();
        if (next === undefined) running--;
        else next();
      }
    } finally {
      inFlight--;
      telemetry.passwordHashing((performance.now() - started) / 1000, inFlight);
    }
  };
  return {
    hash: (password) => bounded(() => inner.hash(password)),
    verify: (passwordHash, password) => bounded(() => inner.verify(passwordHash, password)),
    needsRehash: (passwordHash) => inner.needsRehash(passwordHash),
    verifyDummy: (password) => bounded(() => inner.verifyDummy(password)),
  };
}
