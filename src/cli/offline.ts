import type { Command } from 'commander';
import type { OpenServices } from '../app.js';
import type { Config } from '../config/config.js';
import { EXIT_CONFIG } from './common.js';
import { explainDatabaseError, StartupError } from './startup-errors.js';

/**
 * What the commands that act on a config's database without a running server share
 * (`tessera users`, `tokens`, `ratelimit`): opening the services, and exit status 2 for every
 * mistake on the command line.
 */

/** A command line that names something wrongly: exit 2, as commander's own errors. */
export class UsageError extends Error {}

/** Every mistake on `command`'s command line (and its subcommands') exits 2; help stays 0. */
export function usageErrorsExit2(command: Command): Command {
  return command.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : EXIT_CONFIG));
}

/**
 * Load the config, open its database (bringing the schema up to date, as `start` does) and the
 * services on it, run `work`, and close the database. No listener and no timer: nothing keeps
 * the process alive afterwards. A database that cannot be opened is one line naming the key
 * (StartupError), as for `start`. Loaded when the command runs: `tessera --help` does not pay
 * for the server's modules.
 */
export async function withServices<T>(
  configPath: string,
  work: (services: OpenServices['services'], config: Config) => Promise<T>,
): Promise<T> {
  const [{ loadConfigFile }, { createLogger }, { openServices }] = await Promise.all([
    import('../config/load.js'),
    import('../observability/logger.js'),
    import('../app.js'),
  ]);
  const { config } = loadConfigFile(configPath);
  // Logs are for problems only, and never mixed into the output on standard output.
  const log = createLogger({ level: 'warn', format: config.logFormat, destination: process.stderr });
  const opened = await openServices({ config, log }).catch((err: unknown) => {
    const message = explainDatabaseError(err, config);
    throw message === null ? err : new StartupError(message, false, { cause: err });
  });
  try {
    return await work(opened.services, config);
  } finally {
    await opened.close();
  }
}
