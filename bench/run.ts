/**
 * `npm run bench`: measures accepting sends against a bare Fastify route, end to end SMS
 * throughput and latency, memory, and time to fall back, then writes `docs/benchmarks.md` and
 * prints a summary. Every server it loads is one it started itself on 127.0.0.1.
 *
 * The accept and end to end measurements run on SQLite and again on PostgreSQL, in a schema
 * created per server in the database at `BENCH_DATABASE_URL` (default
 * `postgres://postgres@127.0.0.1:5432/test`). When that database cannot be used, the
 * PostgreSQL measurements are skipped and the report gives the reason.
 */
import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { measureAccept, targetStore, type AcceptSettings, type AcceptTarget } from './accept.js';
import { measureEndToEnd, type EndToEndSettings } from './end-to-end.js';
import { measureFallback, type FallbackSettings } from './fallback.js';
import type { StoreKind } from './ipc.js';
import { describeMachine } from './machine.js';
import { benchDatabaseUrl, probePostgres } from './postgres.js';
import { renderReport, renderSummary, type BenchRun, type Outcome } from './report.js';
import { killAllServers, stopAllServers } from './server-handle.js';
import { acceptRequest } from './workload.js';

const REPORT_PATH = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url));
/**
 * The whole run stops, killing its servers, if it takes longer than this. The end to end and
 * fallback waits alone can take 2 × 120 s + 60 s when every one of them times out, and the rest
 * of a run took about 90 s on an idle 2-core machine.
 */
const RUN_DEADLINE_MS = 480_000;

const ACCEPT: AcceptSettings = { connections: 32, warmupSeconds: 2, durationSeconds: 8 };
const ACCEPT_TARGETS: AcceptTarget[] = ['bare', 'sqlite-scheduled', 'sqlite-immediate', 'postgres-scheduled', 'postgres-immediate'];
const END_TO_END: EndToEndSettings = {
  messages: 5_000,
  chunkSize: 1_000,
  timeoutMs: 120_000,
  stallTimeoutMs: 10_000,
  pollIntervalMs: 100,
  memorySampleIntervalMs: 250,
};
const FALLBACK: FallbackSettings = { messages: 200, batchSize: 10, batchIntervalMs: 100, timeoutMs: 60_000, stallTimeoutMs: 10_000, pollIntervalMs: 100 };

async function attempt<T>(name: string, measure: () => Promise<T>): Promise<Outcome<T>> {
  console.log(`bench: ${name}…`);
  try {
    return { result: await measure() };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`bench: ${name} failed: ${message}`);
    return { error: message };
  }
}

/** Set once the run is being stopped, so that no report with half the figures is written. */
let aborting = false;

function abort(reason: string, exitCode: number): void {
  if (aborting) return;
  aborting = true;
  console.error(`bench: ${reason}; killing the server processes and stopping.`);
  killAllServers().finally(() => process.exit(exitCode));
}

async function main(): Promise<void> {
  const deadline = setTimeout(() => abort(`the run exceeded ${RUN_DEADLINE_MS / 1000} s`, 1), RUN_DEADLINE_MS);
  deadline.unref();
  process.once('SIGINT', () => abort('interrupted', 130));

  const started = performance.now();
  const machine = describeMachine();
  const databaseUrl = benchDatabaseUrl();
  const postgres = await probePostgres(databaseUrl);
  if (!postgres.available) console.warn(`bench: skipping the PostgreSQL measurements: ${postgres.location} could not be used: ${postgres.reason}`);
  const stores: StoreKind[] = postgres.available ? ['sqlite', 'postgres'] : ['sqlite'];
  try {
    const accept: BenchRun['accept'] = [];
    for (const target of ACCEPT_TARGETS) {
      if (targetStore(target) === 'postgres' && !postgres.available) continue;
      accept.push({ target, outcome: await attempt(`accepting sends, ${target}`, () => measureAccept(target, ACCEPT, databaseUrl)) });
    }
    const endToEnd: BenchRun['endToEnd'] = [];
    for (const store of stores) {
      const outcome = await attempt(`end to end on ${store}, ${END_TO_END.messages} SMS`, () => measureEndToEnd(END_TO_END, store, databaseUrl));
      endToEnd.push({ store, outcome });
    }
    const fallback = await attempt(`time to fall back, ${FALLBACK.messages} messages`, () => measureFallback(FALLBACK));
    if (aborting) return;

    const run: BenchRun = {
      machine,
      postgres,
      acceptSettings: ACCEPT,
      endToEndSettings: END_TO_END,
      fallbackSettings: FALLBACK,
      acceptBody: JSON.stringify(acceptRequest(Date.now(), false)),
      accept,
      endToEnd,
      fallback,
      totalSeconds: (performance.now() - started) / 1000,
    };
    await writeFile(REPORT_PATH, renderReport(run));
    console.log(renderSummary(run));
  } finally {
    await stopAllServers();
    clearTimeout(deadline);
  }
}

main().catch(async (error: unknown) => {
  console.error('bench: failed:', error);
  process.exitCode = 1;
  await killAllServers();
});
