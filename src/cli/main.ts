#!/usr/bin/env node
import { Command } from 'commander';
import { registerGenerateConfig } from './commands/generate-config.js';
import { registerMigrateDb } from './commands/migrate-db.js';
import { registerStart } from './commands/start.js';

/** The `tessera` command line: one file per command under ./commands/. */
export function buildProgram(): Command {
  const program = new Command('tessera').description('Tessera: the account service of a Matrix homeserver');
  registerStart(program);
  registerGenerateConfig(program);
  registerMigrateDb(program);
  return program;
}

await buildProgram().parseAsync(process.argv);
