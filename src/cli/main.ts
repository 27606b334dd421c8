#!/usr/bin/env node
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { createApp } from '../app.js';
import { generateConfigYaml } from '../config/generate.js';
import { ConfigError, type LoadedConfig, loadConfigFile } from '../config/load.js';
import { createLogger } from '../observability/logger.js';

/** Exit status for a config an operator must fix. */
const EXIT_CONFIG = 2;

const DEFAULT_CONFIG = 'tessera.yaml';

/**
 * The config to start with: --config, else ./tessera.yaml, else a development config that is
 * written to ./tessera.yaml first (localhost, 127.0.0.1:8008, SQLite under ./data/, open).
 */
function resolveConfig(path: string | undefined): { loaded: LoadedConfig; path: string; generated: boolean } {
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

function fail(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`tessera: ${err.message}\n`);
    process.exit(EXIT_CONFIG);
  }
  process.stderr.write(`tessera: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}

async function start(opts: { config?: string }): Promise<void> {
  const { loaded, path, generated } = resolveConfig(opts.config);
  const { config } = loaded;
  const log = createLogger({ level: config.logLevel, format: config.logFormat });
  if (generated) {
    log.info(
      { config: path },
      `no config given: wrote a development config to ${path} (server_name localhost, SQLite under ./data/, registration open)`,
    );
  } else {
    log.info({ config: path }, 'config loaded');
  }
  for (const w of loaded.warnings) log.warn(w);
  const app = await createApp({ config, log });
  const urls = await app.listen();
  log.info({ urls, server_name: config.serverName, database: config.database.kind }, 'Tessera is listening');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: finishing in-flight requests');
    await app.close();
    log.info('stopped');
    log.flush?.();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

export function buildProgram(): Command {
  const program = new Command('tessera').description('Tessera: the account service of a Matrix homeserver');
  program
    .command('start')
    .description('run the server in the foreground')
    .option('-c, --config <file>', `config file (default ./${DEFAULT_CONFIG}; written for development if missing)`)
    .action((opts: { config?: string }) => start(opts).catch(fail));
  program
    .command('generate-config')
    .description('write a commented config file')
    .option('--server-name <name>', 'the server name (domain part of user ids)', 'localhost')
    .option('-o, --output <file>', 'where to write it (default: standard output)')
    .action((opts: { serverName: string; output?: string }) => {
      const yaml = generateConfigYaml({ serverName: opts.serverName, development: false });
      if (opts.output === undefined) process.stdout.write(yaml);
      else {
        try {
          writeFileSync(opts.output, yaml, { flag: 'wx' });
        } catch (err) {
          fail(new ConfigError(`cannot write ${opts.output}: ${(err as Error).message}`));
        }
        process.stderr.write(`wrote ${opts.output}\n`);
      }
    });
  return program;
}

await buildProgram().parseAsync(process.argv);
