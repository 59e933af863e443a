import autocannon from 'autocannon';
import { CascadeClient } from './api-client.js';
import { ECHO_PATH, type ServerKind, type StoreKind } from './ipc.js';
import { startCpuWindow, type CpuShares } from './cpu.js';
import type { ConnectionStates } from './postgres.js';
import { ServerProcess, type ServerLog } from './server-handle.js';
import { acceptRequest } from './workload.js';

/** Upper bound on pages of 100 when counting stored messages after a run. */
const MAX_LIST_PAGES = 2_000;

export interface AcceptSettings {
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
}

/** The server and request that one accept run measures. */
export type AcceptTarget = 'bare' | 'sqlite-scheduled' | 'sqlite-immediate' | 'postgres-scheduled' | 'postgres-immediate';

/** Returns the store of a Cascade target, or null for the bare route. */
export function targetStore(target: AcceptTarget): StoreKind | null {
  if (target === 'bare') return null;
  return target.startsWith('postgres-') ? 'postgres' : 'sqlite';
}

/** Returns whether the target posts with `sendAt` one hour ahead. The bare route echoes that same body. */
function isScheduled(target: AcceptTarget): boolean {
  return !target.endsWith('-immediate');
}

function serverKind(target: AcceptTarget): ServerKind {
  const store = targetStore(target);
  if (store === null) return 'bare';
  return store === 'sqlite' ? 'cascade-sqlite' : 'cascade-postgres';
}

export interface StoredCount {
  /** 201 responses counted by autocannon; requests still in flight when a run stops are not counted. */
  created: number;
  /** Messages returned by `GET /v1/messages`. */
  listed: number;
  /** Listed messages with a `completedAt`. */
  final: number;
}

export interface AcceptResult {
  target: AcceptTarget;
  path: string;
  requestBytes: number;
  durationSeconds: number;
  /** Responses with a 2xx status per second of the measured run. */
  okPerSecond: number;
  ok: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  /** Connection errors, timeouts included. */
  errors: number;
  timeouts: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  /** CPU shares during the measured run; `benchmark` is autocannon. */
  cpu: CpuShares;
  /** PostgreSQL only: states of the server's connections during the measured run. Null on SQLite or when sampling failed. */
  connections: ConnectionStates | null;
  /** Cascade only: what the store contains right after the measured run, warm-up included. */
  stored: StoredCount | null;
  serverLog: ServerLog;
}

/**
 * Measures one server with autocannon: a warm-up run whose results are dropped, then the
 * measured run with the same settings. The server runs in a child process and autocannon in
 * this one, so both share the machine's cores the same way for every target. A PostgreSQL
 * target gets a new schema in the database at `databaseUrl`.
 */
export async function measureAccept(target: AcceptTarget, settings: AcceptSettings, databaseUrl: string | null): Promise<AcceptResult> {
  const kind = serverKind(target);
  const server = await ServerProcess.start(kind, target, kind === 'cascade-postgres' ? databaseUrl : null);
  try {
    const path = target === 'bare' ? ECHO_PATH : '/v1/messages';
    const body = JSON.stringify(acceptRequest(Date.now(), isScheduled(target)));
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (server.apiKey !== null) headers.authorization = `Bearer ${server.apiKey}`;
    const options: autocannon.Options = {
      url: `${server.url}${path}`,
      method: 'POST',
      headers,
      body,
      connections: settings.connections,
      pipelining: 1,
    };

    const warmup = await autocannon({ ...options, duration: settings.warmupSeconds });
    const endCpuWindow = await startCpuWindow(server);
    const result = await autocannon({ ...options, duration: settings.durationSeconds });
    const { cpu, connections } = await endCpuWindow();

    let stored: StoredCount | null = null;
    if (target !== 'bare' && server.apiKey !== null) {
      const listed = await new CascadeClient(server.url, server.apiKey).listAll(MAX_LIST_PAGES);
      stored = {
        created: warmup['2xx'] + result['2xx'],
        listed: listed.length,
        final: listed.filter((message) => message.completedAt !== null).length,
      };
    }

    const statusCodes: Record<string, number> = {};
    for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stats.count ?? 0;
    return {
      target,
      path,
      requestBytes: Buffer.byteLength(body),
      durationSeconds: result.duration,
      okPerSecond: result['2xx'] / result.duration,
      ok: result['2xx'],
      non2xx: result.non2xx,
      statusCodes,
      errors: result.errors,
      timeouts: result.timeouts,
      latencyP50Ms: result.latency.p50,
      latencyP99Ms: result.latency.p99,
      latencyMaxMs: result.latency.max,
      cpu,
      connections,
      stored,
      serverLog: server.log,
    };
  } finally {
    await server.stop();
  }
}
