import type { Command } from 'commander';
import type { DatabaseConfig } from '../../config/config.js';
import { ConfigError } from '../../config/errors.js';
import type { OpenDatabase } from '../../storage/open.js';
import { fail } from '../common.js';

interface MigrateDbOptions {
  config: string;
  to: string;
  schema?: string;
}

/** `tessera migrate-db`: copy the SQLite database of a config into an empty PostgreSQL database. */
export function registerMigrateDb(program: Command): void {
  program
    .command('migrate-db')
    .description('copy the SQLite database named in a config into an empty PostgreSQL database')
    .requiredOption('-c, --config <file>', 'the config whose database (SQLite) is copied')
    .requiredOption('--to <url>', 'the target, postgres://user:password@host:port/database')
    .option('--schema <name>', 'the PostgreSQL schema to copy into (created if missing; default: public)')
    .action((opts: MigrateDbOptions) =>
      migrateDb(opts).then(
        (code) => process.exit(code),
        (err) => fail(err),
      ),
    );
}

/** The URL without its password, for messages. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

function targetConfig(opts: MigrateDbOptions): DatabaseConfig {
  if (!/^postgres(ql)?:\/\//.test(opts.to)) {
    throw new ConfigError(`--to must be a postgres:// or postgresql:// URL, not ${JSON.stringify(redactUrl(opts.to))}`);
  }
  if (opts.schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(opts.schema)) {
    throw new ConfigError('--schema must be lower-case letters, digits and _ (not starting with a digit)');
  }
  return {
    kind: 'postgres',
    url: opts.to,
    host: null,
    port: null,
    user: null,
    password: null,
    database: null,
    poolMin: 0,
    poolMax: 2,
    connectTimeoutMs: 10_000,
    schema: opts.schema ?? null,
  };
}

async function migrateDb(opts: MigrateDbOptions): Promise<number> {
  const [{ loadConfigFile }, { CountMismatchError, copyDatabase, TargetNotEmptyError }, { openDatabase }] =
    await Promise.all([
      import('../../config/load.js'),
      import('../../storage/copy.js'),
      import('../../storage/open.js'),
    ]);
  const { config } = loadConfigFile(opts.config);
  if (config.database.kind !== 'sqlite') {
    throw new ConfigError(`migrate-db copies from SQLite, but ${opts.config} names a PostgreSQL database`);
  }
  const target = targetConfig(opts);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`copying ${config.database.path} → ${redactUrl(opts.to)}${opts.schema ? ` (schema ${opts.schema})` : ''}`);
  let source: OpenDatabase | null = null;
  let dest: OpenDatabase | null = null;
  try {
    // Opening brings both to the latest schema, so their tables match column for column.
    source = await openDatabase(config.database);
    dest = await openDatabase(target);
    const counts = await copyDatabase(source, dest);
    const width = Math.max(...counts.map((c) => c.table.length));
    const digits = Math.max(...counts.map((c) => String(c.source).length));
    for (const c of counts) out(`  ${c.table.padEnd(width)}  ${String(c.source).padStart(digits)} → ${c.target}`);
    out('done: every row count matches. Point database: in the config at PostgreSQL and start Tessera.');
    return 0;
  } catch (err) {
    if (err instanceof TargetNotEmptyError || err instanceof CountMismatchError) {
      process.stderr.write(`tessera: ${err.message}; nothing was written\n`);
      return 1;
    }
    throw err;
  } finally {
    await source?.close();
    await dest?.close();
  }
}
