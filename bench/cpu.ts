import { performance } from 'node:perf_hooks';
import { machineBusyMicros } from './machine.js';
import { PostgresMonitor, type ConnectionStates } from './postgres.js';
import type { ServerProcess } from './server-handle.js';

/**
 * CPU time over a measurement window divided by its wall time, so 1.0 is one core busy
 * throughout. User and system time are both counted.
 */
export interface CpuShares {
  server: number;
  /** This process: the load generator or HTTP client. */
  benchmark: number;
  /**
   * PostgreSQL: the backends of the server's connections plus PostgreSQL's background processes.
   * Null for a server on SQLite, or when those processes' CPU time cannot be read.
   */
  database: number | null;
  /** Busy time of the whole machine minus the three above: other processes competing for the cores. */
  other: number;
}

/** Measurements of one window: CPU shares and, on PostgreSQL, connection states. */
export interface CpuWindow {
  cpu: CpuShares;
  /** PostgreSQL only: the states of the server's connections. Null on SQLite or when sampling failed. */
  connections: ConnectionStates | null;
}

/**
 * Starts a measurement window and returns the function that ends it. For a server on
 * PostgreSQL, the window also samples the PostgreSQL processes that serve it.
 */
export async function startCpuWindow(server: ServerProcess): Promise<() => Promise<CpuWindow>> {
  const monitor = server.database === null ? null : await PostgresMonitor.start(server.database);
  const serverBefore = await server.usage();
  const benchmarkBefore = process.cpuUsage();
  const machineBefore = machineBusyMicros();
  const started = performance.now();

  return async () => {
    const wallMicros = (performance.now() - started) * 1000;
    const benchmark = process.cpuUsage(benchmarkBefore);
    const machineMicros = machineBusyMicros() - machineBefore;
    const serverMicros = (await server.usage()).cpuMicros - serverBefore.cpuMicros;
    const database = monitor === null ? null : await monitor.stop();
    const databaseMicros = database?.cpuMicros ?? null;
    const benchmarkMicros = benchmark.user + benchmark.system;
    return {
      cpu: {
        server: serverMicros / wallMicros,
        benchmark: benchmarkMicros / wallMicros,
        database: databaseMicros === null ? null : databaseMicros / wallMicros,
        other: Math.max(0, machineMicros - serverMicros - benchmarkMicros - (databaseMicros ?? 0)) / wallMicros,
      },
      connections: database?.connections ?? null,
    };
  };
}
