/**
 * `npm run bench`: measures accepting sends against a bare Fastify route, end to end SMS
 * throughput and latency, memory, and time to fall back, then writes `docs/benchmarks.md` and
 * prints a summary. Every server it loads is one it started itself on 127.0.0.1.
 */
import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { measureAccept, type AcceptSettings, type AcceptTarget } from './accept.js';
import { measureEndToEnd, type EndToEndSettings } from './end-to-end.js';
import { measureFallback, type FallbackSettings } from './fallback.js';
import { describeMachine } from './machine.js';
import { renderReport, renderSummary, type BenchRun, type Outcome } from './report.js';
import { killAllServers, stopAllServers } from './server-handle.js';
import { acceptRequest } from './workload.js';

const REPORT_PATH = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url));
/** The whole run stops, killing its servers, if it takes longer than this. */
const RUN_DEADLINE_MS = 300_000;

const ACCEPT: AcceptSettings = { connections: 32, warmupSeconds: 2, durationSeconds: 8 };
const ACCEPT_TARGETS: AcceptTarget[] = ['bare', 'cascade-scheduled', 'cascade-immediate'];
const END_TO_END: EndToEndSettings = {
  messages: 5_000,
  chunkSize: 1_000,
  timeoutMs: 120_000,
  pollIntervalMs: 100,
  memorySampleIntervalMs: 250,
};
const FALLBACK: FallbackSettings = { messages: 200, batchSize: 10, batchIntervalMs: 100, timeoutMs: 60_000, pollIntervalMs: 100 };

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

function abort(reason: string, exitCode: number): never {
  console.error(`bench: ${reason}; killing the server processes and stopping.`);
  killAllServers();
  process.exit(exitCode);
}

async function main(): Promise<void> {
  const deadline = setTimeout(() => abort(`the run exceeded ${RUN_DEADLINE_MS / 1000} s`, 1), RUN_DEADLINE_MS);
  deadline.unref();
  process.once('SIGINT', () => abort('interrupted', 130));

  const started = performance.now();
  const machine = describeMachine();
  try {
    const accept: BenchRun['accept'] = [];
    for (const target of ACCEPT_TARGETS) {
      accept.push({ target, outcome: await attempt(`accepting sends, ${target}`, () => measureAccept(target, ACCEPT)) });
    }
    const endToEnd = await attempt(`end to end, ${END_TO_END.messages} SMS`, () => measureEndToEnd(END_TO_END));
    const fallback = await attempt(`time to fall back, ${FALLBACK.messages} messages`, () => measureFallback(FALLBACK));

    const run: BenchRun = {
      machine,
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

main().catch((error: unknown) => {
  console.error('bench: failed:', error);
  killAllServers();
  process.exitCode = 1;
});
