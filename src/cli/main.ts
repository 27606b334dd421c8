#!/usr/bin/env node
import { Command } from 'commander';
import { TESSERA_VERSION } from '../util/version.js';
import { registerGenerateConfig } from './commands/generate-config.js';
import { registerHashPassword } from './commands/hash-password.js';
import { registerMigrateDb } from './commands/migrate-db.js';
import { registerRatelimit } from './commands/ratelimit.js';
import { registerRegisterUser } from './commands/register-user.js';
import { registerStart } from './commands/start.js';
import { registerTokens } from './commands/tokens.js';
import { registerUsers } from './commands/users.js';

/** The `tessera` command line: one file per command under ./commands/. */
export function buildProgram(): Command {
  const program = new Command('tessera')
    .description('Tessera: the account service of a Matrix homeserver')
    .version(TESSERA_VERSION)
    // An unknown command is an error followed by the list of commands, not a silent exit.
    .showHelpAfterError();
  registerStart(program);
  registerGenerateConfig(program);
  registerMigrateDb(program);
  registerRegisterUser(program);
  registerHashPassword(program);
  registerTokens(program);
  registerUsers(program);
  registerRatelimit(program);
  return program;
}

await buildProgram().parseAsync(process.argv);
