import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { generateConfigYaml } from '../config/generate.js';
import { ConfigError, type LoadedConfig, loadConfigFile } from '../config/load.js';
import { StartupError } from './startup-errors.js';

/** Exit status for a config (or command line) an operator must fix. */
export const EXIT_CONFIG = 2;

export const DEFAULT_CONFIG = 'tessera.yaml';

/**
 * The config to start with: --config, else ./tessera.yaml, else a development config that is
 * written to ./tessera.yaml first (localhost, 127.0.0.1:8008, SQLite under ./data/, open).
 */
export function resolveConfig(path: string | undefined): { loaded: LoadedConfig; path: string; generated: boolean } {
  if (path !== undefined) return { loaded: loadConfigFile(path), path: resolve(path), generated: false };
  const fallback = resolve(DEFAULT_CONFIG);
  let generated = false;
  if (!existsSync(fallback)) {
    writeFileSync(fallback, generateConfigYaml({ serverName: 'localhost', development: true }), {
      flag: 'wx',
    });
    generated = true;
  }
  return { loaded: loadConfigFile(fallback), path: fallback, generated };
}

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
