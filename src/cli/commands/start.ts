import cluster from 'node:cluster';
import type { Command } from 'commander';
import { ConfigError } from '../../config/errors.js';
import { DEFAULT_CONFIG, fail } from '../common.js';
import { explainDatabaseError, explainListenError, StartupError } from '../startup-errors.js';

// The server's modules are imported when `start` runs, not when the command line is parsed:
// `tessera --help` and the other commands do not pay for them.

interface StartOptions {
  config?: string;
  workers?: string;
  debug?: boolean;
}

/** `tessera start`: one process, or with --workers N a primary that keeps N workers on one port. */
export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run the server in the foreground')
    .option('-c, --config <file>', `config file (default ./${DEFAULT_CONFIG}; written for development if missing)`)
    .option('-w, --workers <n>', 'run N worker processes sharing the listeners (node:cluster)', '1')
    .option('--debug', 'show the stack trace of a start-up failure')
    .action((opts: StartOptions) => start(opts).catch(fail));
}

function parseWorkers(value: string | undefined): number {
  const n = Number(value ?? '1');
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    throw new ConfigError(`--workers must be a whole number from 1 to 256, not ${JSON.stringify(value)}`);
  }
  return n;
}

async function start(opts: StartOptions): Promise<void> {
  // A cluster worker runs exactly what a single process runs; its primary did the rest.
  if (cluster.isWorker) return serve(opts);
  const workers = parseWorkers(opts.workers);
  if (workers === 1) return serve(opts);
  const [{ resolveConfig }, { createLogger }, { runPrimary }] = await Promise.all([
    import('../config-file.js'),
    import('../../observability/logger.js'),
    import('../cluster.js'),
  ]);
  const { loaded, path, generated } = resolveConfig(opts.config);
  const log = createLogger({ level: loaded.config.logLevel, format: loaded.config.logFormat });
  if (generated) log.info({ config: path }, `no config given: wrote a development config to ${path}`);
  for (const w of loaded.warnings) log.warn(w);
  await runPrimary({ config: loaded.config, configPath: path, workers, log });
}

/** One serving process: load the config, open the database, listen, stop cleanly on a signal. */
async function serve(opts: StartOptions): Promise<void> {
  const [{ resolveConfig }, { createLogger }, { createApp }, { WORKER_LISTENING }] = await Promise.all([
    import('../config-file.js'),
    import('../../observability/logger.js'),
    import('../../app.js'),
    import('../cluster-messages.js'),
  ]);
  const { loaded, path, generated } = resolveConfig(opts.config);
  const { config } = loaded;
  const log = createLogger({ level: config.logLevel, format: config.logFormat });
  if (generated) {
    log.info(
      { config: path },
      `no config given: wrote a development config to ${path} (server_name localhost, SQLite under ./data/, registration open)`,
    );
  } else if (!cluster.isWorker) {
    log.info({ config: path }, 'config loaded');
  }
  if (!cluster.isWorker) for (const w of loaded.warnings) log.warn(w);
  const showStack = opts.debug === true || config.logLevel === 'debug' || config.logLevel === 'trace';
  const explained = (err: unknown, message: string | null) =>
    message === null ? err : new StartupError(message, showStack, { cause: err });
  const app = await createApp({ config, log, serveMetrics: !cluster.isWorker }).catch((err: unknown) => {
    throw explained(err, explainDatabaseError(err, config));
  });
  // A worker's metrics are summed and served by its primary (cli/cluster.ts).
  if (cluster.isWorker && app.metrics !== null) {
    const { reportToClusterPrimary } = await import('../../observability/metrics.js');
    reportToClusterPrimary(app.metrics);
  }
  const urls = await app.listen().catch(async (err: unknown) => {
    await app.close().catch(() => {});
    throw explained(err, explainListenError(err, config));
  });
  if (cluster.isWorker) {
    log.info({ urls, worker: cluster.worker?.id }, 'worker is listening');
    process.send?.({ type: WORKER_LISTENING, urls });
  } else {
    log.info(
      {
        urls,
        ...(app.metricsUrls.length > 0 && { metrics: app.metricsUrls }),
        server_name: config.serverName,
        database: config.database.kind,
      },
      'Tessera is listening',
    );
  }

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
