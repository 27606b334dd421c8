import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { type ConfigError, loadConfigFile } from '../../config/load.js';
import { NoTerminal, Prompter } from '../prompt.js';
import { sharedSecretRequest } from '../shared-secret-client.js';

interface RegisterUserOptions {
  user?: string;
  password?: string;
  passwordFile?: string;
  user_type?: string;
  admin?: boolean;
  config?: string;
  sharedSecret?: string;
  existsOk?: boolean;
}

/** Synapse's register_new_matrix_user falls back to this when nothing else names a server. */
const DEFAULT_SERVER_URL = 'http://localhost:8008';

/**
 * `tessera register-user`: Synapse's `register_new_matrix_user`, with the same flags, prompts,
 * output and exit statuses, speaking the shared-secret protocol to a running server
 * (`/_synapse/admin/v1/register`). It works while public registration is closed, on any
 * process of a cluster.
 */
export function registerRegisterUser(program: Command): void {
  program
    .command('register-user')
    .description('create an account on a running server with the registration shared secret')
    .argument('[server_url]', `URL of the server (default: the config's first listener, else ${DEFAULT_SERVER_URL})`)
    .option('-u, --user <localpart>', 'local part of the new user (prompted for when omitted)')
    .option('-p, --password <password>', 'password of the new user (prompted for when omitted)')
    .option('--password-file <file>', 'file holding the password')
    .option('-t, --user_type <type>', 'user type: support or bot')
    .option('-a, --admin', 'make the new user a server admin (prompted for when neither flag is given)')
    .option('--no-admin', 'make the new user an ordinary user')
    .option('-c, --config <file>', 'config file to read registration_shared_secret and the listener from')
    .option('-k, --shared-secret <secret>', 'the registration shared secret')
    .option('--exists-ok', 'do not fail if the user exists already')
    .action(async (serverUrl: string | undefined, opts: RegisterUserOptions) => {
      process.exitCode = await registerUser(serverUrl, opts);
    });
}

async function registerUser(serverUrl: string | undefined, opts: RegisterUserOptions): Promise<number> {
  if ((opts.config === undefined) === (opts.sharedSecret === undefined)) {
    process.stderr.write('tessera register-user: give exactly one of -c/--config and -k/--shared-secret\n');
    return 2;
  }
  if (opts.password !== undefined && opts.passwordFile !== undefined) {
    process.stderr.write('tessera register-user: give only one of -p/--password and --password-file\n');
    return 2;
  }
  let secret = opts.sharedSecret ?? null;
  let url = serverUrl ?? null;
  if (opts.config !== undefined) {
    let config: ReturnType<typeof loadConfigFile>['config'];
    try {
      ({ config } = loadConfigFile(opts.config));
    } catch (err) {
      process.stderr.write(`tessera register-user: ${(err as ConfigError).message}\n`);
      return 2;
    }
    secret ??= config.registrationSharedSecret;
    if (secret === null) {
      process.stderr.write("No 'registration_shared_secret' or 'registration_shared_secret_path' defined in config.\n");
      return 1;
    }
    url ??= listenerUrl(config.listeners[0]);
  }
  url ??= DEFAULT_SERVER_URL;

  let password = opts.password ?? null;
  if (opts.passwordFile !== undefined) {
    try {
      password = readFileSync(opts.passwordFile, 'utf8').trim();
    } catch (err) {
      process.stderr.write(`Error accessing file ${opts.passwordFile}: ${(err as Error).message}\n`);
      return 1;
    }
  }

  const prompt = new Prompter();
  try {
    const user = opts.user || (await prompt.ask('New user localpart: '));
    if (!user) {
      process.stdout.write('Invalid user name\n');
      return 1;
    }
    if (!password) {
      password = await prompt.ask('Password: ', true);
      if (!password) {
        process.stdout.write('Password cannot be blank.\n');
        return 1;
      }
      if ((await prompt.ask('Confirm password: ', true)) !== password) {
        process.stdout.write('Passwords do not match\n');
        return 1;
      }
    }
    const admin = opts.admin ?? ['y', 'yes', 'true'].includes(await prompt.ask('Make admin [no]: '));
    return await sharedSecretRequest({
      url,
      secret: secret!,
      user,
      password,
      admin,
      userType: opts.user_type ?? null,
      existsOk: opts.existsOk === true,
      print: (line) => process.stdout.write(`${line}\n`),
    });
  } catch (err) {
    if (err instanceof NoTerminal) {
      process.stderr.write(`tessera register-user: ${err.message}\n`);
      return 2;
    }
    throw err;
  } finally {
    prompt.close();
  }
}

/** The listener as a URL a local client can reach (a wildcard address means this machine). */
function listenerUrl(listener: { port: number; bindAddresses: string[] } | undefined): string | null {
  if (listener === undefined) return null;
  const bound = listener.bindAddresses[0] ?? '127.0.0.1';
  const host =
    bound === '0.0.0.0' ? '127.0.0.1' : bound === '::' ? '[::1]' : bound.includes(':') ? `[${bound}]` : bound;
  return `http://${host}:${listener.port}`;
}
