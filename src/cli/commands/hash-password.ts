import type { Command } from 'commander';
import { ConfigError } from '../../config/errors.js';
import type { Argon2Params } from '../../service/passwords.js';
import { NoTerminal, Prompter } from '../prompt.js';

interface HashPasswordOptions {
  password?: string;
  config?: string;
}

/**
 * `tessera hash-password`: Synapse's `hash_password` script. Prints the hash the server would
 * store for a password (argon2id with the config's `password_hashing` parameters, of the
 * password's NFKC form: service/passwords.ts), e.g. to set `users.password_hash` by hand.
 * The password comes from -p, else two prompts without echo on a terminal, else one line of
 * standard input. Only the hash goes to standard output; prompts go to standard error.
 */
export function registerHashPassword(program: Command): void {
  program
    .command('hash-password')
    .description('print the argon2id hash of a password, as the server stores it')
    .option('-p, --password <password>', 'the password (default: prompted for, or one line of standard input)')
    .option('-c, --config <file>', 'config file to read the password_hashing parameters from (default: the defaults)')
    .action(async (opts: HashPasswordOptions) => {
      process.exitCode = await hashPassword(opts);
    });
}

async function hashPassword(opts: HashPasswordOptions): Promise<number> {
  const [{ DEFAULT_PASSWORD_HASHING, loadConfigFile }, { createArgon2Hasher }] = await Promise.all([
    import('../../config/load.js'),
    import('../../service/passwords.js'),
  ]);
  let params: Argon2Params = DEFAULT_PASSWORD_HASHING;
  if (opts.config !== undefined) {
    try {
      params = loadConfigFile(opts.config).config.passwordHashing;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`tessera hash-password: ${err.message}\n`);
      return 2;
    }
  }
  let password = opts.password;
  if (password === undefined) {
    try {
      password = process.stdin.isTTY ? await promptTwice() : await readLine();
    } catch (err) {
      if (!(err instanceof PasswordInputError || err instanceof NoTerminal)) throw err;
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
  }
  if (password === '') {
    // The server refuses an empty password (README "Where Tessera deliberately differs").
    process.stderr.write('Password cannot be blank.\n');
    return 1;
  }
  process.stdout.write(`${await createArgon2Hasher(params).hash(password)}\n`);
  return 0;
}

class PasswordInputError extends Error {}

/** Synapse's prompt_for_pass: twice, without echo, and the two must match. */
async function promptTwice(): Promise<string> {
  const prompt = new Prompter(process.stderr);
  try {
    const password = await prompt.ask('Password: ', true, true);
    if ((await prompt.ask('Confirm password: ', true, true)) !== password) {
      throw new PasswordInputError('Passwords do not match');
    }
    return password;
  } finally {
    prompt.close();
  }
}

/**
 * The first line of standard input, without its line ending; nothing else is stripped, so a
 * password may begin or end with spaces (Synapse strips them).
 */
async function readLine(): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    length += chunk.length;
    if (chunk.includes(0x0a) || length > MAX_LINE_BYTES) break;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const end = text.indexOf('\n');
  const line = (end === -1 ? text : text.slice(0, end)).replace(/\r$/, '');
  if (Buffer.byteLength(line) > MAX_LINE_BYTES) throw new PasswordInputError('Password too long');
  return line;
}

/** Far above any password the server accepts (512 characters, src/limits.ts), in UTF-8 bytes. */
const MAX_LINE_BYTES = 64 * 1024;
