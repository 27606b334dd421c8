import type { Stage } from '../types.js';

/** `m.login.dummy`: always passes; lets a flow end explicitly (spec: "Dummy Auth"). */
export const dummyStage: Stage = {
  type: 'm.login.dummy',
  check: async () => null,
};
