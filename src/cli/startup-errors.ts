import type { Config } from '../config/config.js';
import { ForeignDatabaseError } from '../storage/errors.js';

/**
 * A failure to start that the operator can act on: one line naming the config key and what to
 * do, no stack trace (`tessera start --debug`, or `log_level: debug`, shows it). Exit status 1:
 * the config parsed, but the world it names is not as it says (exit 2 is for the config itself).
 */
export class StartupError extends Error {
  constructor(
    message: string,
    readonly showStack: boolean,
    options: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'StartupError';
  }
}

interface SystemError {
  code?: unknown;
  message?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
  path?: unknown;
  cause?: unknown;
}

/** The error and its causes, outermost first (Kysely's migrator and pg both wrap). */
function chain(err: unknown): SystemError[] {
  const out: SystemError[] = [];
  for (let e = err; typeof e === 'object' && e !== null && out.length < 8; e = (e as SystemError).cause) {
    out.push(e as SystemError);
  }
  return out;
}

/** Where the PostgreSQL config says to connect, for messages: `db.example.org:5432`. */
function postgresTarget(db: Extract<Config['database'], { kind: 'postgres' }>): string {
  if (db.url !== null) {
    try {
      const u = new URL(db.url);
      return `${u.hostname || 'localhost'}:${u.port || '5432'}`;
    } catch {
      return 'the database.args.url server';
    }
  }
  return `${db.host ?? 'localhost'}:${db.port ?? 5432}`;
}

/** Explain a failure while opening the database, or null when it is not one we know. */
export function explainDatabaseError(err: unknown, config: Config): string | null {
  const db = config.database;
  for (const e of chain(err)) {
    if (e instanceof ForeignDatabaseError) {
      return `${e.message} (database.args.${db.kind === 'sqlite' ? 'database' : 'database or database.args.schema'})`;
    }
    const code = typeof e.code === 'string' ? e.code : '';
    const message = typeof e.message === 'string' ? e.message : '';
    if (db.kind === 'sqlite') {
      if (['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'SQLITE_CANTOPEN', 'SQLITE_READONLY'].includes(code)) {
        return `cannot create or open the SQLite database ${db.path} (database.args.database): ${message}. Check that its folder exists or can be created, and that Tessera's user may write there`;
      }
      continue;
    }
    const where = postgresTarget(db);
    if (code === 'ECONNREFUSED') {
      return `PostgreSQL at ${where} refused the connection: is it running, and are database.args.host and .port right?`;
    }
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      return `PostgreSQL host ${String(e.hostname ?? where)} is unknown (database.args.host)`;
    }
    if (code === '3D000') {
      return `PostgreSQL at ${where}: ${message} (database.args.database). Create it (createdb -O <user> <name>) or name another`;
    }
    if (code === '28000') return `PostgreSQL at ${where}: ${message} (database.args.user)`;
    if (code === '28P01') return `PostgreSQL at ${where}: ${message} (database.args.user, database.args.password)`;
    if (/timeout/i.test(message) && /connect/i.test(message)) {
      return `PostgreSQL at ${where} did not answer within ${db.connectTimeoutMs / 1000} s (database.args.connect_timeout): is the host right, and the server healthy?`;
    }
  }
  return null;
}

/** Explain a failure to listen, naming the listener, or null when it is not one we know. */
export function explainListenError(err: unknown, config: Config): string | null {
  const [e] = chain(err);
  if (e === undefined) return null;
  const port = Number(e.port);
  const index = config.listeners.findIndex((l) => l.port === port);
  const listener = index === -1 ? 'a listener' : `listeners[${index}]`;
  const at = `${String(e.address ?? '')}:${String(e.port ?? '')}`;
  switch (e.code) {
    case 'EADDRINUSE':
      return `${listener}: ${at} is already in use by another program (or another Tessera); stop it or choose another port`;
    case 'EACCES':
      return `${listener}: not allowed to listen on ${at} (ports below 1024 need privileges); choose a port from 1024 up and put a reverse proxy in front`;
    case 'EADDRNOTAVAIL':
      return `${listener}: ${String(e.address)} is not an address of this machine (bind_addresses)`;
    default:
      return null;
  }
}
