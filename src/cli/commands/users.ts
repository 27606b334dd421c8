import { type Command, InvalidArgumentError } from 'commander';
import type { OpenServices } from '../../app.js';
import type { Config } from '../../config/config.js';
import { MatrixError } from '../../errors.js';
import { MAX_ADMIN_USER_PAGE, MAX_PASSWORD_LENGTH } from '../../limits.js';
import { OPERATOR } from '../../service/admin-target.js';
import { listedJson, userJson } from '../../service/admin-user-json.js';
import { EXIT_CONFIG, fail } from '../common.js';
import { UsageError, usageErrorsExit2, withServices } from '../offline.js';
import { NoTerminal, Prompter, readStdinLine } from '../prompt.js';
import { deviceJson, userDetails, userTable } from './users-output.js';

/**
 * `tessera users …`: Synapse's admin API for accounts (docs/admin_api/user_admin_api.md) as
 * commands acting on the database of a config, for an operator with no running server or no
 * admin token. A second front end on the services the HTTP admin API uses: the same checks,
 * hashing and effects (tokens and devices deleted as there).
 */

interface ConfigOption {
  config: string;
}

interface Context {
  services: OpenServices['services'];
  config: Config;
  configPath: string;
  out(line: string): void;
}

const DEFAULT_LIMIT = 100;

export function registerUsers(program: Command): void {
  const users = usageErrorsExit2(program.command('users')).description(
    'list and manage accounts in the database of a config (no running server needed)',
  );

  const configOption = ['-c, --config <file>', 'the config whose database is used'] as const;
  const userArgument = ['<user>', 'a user id (@alice:example.org) or a localpart of this server (alice)'] as const;

  users
    .command('list')
    .description('list accounts, a page at a time (active, non-guest accounts unless asked)')
    .requiredOption(...configOption)
    .option('--deactivated', 'include deactivated accounts')
    .option('--guests', 'include guest accounts')
    .option('--unapproved', 'only accounts awaiting approval (MSC3866)')
    .option('--name <substring>', 'only accounts whose localpart or display name contains this (any case)')
    .option('--limit <n>', `accounts per page (at most ${MAX_ADMIN_USER_PAGE})`, count('--limit'), DEFAULT_LIMIT)
    .option('--from <n>', 'skip this many accounts (the next page starts here)', count('--from'), 0)
    .option('--json', "print the admin API's answer: {users, total, next_token}")
    .action((opts: ListOptions) => run(opts.config, (ctx) => list(ctx, opts)));

  users
    .command('show')
    .description('show an account as the admin API does, and its devices')
    .argument(...userArgument)
    .requiredOption(...configOption)
    .option('--json', "print {user, devices}: the admin API's account and the devices")
    .action((user: string, opts: ConfigOption & { json?: boolean }) =>
      run(opts.config, (ctx) => show(ctx, user, opts.json === true)),
    );

  users
    .command('deactivate')
    .description('deactivate an account for good: its devices and tokens are deleted, its id never reused')
    .argument(...userArgument)
    .requiredOption(...configOption)
    .option('-y, --yes', 'do not ask for confirmation (required without a terminal)')
    .action((user: string, opts: ConfigOption & { yes?: boolean }) =>
      run(opts.config, (ctx) => deactivate(ctx, user, opts.yes === true)),
    );

  users
    .command('reset-password')
    .description('set a new password (asked on a terminal, else read as one line from standard input)')
    .argument(...userArgument)
    .requiredOption(...configOption)
    .option('-p, --password <password>', 'the new password')
    .option('--keep-devices', 'do not log the account out everywhere')
    .action((user: string, opts: ConfigOption & { password?: string; keepDevices?: boolean }) =>
      run(opts.config, (ctx) => resetPassword(ctx, user, opts.password ?? null, opts.keepDevices !== true)),
    );

  users
    .command('approve')
    .description('approve an account awaiting approval, so it can log in (MSC3866)')
    .argument(...userArgument)
    .requiredOption(...configOption)
    .option('--revoke', 'make it wait for approval again (it cannot log in; its tokens stay valid)')
    .action((user: string, opts: ConfigOption & { revoke?: boolean }) =>
      run(opts.config, (ctx) => approve(ctx, user, opts.revoke !== true)),
    );

  users
    .command('make-admin')
    .description('make an account a server admin')
    .argument(...userArgument)
    .requiredOption(...configOption)
    .option('--revoke', 'make it an ordinary account again')
    .action((user: string, opts: ConfigOption & { revoke?: boolean }) =>
      run(opts.config, (ctx) => makeAdmin(ctx, user, opts.revoke !== true)),
    );
}

