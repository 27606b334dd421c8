import type { Command } from 'commander';
import { ConfigError } from '../../config/errors.js';
import { asciiLowerCase } from '../../util/matrix-id.js';
import { fail } from '../common.js';
import { usageErrorsExit2, withServices } from '../offline.js';

interface ClearOptions {
  config: string;
  address?: string;
  user?: string;
}

/**
 * `tessera ratelimit clear -c CONFIG [--address IP | --user USER]`: empty rate-limit buckets in
 * the config's database (they live there, shared by every process, and survive restarts), e.g.
 * after locking yourself out of a development server. Every process sees it at once.
 */
export function registerRatelimit(program: Command): void {
  const ratelimit = usageErrorsExit2(program.command('ratelimit')).description(
    'rate-limit buckets (README "Security")',
  );
  ratelimit
    .command('clear')
    .description('empty rate-limit buckets: of one client address, of one user, or all')
    .requiredOption('-c, --config <file>', 'config file naming the database')
    .option('--address <ip>', "only this client address's buckets (registration, login, token checks)")
    .option('--user <user>', "only this account's login buckets (a user id, or a localpart of this server)")
    .action((opts: ClearOptions) => clear(opts).catch(fail));
}

async function clear(opts: ClearOptions): Promise<void> {
  if (opts.address !== undefined && opts.user !== undefined) {
    throw new ConfigError('give --address or --user, not both');
  }
  await withServices(opts.config, async (services, config) => {
    let key: string | null = opts.address ?? null;
    if (opts.user !== undefined) {
      // Login buckets are keyed by the lower-cased full user id (service/login.ts).
      key = asciiLowerCase(opts.user.startsWith('@') ? opts.user : `@${opts.user}:${config.serverName}`);
    }
    const n = await services.rateLimiter.clear(key);
    process.stdout.write(`cleared ${n} rate-limit bucket${n === 1 ? '' : 's'}${key === null ? '' : ` of ${key}`}\n`);
  });
}
