import { readFileSync } from 'node:fs';
import { arch, availableParallelism, cpus, platform, release, totalmem } from 'node:os';

/** The machine a benchmark ran on, read at run time. */
export interface Machine {
  cpuModel: string;
  /** Logical CPUs available to this process. */
  cores: number;
  memoryBytes: number;
  os: string;
  node: string;
  /** Versions of the packages that shape the figures, read from node_modules. */
  packages: Record<string, string>;
  date: string;
}

const PACKAGES = ['fastify', 'better-sqlite3', 'pg', 'autocannon'];

function packageVersion(name: string): string {
  try {
    const manifest = JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version?: unknown };
    return typeof manifest.version === 'string' ? manifest.version : 'unknown';
  } catch {
    return 'not installed';
  }
}

export function describeMachine(): Machine {
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryBytes: totalmem(),
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    packages: Object.fromEntries(PACKAGES.map((name) => [name, packageVersion(name)])),
    date: new Date().toISOString(),
  };
}

/** Busy CPU time of the whole machine (all processes, all cores) since boot, in microseconds. */
export function machineBusyMicros(): number {
  let busyMs = 0;
  for (const cpu of cpus()) busyMs += cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq;
  return busyMs * 1000;
}
