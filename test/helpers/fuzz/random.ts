/**
 * The fuzz test's seeded randomness: one seed reproduces a run's inputs. The default seed is
 * fixed so `npm test` is repeatable; TESSERA_FUZZ_SEED=<integer> replays another run and
 * TESSERA_FUZZ_SEED=random explores a new one (the seed is printed with every failure).
 */

const DEFAULT_SEED = 20261130;

export function fuzzSeed(): number {
  const env = process.env.TESSERA_FUZZ_SEED;
  if (env === undefined || env === '') return DEFAULT_SEED;
  if (env === 'random') return Math.floor(Math.random() * 2 ** 32);
  const n = Number(env);
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** 32)
    throw new Error(`TESSERA_FUZZ_SEED must be an integer or "random"`);
  return n;
}

/** mulberry32: small, fast and good enough to pick inputs. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)]!;
  }

  /** Pick by weight: `weighted([[3, a], [1, b]])` gives `a` three times as often as `b`. */
  weighted<T>(entries: readonly (readonly [number, T])[]): T {
    const total = entries.reduce((sum, [w]) => sum + w, 0);
    let r = this.next() * total;
    for (const [w, item] of entries) {
      r -= w;
      if (r < 0) return item;
    }
    return entries[entries.length - 1]![1];
  }

  /** A short lower-case id, for usernames and device ids that must not collide. */
  id(prefix: string): string {
    return `${prefix}${this.int(2 ** 32).toString(36)}${this.int(2 ** 32).toString(36)}`;
  }
}
