import { ConfigError } from '../config/errors.js';
import { StartupError } from './startup-errors.js';

// Every command imports this module: it stays light (no config parser, no database driver), so
// `tessera --help` loads almost nothing. Commands import what they need when they run.

/** Exit status for a config (or command line) an operator must fix. */
export const EXIT_CONFIG = 2;

export const DEFAULT_CONFIG = 'tessera.yaml';

/** Report a failure and exit: 2 for what the operator must fix, 1 for everything else. */
export function fail(err: unknown): never {
  if (err instanceof ConfigError) {
    // One line per problem: a config may have several, and each names its key.
    for (const line of err.message.split('\n')) process.stderr.write(`tessera: ${line}\n`);
    process.exit(EXIT_CONFIG);
  }
  if (err instanceof StartupError) {
    process.stderr.write(`tessera: ${err.message}\n`);
    if (err.showStack) process.stderr.write(`${(err.cause as Error | undefined)?.stack ?? String(err.cause)}\n`);
    process.exit(1);
  }
  process.stderr.write(`tessera: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
