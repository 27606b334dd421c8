import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError } from '../../config/errors.js';
import { generateConfigYaml } from '../../config/generate.js';
import { isServerName } from '../../util/matrix-id.js';
import { fail } from '../common.js';

/** `tessera generate-config`: a commented config file, to stdout or a new file. */
export function registerGenerateConfig(program: Command): void {
  program
    .command('generate-config')
    .description('write a commented config file')
    .option('--server-name <name>', 'the server name (domain part of user ids)', 'localhost')
    .option('-o, --output <file>', 'where to write it (default: standard output)')
    .action((opts: { serverName: string; output?: string }) => {
      if (!isServerName(opts.serverName)) {
        fail(
          new ConfigError(
            `--server-name ${JSON.stringify(opts.serverName)} is not a server name: a DNS name (example.org), an IP address or [IPv6], with an optional :port`,
          ),
        );
      }
      const yaml = generateConfigYaml({ serverName: opts.serverName, development: false });
      if (opts.output === undefined) {
        process.stdout.write(yaml);
        return;
      }
      try {
        writeFileSync(opts.output, yaml, { flag: 'wx' });
      } catch (err) {
        fail(new ConfigError(`cannot write ${opts.output}: ${(err as Error).message}`));
      }
      process.stderr.write(`wrote ${opts.output}\n`);
    });
}
