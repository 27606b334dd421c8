import type { Command } from 'commander';
import { ConfigError } from '../../config/errors.js';
import { MatrixError } from '../../errors.js';
import type {
  RegistrationTokenChanges,
  RegistrationTokenService,
  RegistrationTokenView,
} from '../../service/registration-tokens.js';
import { EXIT_CONFIG, fail } from '../common.js';
import { UsageError, usageErrorsExit2, withServices } from '../offline.js';

/**
 * `tessera tokens create|list|show|update|delete -c CONFIG`: registration tokens, acting on the
 * config's database directly (no running server needed), with the checks and messages of
 * Synapse's admin API (service/registration-tokens.ts).
 */

interface Common {
  config: string;
  json?: boolean;
}

/** The token service over the config's database (no listener, no timer), closed by `fn`'s end. */
function withTokens<T>(configPath: string, fn: (tokens: RegistrationTokenService) => Promise<T>): Promise<T> {
  return withServices(configPath, (services) => fn(services.registrationTokens));
}

/** A non-negative integer flag, or null for `nullWord` (e.g. `unlimited`) when one is given. */
function integerFlag(name: string, value: string, nullWord?: string): number | null {
  if (nullWord !== undefined && value === nullWord) return null;
  if (!/^[0-9]{1,15}$/.test(value)) {
    throw new UsageError(`${name} must be a non-negative integer${nullWord ? ` or ${nullWord}` : ''}, not ${value}`);
  }
  return Number(value);
}

/** `--expiry-time`: milliseconds since the epoch, an ISO 8601 date, or `never` (null) when allowed. */
function expiryFlag(value: string, allowNever: boolean): number | null {
  if (allowNever && value === 'never') return null;
  if (/^[0-9]{1,15}$/.test(value)) return Number(value);
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new UsageError(
      `--expiry-time must be milliseconds since 1970, an ISO 8601 date (2030-01-31T12:00:00Z)${allowNever ? ' or never' : ''}, not ${value}`,
    );
  }
  return ms;
}

function describeToken(t: RegistrationTokenView): string {
  const uses = t.uses_allowed === null ? 'unlimited' : String(t.uses_allowed);
  const expiry = t.expiry_time === null ? 'never' : new Date(t.expiry_time).toISOString();
  return `${t.token}  uses_allowed=${uses} pending=${t.pending} completed=${t.completed} expires=${expiry}`;
}

function print(json: boolean | undefined, value: unknown, human: string): void {
  process.stdout.write(`${json ? JSON.stringify(value) : human}\n`);
}

/** Run one subcommand: 0 done, 1 refused (the API's message), 2 a bad config or flag. */
function action<A extends unknown[]>(name: string, fn: (...args: A) => Promise<void>) {
  return async (...args: A) => {
    try {
      await fn(...args);
      process.exitCode = 0;
    } catch (err) {
      if (err instanceof ConfigError || err instanceof UsageError) {
        process.stderr.write(`tessera tokens ${name}: ${err.message}\n`);
        process.exitCode = EXIT_CONFIG;
      } else if (err instanceof MatrixError) {
        process.stderr.write(`tessera tokens ${name}: ${err.message}\n`);
        process.exitCode = 1;
      } else {
        fail(err); // a database that cannot be opened: one line, exit 1 (startup-errors.ts)
      }
    }
  };
}

export function registerTokens(program: Command): void {
  const tokens = usageErrorsExit2(program.command('tokens')).description(
    'create and manage registration tokens (registration_requires_token), in the database directly',
  );
  const configOption = ['-c, --config <file>', 'the config whose database holds the tokens'] as const;

  tokens
    .command('create')
    .description('create a registration token (a random one unless --token is given)')
    .requiredOption(...configOption)
    .option('--token <token>', 'the token: 1 to 64 characters of A-Z a-z 0-9 . _ ~ -')
    .option('--length <n>', 'length of the generated token (default 16, at most 64)')
    .option('--uses-allowed <n>', 'how many registrations may use it (default: unlimited)')
    .option('--expiry-time <when>', 'when it stops being valid: ms since 1970 or an ISO 8601 date (default: never)')
    .option('--json', "print Synapse's admin API JSON")
    .action(
      action(
        'create',
        async (o: Common & { token?: string; length?: string; usesAllowed?: string; expiryTime?: string }) => {
          const input = {
            ...(o.token !== undefined && { token: o.token }),
            ...(o.length !== undefined && { length: integerFlag('--length', o.length)! }),
            ...(o.usesAllowed !== undefined && { usesAllowed: integerFlag('--uses-allowed', o.usesAllowed) }),
            ...(o.expiryTime !== undefined && { expiryTime: expiryFlag(o.expiryTime, false) }),
          };
          const t = await withTokens(o.config, (s) => s.create(input));
          print(o.json, t, describeToken(t));
        },
      ),
    );

  tokens
    .command('list')
    .description('list registration tokens')
    .requiredOption(...configOption)
    .option('--valid', 'only tokens that can still be used')
    .option('--invalid', 'only tokens used up or expired')
    .option('--json', "print Synapse's admin API JSON")
    .action(
      action('list', async (o: Common & { valid?: boolean; invalid?: boolean }) => {
        if (o.valid && o.invalid) throw new UsageError('give at most one of --valid and --invalid');
        const valid = o.valid ? true : o.invalid ? false : null;
        const list = await withTokens(o.config, (s) => s.list(valid));
        print(
          o.json,
          { registration_tokens: list },
          list.length === 0 ? 'No registration tokens.' : list.map(describeToken).join('\n'),
        );
      }),
    );

  tokens
    .command('show')
    .description('show one registration token')
    .argument('<token>')
    .requiredOption(...configOption)
    .option('--json', "print Synapse's admin API JSON")
    .action(
      action('show', async (token: string, o: Common) => {
        const t = await withTokens(o.config, (s) => s.get(token));
        print(o.json, t, describeToken(t));
      }),
    );

  tokens
    .command('update')
    .description('change how many registrations a token allows, or when it expires')
    .argument('<token>')
    .requiredOption(...configOption)
    .option('--uses-allowed <n>', 'how many registrations may use it, or unlimited')
    .option('--expiry-time <when>', 'ms since 1970, an ISO 8601 date, or never')
    .option('--json', "print Synapse's admin API JSON")
    .action(
      action('update', async (token: string, o: Common & { usesAllowed?: string; expiryTime?: string }) => {
        const changes: RegistrationTokenChanges = {};
        if (o.usesAllowed !== undefined)
          changes.usesAllowed = integerFlag('--uses-allowed', o.usesAllowed, 'unlimited');
        if (o.expiryTime !== undefined) changes.expiryTime = expiryFlag(o.expiryTime, true);
        const t = await withTokens(o.config, (s) => s.update(token, changes));
        print(o.json, t, describeToken(t));
      }),
    );

  tokens
    .command('delete')
    .description('delete a registration token; registrations holding one of its uses cannot finish')
    .argument('<token>')
    .requiredOption(...configOption)
    .option('--json', 'print {} as the admin API does')
    .action(
      action('delete', async (token: string, o: Common) => {
        await withTokens(o.config, (s) => s.delete(token));
        print(o.json, {}, `deleted ${token}`);
      }),
    );
}
