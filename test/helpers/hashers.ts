import type { Hasher } from '../../src/service/passwords.js';

/** A hasher whose every call waits until `release()`; counts the calls running at once. */
export function gatedHasher() {
  let running = 0;
  let maxRunning = 0;
  let calls = 0;
  const waiters: (() => void)[] = [];
  const gate = async () => {
    calls++;
    running++;
    maxRunning = Math.max(maxRunning, running);
    await new Promise<void>((r) => waiters.push(r));
    running--;
  };
  const hasher: Hasher = {
    hash: async (p) => {
      await gate();
      return `fake$${p}`;
    },
    verify: async (h, p) => {
      await gate();
      return h === `fake$${p}`;
    },
    needsRehash: () => false,
    verifyDummy: async () => {
      await gate();
    },
  };
  return {
    hasher,
    stats: () => ({ running, maxRunning, calls }),
    release: () => {
      for (const w of waiters.splice(0)) w();
    },
    waiting: () => waiters.length,
  };
}
