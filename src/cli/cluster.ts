import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { clusterMetricsSource } from '../observability/metrics.js';
import { listenForMetrics } from '../observability/metrics-server.js';
import { openDatabase } from '../storage/open.js';

import { WORKER_LISTENING } from './cluster-messages.js';

/** How long stopping workers may take to finish in-flight requests before they are killed. */
const STOP_GRACE_MS = 10_000;
/** A worker that dies before it ever listened is restarted after this pause, not in a hot loop. */
const RESTART_PAUSE_MS = 1000;

export interface PrimaryOptions {
  config: Config;
  configPath: string;
  workers: number;
  log: Logger;
}

/**
 * `tessera start --workers N`: this process serves nothing itself. It migrates the
 * database once, forks N workers that each run the whole app (createApp + listen) and share the
 * listening sockets through node:cluster, restarts a worker that dies, and on SIGTERM/SIGINT
 * stops them all gracefully. Every worker is an ordinary Tessera process: all shared state is in
 * the database, so any worker may serve any request.
 */
export async function runPrimary(opts: PrimaryOptions): Promise<void> {
  const { config, configPath, workers, log } = opts;
  // Migrate before forking, so N workers do not all race to migrate a fresh database.
  const db = await openDatabase(config.database);
  await db.close();

  cluster.setupPrimary({ args: ['start', '--config', configPath] });
  // Workers count; the primary serves their sum on the metrics listeners.
  const metricsServers = await listenForMetrics(config, clusterMetricsSource());
  const live = new Set<Worker>();
  const ready = new Set<Worker>();
  let everReady = false;
  let announced = false;
  let stopping = false;
  let exitCode = 0;

  const fork = () => {
    const worker = cluster.fork();
    live.add(worker);
    worker.on('message', (msg: { type?: unknown; urls?: unknown }) => {
      if (msg?.type !== WORKER_LISTENING) return;
      ready.add(worker);
      everReady = true;
      log.info({ worker: worker.id, worker_pid: worker.process.pid }, 'worker ready');
      if (!announced && ready.size === workers) {
        announced = true;
        log.info(
          {
            urls: msg.urls,
            ...(metricsServers.length > 0 && { metrics: metricsServers.map((m) => m.url) }),
            workers,
            server_name: config.serverName,
            database: config.database.kind,
          },
          'Tessera is listening',
        );
      }
    });
  };

  const stopAll = (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    log.info({ reason, workers: live.size }, 'stopping workers: finishing in-flight requests');
    if (live.size === 0) finish();
    for (const w of live) w.process.kill('SIGTERM');
    setTimeout(() => {
      for (const w of live) {
        log.warn({ worker_pid: w.process.pid }, 'worker did not stop in time: killing it');
        w.process.kill('SIGKILL');
      }
    }, STOP_GRACE_MS).unref();
  };

  const finish = () => {
    log.info('stopped');
    log.flush?.();
    process.exit(exitCode);
  };

  cluster.on('exit', (worker, code, signal) => {
    live.delete(worker);
    const wasReady = ready.delete(worker);
    if (stopping) {
      if (live.size === 0) finish();
      return;
    }
    if (!everReady && !wasReady) {
      // Nothing ever came up: a bad config, an unreachable database, a port in use. Restarting
      // would loop; the worker's own log says why.
      log.error({ worker_pid: worker.process.pid, code, signal }, 'a worker failed to start: giving up');
      stopAll('worker failed to start', 1);
      return;
    }
    log.error({ worker_pid: worker.process.pid, code, signal }, 'worker died: starting a replacement');
    setTimeout(fork, wasReady ? 0 : RESTART_PAUSE_MS);
  });

  process.on('SIGTERM', () => stopAll('SIGTERM', 0));
  process.on('SIGINT', () => stopAll('SIGINT', 0));
  log.info({ workers, primary_pid: process.pid }, 'starting workers');
  for (let i = 0; i < workers; i++) fork();
}
