/** A clock the test moves by hand (the Clock interface of src/util/clock.ts, plus `advance`). */
export function manualClock(start = 1_700_000_000_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}