/** A commander parser for a whole number ≥ 0. */
function count(name: string): (value: string) => number {
  return (value) => {
    if (!/^[0-9]{1,15}$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number ≥ 0.`);
    return Number(value);
  };
}

/**
 * Load the config, open its database (bringing the schema up to date, as `start` does) and the
 * services on it, run `work`, close the database and exit with its status. No listener and no
 * housekeeping timer: nothing keeps the process alive once the work is done.
 */
async function run(configPath: string, work: (ctx: Context) => Promise<number>): Promise<never> {
  let code: number;
  try {
    const out = (line: string) => process.stdout.write(`${line}\n`);
    code = await withServices(configPath, async (services, config) => {
      try {
        return await work({ services, config, configPath, out });
      } catch (err) {
        return report(err);
      }
    });
  } catch (err) {
    fail(err);
  }
  process.exit(code);
}

/** One line on standard error for what went wrong, and the exit status; anything else is a bug. */
function report(err: unknown): number {
  const say = (message: string) => process.stderr.write(`tessera: ${message}\n`);
  if (err instanceof UsageError || err instanceof NoTerminal) {
    say(err.message);
    return EXIT_CONFIG;
  }
  if (err instanceof MatrixError) {
    say(err.message);
    return err.errcode === 'M_INVALID_PARAM' || err.errcode === 'M_MISSING_PARAM' ? EXIT_CONFIG : 1;
  }
  throw err;
}

/** No account of that id in this database (exit 1). */
class NoSuchUser extends MatrixError {
  constructor(userId: string, why = '') {
    super('M_NOT_FOUND', `no such user ${userId}${why}`);
  }
}

/** The user id USER names: itself when it is a full id, else the localpart on this server. */
function userIdOf(value: string, config: Config): string {
  if (value.startsWith('@')) {
    const colon = value.indexOf(':');
    if (colon < 2 || colon === value.length - 1) {
      throw new UsageError(`${JSON.stringify(value)} is not a user id: expected @localpart:${config.serverName}`);
    }
    const domain = value.slice(colon + 1);
    if (domain !== config.serverName) throw new NoSuchUser(value, ` (this server is ${config.serverName})`);
    return value;
  }
  if (value === '' || value.includes(':')) {
    throw new UsageError(`${JSON.stringify(value)} is neither a user id (@alice:example.org) nor a localpart (alice)`);
  }
  return `@${value}:${config.serverName}`;
}

/** The account of `value`, as GET /v2/users/<user_id> finds it; NoSuchUser when there is none. */
async function existing(ctx: Context, value: string) {
  const userId = userIdOf(value, ctx.config);
  try {
    return await ctx.services.adminUsers.get(userId);
  } catch (err) {
    if (err instanceof MatrixError && err.errcode === 'M_NOT_FOUND') throw new NoSuchUser(userId);
    throw err;
  }
}

interface ListOptions extends ConfigOption {
  deactivated?: boolean;
  guests?: boolean;
  unapproved?: boolean;
  name?: string;
  limit: number;
  from: number;
  json?: boolean;
}

/** GET /v2/users, with locked accounts always listed (the table shows which are). */
async function list(ctx: Context, opts: ListOptions): Promise<number> {
  const limit = Math.min(opts.limit, MAX_ADMIN_USER_PAGE);
  const { rows, total } = await ctx.services.adminUsers.list({
    userIdContains: null,
    nameContains: opts.name ?? null,
    includeGuests: opts.guests === true,
    deactivated: opts.deactivated === true ? null : false,
    includeLocked: true,
    admins: null,
    onlyUnapproved: opts.unapproved === true,
    notUserTypes: [],
    orderBy: 'name',
    backwards: false,
    offset: opts.from,
    limit,
  });
  const next = opts.from + limit < total ? opts.from + rows.length : null;
  if (opts.json === true) {
    ctx.out(JSON.stringify({ users: rows.map(listedJson), total, ...(next !== null && { next_token: String(next) }) }));
    return 0;
  }
  if (rows.length > 0) for (const line of userTable(rows)) ctx.out(line);
  if (total === 0) ctx.out('no accounts');
  else if (rows.length === 0) ctx.out(`no accounts from ${opts.from + 1} on (${total} in all)`);
  else ctx.out(`accounts ${opts.from + 1}–${opts.from + rows.length} of ${total}`);
  if (next !== null) ctx.out(`next page: tessera users list ${nextPageArguments(ctx, opts, next)}`);
  return 0;
}

/** The arguments of this `users list` with `--from` moved to the next page. */
function nextPageArguments(ctx: Context, opts: ListOptions, from: number): string {
  const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return [
    '-c',
    quote(ctx.configPath),
    ...(opts.deactivated === true ? ['--deactivated'] : []),
    ...(opts.guests === true ? ['--guests'] : []),
    ...(opts.unapproved === true ? ['--unapproved'] : []),
    ...(opts.name !== undefined ? ['--name', quote(opts.name)] : []),
    ...(opts.limit !== DEFAULT_LIMIT ? ['--limit', String(opts.limit)] : []),
    '--from',
    String(from),
  ].join(' ');
}

async function show(ctx: Context, value: string, json: boolean): Promise<number> {
  const user = await existing(ctx, value);
  const devices = await ctx.services.adminDevices.list(user.user_id);
  if (json) ctx.out(JSON.stringify({ user: userJson(user), devices: devices.map(deviceJson) }));
  else for (const line of userDetails(user, devices)) ctx.out(line);
  return 0;
}

/** POST /v1/deactivate/<user_id> (no erase), once the operator confirmed it. */
async function deactivate(ctx: Context, value: string, yes: boolean): Promise<number> {
  const user = await existing(ctx, value);
  if (user.deactivated === 1) {
    ctx.out(`${user.user_id} is deactivated already`);
    return 0;
  }
  if (!yes) {
    if (!process.stdin.isTTY) {
      throw new UsageError(`deactivating ${user.user_id} needs --yes (no terminal to ask for confirmation on)`);
    }
    const prompt = new Prompter();
    try {
      const answer = await prompt.ask(
        `Deactivate ${user.user_id}? Its devices and tokens are deleted, and it never logs in again [y/N]: `,
      );
      if (!['y', 'yes'].includes(answer.toLowerCase())) {
        ctx.out('nothing changed');
        return 1;
      }
    } finally {
      prompt.close();
    }
  }
  await ctx.services.adminAccounts.deactivate(user.user_id, false);
  ctx.out(`deactivated ${user.user_id}: its devices and access tokens are deleted`);
  return 0;
}

/** POST /v1/reset_password/<user_id>: the admin API's checks and hashing, never echoed or printed. */
async function resetPassword(
  ctx: Context,
  value: string,
  given: string | null,
  logoutDevices: boolean,
): Promise<number> {
  const user = await existing(ctx, value);
  const password = given ?? (await askPassword());
  if (password === null) return 1;
  await ctx.services.adminAccounts.resetPassword(OPERATOR, user.user_id, password, logoutDevices).catch((err) => {
    if (err instanceof MatrixError && err.errcode === 'M_INVALID_PARAM') {
      throw new UsageError(`${err.message}: a password is 1 to ${MAX_PASSWORD_LENGTH} characters`);
    }
    throw err;
  });
  ctx.out(
    `password of ${user.user_id} changed; ${logoutDevices ? 'every device is logged out' : 'its devices stay logged in'}`,
  );
  return 0;
}

/** Twice without echo on a terminal, else one line of standard input; null when the two differ. */
async function askPassword(): Promise<string | null> {
  if (!process.stdin.isTTY) {
    const line = await readStdinLine();
    if (line === null || line === '') {
      throw new UsageError('no password: give -p, run on a terminal, or write it as one line to standard input');
    }
    return line;
  }
  const prompt = new Prompter();
  try {
    const password = await prompt.ask('New password: ', true);
    if ((await prompt.ask('Confirm password: ', true)) !== password) {
      process.stderr.write('tessera: passwords do not match; nothing changed\n');
      return null;
    }
    return password;
  } finally {
    prompt.close();
  }
}

/** PUT /v1/users/<user_id>/admin. */
async function makeAdmin(ctx: Context, value: string, admin: boolean): Promise<number> {
  const user = await existing(ctx, value);
  await ctx.services.adminUsers.setAdmin(OPERATOR, user.user_id, admin);
  ctx.out(`${user.user_id} is ${admin ? 'now a server admin' : 'no longer a server admin'}`);
  return 0;
}

/** PUT /v2/users/<user_id> with `approved` (MSC3866). */
async function approve(ctx: Context, value: string, approved: boolean): Promise<number> {
  const user = await existing(ctx, value);
  await ctx.services.adminUsers.setApproved(user.user_id, approved);
  ctx.out(`${user.user_id} is ${approved ? 'approved: it can log in' : 'awaiting approval: it cannot log in'}`);
  return 0;
}
