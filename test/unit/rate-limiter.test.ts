import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { RateLimiter } from '../../src/service/rate-limiter.js';
import type { Storage } from '../../src/storage/storage.js';

it('longestDrainMs covers every bucket kind the limiter has, so housekeeping never empties a full one', () => {
  const { config } = parseConfig(
    'server_name: a\nrc_3pid_validation: {per_second: 0.0001, burst_count: 5}\nrc_login: {address: {per_second: 0.001, burst_count: 5}}\n',
    '/',
  );
  const limiter = new RateLimiter({ storage: {} as Storage, clock: { now: () => 0 }, config });
  // rc_3pid_validation (5 / 0.0001 per s = 50,000 s) is the slowest here.
  assert.equal(limiter.longestDrainMs(), 50_000_000);
});
