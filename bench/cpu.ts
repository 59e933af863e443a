import { performance } from 'node:perf_hooks';
import { machineBusyMicros } from './machine.js';
import type { ServerProcess } from './server-handle.js';

/**
 * CPU time over a measurement window divided by its wall time, so 1.0 is one core busy
 * throughout. User and system time are both counted.
 */
export interface CpuShares {
  server: number;
  /** This process: the load generator or HTTP client. */
  benchmark: number;
  /** Busy time of the whole machine minus the two above: other processes competing for the cores. */
  other: number;
}

/** Starts a CPU measurement window and returns the function that ends it. */
export async function startCpuWindow(server: ServerProcess): Promise<() => Promise<CpuShares>> {
  const serverBefore = await server.usage();
  const benchmarkBefore = process.cpuUsage();
  const machineBefore = machineBusyMicros();
  const started = performance.now();

  return async () => {
    const wallMicros = (performance.now() - started) * 1000;
    const benchmark = process.cpuUsage(benchmarkBefore);
    const machineMicros = machineBusyMicros() - machineBefore;
    const serverMicros = (await server.usage()).cpuMicros - serverBefore.cpuMicros;
    const benchmarkMicros = benchmark.user + benchmark.system;
    return {
      server: serverMicros / wallMicros,
      benchmark: benchmarkMicros / wallMicros,
      other: Math.max(0, machineMicros - serverMicros - benchmarkMicros) / wallMicros,
    };
  };
}
