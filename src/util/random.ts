import { randomBytes, randomInt } from 'node:crypto';

/** Randomness, injected so that tests can fix it. All of it is cryptographically strong. */
export interface Random {
  /** `n` random bytes. */
  bytes(n: number): Buffer;
  /** A URL-safe string carrying `bytes` random bytes (base64url, no padding). */
  urlSafe(bytes: number): string;
  /** `length` characters from A–Z (device ids, as Synapse makes them). */
  upperLetters(length: number): string;
}

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

export const cryptoRandom: Random = {
  bytes: (n) => randomBytes(n),
  urlSafe: (n) => randomBytes(n).toString('base64url'),
  upperLetters: (length) => {
    let out = '';
    for (let i = 0; i < length; i++) out += UPPER[randomInt(UPPER.length)];
    return out;
  },
};
