import type { CpuShares } from './cpu.js';
import type { AcceptResult, AcceptSettings, AcceptTarget } from './accept.js';
import type { EndToEndResult, EndToEndSettings } from './end-to-end.js';
import type { FallbackResult, FallbackSettings } from './fallback.js';
import type { Machine } from './machine.js';
import type { ServerLog } from './server-handle.js';
import { formatCount, formatMiB, formatMs, type LatencySummary } from './stats.js';

/** The result of one measurement, or the error that stopped it. */
export type Outcome<T> = { result: T } | { error: string };

export interface BenchRun {
  machine: Machine;
  acceptSettings: AcceptSettings;
  endToEndSettings: EndToEndSettings;
  fallbackSettings: FallbackSettings;
  /** The exact body posted by the accept runs without `sendAt`. */
  acceptBody: string;
  accept: Array<{ target: AcceptTarget; outcome: Outcome<AcceptResult> }>;
  endToEnd: Outcome<EndToEndResult>;
  fallback: Outcome<FallbackResult>;
  totalSeconds: number;
}

/** Other processes' CPU, in busy cores, above which a measurement is flagged as disturbed. */
const DISTURBED_CORES = 0.2;

const TARGET_NAMES: Record<AcceptTarget, string> = {
  bare: 'bare Fastify echo',
  'cascade-scheduled': 'Cascade, `sendAt` +1 h',
  'cascade-immediate': 'Cascade, sending at once',
};

/** Formats autocannon's whole-millisecond latencies; 0 means under one millisecond. */
function formatWholeMs(ms: number): string {
  return ms === 0 ? '< 1 ms' : `${ms} ms`;
}

function formatOtherCpu(cpu: CpuShares): string {
  const flag = cpu.other > DISTURBED_CORES ? ' (so these figures are lower than on an idle machine)' : '';
  return `${cpu.other.toFixed(2)}${flag}`;
}

function formatStatuses(statuses: Record<string, number>): string {
  const entries = Object.entries(statuses);
  return entries.length === 0 ? 'none' : entries.map(([status, count]) => `${formatCount(count)} ${status}`).join(', ');
}

function bareRate(run: BenchRun): number | null {
  const bare = run.accept.find((entry) => entry.target === 'bare')?.outcome;
  return bare !== undefined && 'result' in bare && bare.result.okPerSecond > 0 ? bare.result.okPerSecond : null;
}

function ratio(rate: number, bare: number | null): string {
  return bare === null ? '–' : `${(rate / bare).toFixed(3)}×`;
}

function latencyCells(summary: LatencySummary): string {
  return `${formatMs(summary.p50)} | ${formatMs(summary.p99)} | ${formatMs(summary.max)}`;
}

function renderMachine(run: BenchRun): string[] {
  const { machine } = run;
  const packages = Object.entries(machine.packages).map(([name, version]) => `${name} ${version}`).join(', ');
  return [
    '| | |',
    '| --- | --- |',
    `| CPU | ${machine.cpuModel} |`,
    `| logical cores | ${machine.cores} |`,
    `| memory | ${formatMiB(machine.memoryBytes)} |`,
    `| OS | ${machine.os} |`,
    `| Node.js | ${machine.node} |`,
    `| packages | ${packages} |`,
    `| run started | ${machine.date} |`,
    `| run took | ${run.totalSeconds.toFixed(0)} s |`,
  ];
}

function renderAccept(run: BenchRun): string[] {
  const settings = run.acceptSettings;
  const bare = bareRate(run);
  const lines = [
    '## Accepting sends',
    '',
    `autocannon ${run.machine.packages.autocannon ?? ''} posts the same JSON body over ${settings.connections} connections, one request in flight on each, ` +
      `for ${settings.warmupSeconds} s of warm-up (results dropped) and then ${settings.durationSeconds} s measured. Each target is a fresh server process.`,
    '',
    '- **bare Fastify echo**: Fastify with one `POST` route that parses the JSON body and returns it with 200. It has a pino logger at level warn, like Cascade, and no authentication, validation or storage.',
    '- **Cascade, `sendAt` +1 h**: `POST /v1/messages` with `sendAt` one hour ahead, so the worker stays idle. Only the accept path runs: bearer key check, schema validation, phone number normalisation, and the commit of the message and its first job to SQLite before the 201.',
    '- **Cascade, sending at once**: the same body without `sendAt`, so while the API accepts, the worker in the same process sends each message over SMPP to the sandbox SMSC and applies its receipt.',
    '',
    `Body without \`sendAt\` (${Buffer.byteLength(run.acceptBody)} bytes): \`${run.acceptBody}\``,
    '',
    '2xx/s is the number of 2xx responses divided by the measured duration. The ratio divides it by the bare echo figure. autocannon records latency in whole milliseconds. ' +
      'The CPU columns give CPU time (user and system) during the measured run divided by its wall time, so 1.0 is one core busy throughout. ' +
      '"Other CPU" is the busy time of the whole machine minus the server and autocannon: other processes that competed for the cores. ' +
      `Where it exceeds ${DISTURBED_CORES}, that row's figures are lower than this machine reaches when idle. ` +
      'Each server runs its JavaScript, better-sqlite3 queries included, on one thread, so a server CPU near 1.0 means that thread was the limit.',
    '',
    '| target | 2xx/s | ratio to bare | p50 latency | p99 latency | max latency | non-2xx | connection errors | server CPU | autocannon CPU | other CPU |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const { target, outcome } of run.accept) {
    if ('error' in outcome) {
      lines.push(`| ${TARGET_NAMES[target]} | failed: ${outcome.error} | | | | | | | | | |`);
      continue;
    }
    const r = outcome.result;
    lines.push(
      `| ${TARGET_NAMES[target]} | ${formatCount(r.okPerSecond)} | ${ratio(r.okPerSecond, bare)} | ${formatWholeMs(r.latencyP50Ms)} | ` +
        `${formatWholeMs(r.latencyP99Ms)} | ${formatWholeMs(r.latencyMaxMs)} | ${formatCount(r.non2xx)} | ${formatCount(r.errors)} | ` +
        `${r.cpu.server.toFixed(2)} | ${r.cpu.benchmark.toFixed(2)} | ${r.cpu.other.toFixed(2)} |`,
    );
  }

  const storedLines: string[] = [];
  for (const { target, outcome } of run.accept) {
    if (!('result' in outcome) || outcome.result.stored === null) continue;
    const stored = outcome.result.stored;
    storedLines.push(
      `| ${TARGET_NAMES[target]} | ${formatCount(stored.created)} | ${formatCount(stored.listed)} | ${formatCount(stored.final)} | ${formatCount(stored.listed - stored.final)} |`,
    );
  }
  if (storedLines.length > 0) {
    lines.push(
      '',
      'Right after each Cascade run, the benchmark lists every stored message through `GET /v1/messages`. ' +
        'autocannon does not count responses to requests still in flight when a run stops, so up to one request per connection per run can be stored without being counted. ' +
        'Fewer stored than counted would mean lost messages. Messages not final are the worker backlog when the load stopped.',
      '',
      '| target | 201 responses (warm-up and measured) | stored | final | not final |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...storedLines,
    );
  }
  return lines;
}

function renderEndToEnd(run: BenchRun): string[] {
  const settings = run.endToEndSettings;
  const lines = [
    '## End to end SMS',
    '',
    `${formatCount(settings.messages)} messages with \`"rules": ["sms"]\`, each to its own fictional US number (555-0100 to 555-0199 in many area codes), ` +
      `posted to \`POST /v1/messages/batch\` in ${Math.ceil(settings.messages / settings.chunkSize)} sequential requests of ${formatCount(settings.chunkSize)}. ` +
      'The sandbox SMSC accepts each `submit_sm` and sends a DELIVRD receipt 300 ms later (its default delay), so a message is final when that receipt is applied. ' +
      `The wait for every message to become final is bounded at ${settings.timeoutMs / 1000} s.`,
    '',
    'All times come from the server process clock: accept is the message\'s `sentOn`, submit is when the sandbox SMSC received the `submit_sm` ' +
      '(matched by the `message_id` it returned, which Cascade stores as the attempt\'s `providerMessageId`), and final is `completedAt`. ' +
      'All messages of one batch share one `sentOn`, so the latencies include the time a message waits in the queue behind the rest of its burst.',
    '',
  ];
  if ('error' in run.endToEnd) return [...lines, `The measurement failed: ${run.endToEnd.error}`];

  const r = run.endToEnd.result;
  const wall = r.wallMs === null ? '–' : `${(r.wallMs / 1000).toFixed(2)} s`;
  const rate = r.messagesPerSecond === null ? '–' : formatCount(r.messagesPerSecond);
  lines.push(
    '| figure | value |',
    '| --- | ---: |',
    `| accepted / rejected | ${formatCount(r.accepted)} / ${formatCount(r.rejected)} |`,
    `| time to accept all batches (client) | ${(r.acceptWallMs / 1000).toFixed(2)} s |`,
    `| wall time, first accept to last final | ${wall} |`,
    `| messages final per second | ${rate} |`,
    `| final statuses | ${formatStatuses(r.statuses)} |`,
    `| server CPU, cores busy on average | ${r.cpu.server.toFixed(2)} |`,
    `| other processes' CPU, cores busy on average | ${formatOtherCpu(r.cpu)} |`,
    `| accept → \`submit_sm\` p50 / p99 / max | ${latencyCells(r.acceptToSubmit).replaceAll(' | ', ' / ')} |`,
    `| accept → final p50 / p99 / max | ${latencyCells(r.acceptToFinal).replaceAll(' | ', ' / ')} |`,
    `| \`submit_sm\` received by the SMSC | ${formatCount(r.submits)} |`,
    `| destinations that got more than one \`submit_sm\` | ${formatCount(r.duplicateDestinations)} |`,
    `| messages with more than one SMS attempt | ${formatCount(r.retried)} |`,
    `| messages missing from the list / without a matching \`submit_sm\` | ${formatCount(r.missing)} / ${formatCount(r.unmatched)} |`,
    `| timed out | ${r.timedOut ? `yes, after ${settings.timeoutMs / 1000} s` : 'no'} |`,
  );
  return lines;
}

function renderMemory(run: BenchRun): string[] {
  const lines = [
    '## Memory',
    '',
    'Resident set size (`process.memoryUsage.rss()`) of the Cascade server process of the end to end run, which also runs the sandbox SMSC and SMTP relay. ' +
      'It is read before the first batch, sampled while the messages are processed, and read again once all are final. ' +
      'The server loads its TypeScript through tsx, as `npm start` does, so the figure includes the memory tsx uses.',
    '',
  ];
  if ('error' in run.endToEnd) return [...lines, 'Not measured, because the end to end run failed.'];
  const { memory } = run.endToEnd.result;
  lines.push(
    '| before | peak during | after |',
    '| ---: | ---: | ---: |',
    `| ${formatMiB(memory.beforeRss)} | ${formatMiB(memory.samples.peakRss)} (${memory.samples.count} samples, every ${memory.samples.intervalMs} ms) | ${formatMiB(memory.afterRss)} |`,
  );
  return lines;
}

function renderFallback(run: BenchRun): string[] {
  const settings = run.fallbackSettings;
  const lines = [
    '## Time to fall back',
    '',
    `${formatCount(settings.messages)} messages with \`"rules": ["sms", "email"]\` to +12025550102, which the sandbox SMSC accepts and answers with an UNDELIV receipt after 1 s, ` +
      `and to a distinct address at the sandbox SMTP relay. They are posted in batches of ${settings.batchSize}, one batch every ${settings.batchIntervalMs} ms ` +
      `(${formatCount((settings.batchSize * 1000) / settings.batchIntervalMs)} messages per second), so the receipts arrive spread out. ` +
      'Per message, the figure is the time from the SMS failure receipt\'s `receivedAt` to the email attempt\'s `startedAt`, ' +
      'both read from `GET /v1/messages`. `startedAt` is set when the attempt is claimed, just before the email channel\'s send call. ' +
      'The CPU columns cover the time from the first batch until every message is final and are computed as in the accept table.',
    '',
  ];
  if ('error' in run.fallback) return [...lines, `The measurement failed: ${run.fallback.error}`];
  const r = run.fallback.result;
  lines.push(
    '| messages timed | p50 | p99 | max | final statuses | without a failure receipt or email attempt | timed out | server CPU | other CPU |',
    '| ---: | ---: | ---: | ---: | --- | ---: | --- | ---: | ---: |',
    `| ${formatCount(r.receiptToFallback.count)} | ${latencyCells(r.receiptToFallback)} | ${formatStatuses(r.statuses)} | ${formatCount(r.incomplete)} | ` +
      `${r.timedOut ? 'yes' : 'no'} | ${r.cpu.server.toFixed(2)} | ${formatOtherCpu(r.cpu)} |`,
  );
  return lines;
}

function serverLogs(run: BenchRun): Array<{ name: string; log: ServerLog }> {
  const logs: Array<{ name: string; log: ServerLog }> = [];
  for (const { target, outcome } of run.accept) {
    if ('result' in outcome) logs.push({ name: TARGET_NAMES[target], log: outcome.result.serverLog });
  }
  if ('result' in run.endToEnd) logs.push({ name: 'end to end', log: run.endToEnd.result.serverLog });
  if ('result' in run.fallback) logs.push({ name: 'fallback', log: run.fallback.result.serverLog });
  return logs;
}

function renderServerLogs(run: BenchRun): string[] {
  const logs = serverLogs(run);
  const noisy = logs.filter(({ log }) => log.warnings + log.errors > 0);
  const lines = ['## Server log', ''];
  if (noisy.length === 0) {
    lines.push(`Every server ran at log level warn. None of the ${logs.length} server processes wrote a warning or an error.`);
    return lines;
  }
  lines.push('Every server ran at log level warn. Warnings and errors they wrote, with the first few lines:', '');
  for (const { name, log } of noisy) {
    lines.push(`- ${name}: ${log.warnings} warnings, ${log.errors} errors`);
    for (const line of log.firstLines) lines.push(`  - \`${line.replaceAll('`', "'")}\``);
  }
  return lines;
}

/** Renders `docs/benchmarks.md`. */
export function renderReport(run: BenchRun): string {
  const lines = [
    '# Benchmarks',
    '',
    '`npm run bench` runs `bench/run.ts`, which measures Cascade on the machine at hand and overwrites this page. ' +
      'Every figure below comes from one run on the machine in the first table. Figures move between runs and differ between machines, ' +
      'so compare the figures of one run with each other, such as Cascade against the bare Fastify route, rather than with another machine\'s.',
    '',
    'Each measurement starts a fresh server in its own child process on 127.0.0.1 with log level warn. ' +
      'A Cascade server gets an empty SQLite data folder and runs the sandbox SMSC and SMTP relay in the same process. ' +
      `The load generator runs in the benchmark's own process, so it shares the ${run.machine.cores} logical cores with the server.`,
    '',
    ...renderMachine(run),
    '',
    ...renderAccept(run),
    '',
    ...renderEndToEnd(run),
    '',
    ...renderMemory(run),
    '',
    ...renderFallback(run),
    '',
    ...renderServerLogs(run),
    '',
  ];
  return lines.join('\n');
}

/** Names the measurements during which other processes kept more than `DISTURBED_CORES` busy. */
function disturbedMeasurements(run: BenchRun): string[] {
  const names: string[] = [];
  for (const { target, outcome } of run.accept) {
    if ('result' in outcome && outcome.result.cpu.other > DISTURBED_CORES) names.push(TARGET_NAMES[target]);
  }
  if ('result' in run.endToEnd && run.endToEnd.result.cpu.other > DISTURBED_CORES) names.push('end to end');
  if ('result' in run.fallback && run.fallback.result.cpu.other > DISTURBED_CORES) names.push('fallback');
  return names;
}

/** Renders the short summary printed at the end of `npm run bench`. */
export function renderSummary(run: BenchRun): string {
  const bare = bareRate(run);
  const lines = [`Cascade benchmark on ${run.machine.cores} cores, ${formatMiB(run.machine.memoryBytes)}, Node.js ${run.machine.node}:`];
  for (const { target, outcome } of run.accept) {
    if ('error' in outcome) {
      lines.push(`  ${TARGET_NAMES[target]}: failed: ${outcome.error}`);
      continue;
    }
    const r = outcome.result;
    lines.push(
      `  ${TARGET_NAMES[target]}: ${formatCount(r.okPerSecond)} 2xx/s (${ratio(r.okPerSecond, bare)} of bare), ` +
        `p50 ${formatWholeMs(r.latencyP50Ms)}, p99 ${formatWholeMs(r.latencyP99Ms)}, non-2xx ${r.non2xx}, errors ${r.errors}`,
    );
  }
  if ('result' in run.endToEnd) {
    const r = run.endToEnd.result;
    lines.push(
      `  end to end: ${formatCount(r.accepted)} SMS, ${formatStatuses(r.statuses)}, ` +
        `${r.messagesPerSecond === null ? '–' : formatCount(r.messagesPerSecond)} messages/s, ` +
        `accept → submit_sm p50 ${formatMs(r.acceptToSubmit.p50)} p99 ${formatMs(r.acceptToSubmit.p99)}, ` +
        `accept → final p50 ${formatMs(r.acceptToFinal.p50)} p99 ${formatMs(r.acceptToFinal.p99)}${r.timedOut ? ', TIMED OUT' : ''}`,
      `  memory (RSS): before ${formatMiB(r.memory.beforeRss)}, peak ${formatMiB(r.memory.samples.peakRss)}, after ${formatMiB(r.memory.afterRss)}`,
    );
  } else {
    lines.push(`  end to end: failed: ${run.endToEnd.error}`);
  }
  if ('result' in run.fallback) {
    const r = run.fallback.result;
    lines.push(
      `  fallback: receipt → email attempt p50 ${formatMs(r.receiptToFallback.p50)} p99 ${formatMs(r.receiptToFallback.p99)} ` +
        `over ${r.receiptToFallback.count} messages${r.timedOut ? ', TIMED OUT' : ''}`,
    );
  } else {
    lines.push(`  fallback: failed: ${run.fallback.error}`);
  }
  const noisy = serverLogs(run).filter(({ log }) => log.warnings + log.errors > 0);
  for (const { name, log } of noisy) lines.push(`  server log (${name}): ${log.warnings} warnings, ${log.errors} errors`);
  const disturbed = disturbedMeasurements(run);
  if (disturbed.length > 0) {
    lines.push(`  warning: other processes used more than ${DISTURBED_CORES} cores during: ${disturbed.join(', ')}; those figures are lower than on an idle machine`);
  }
  lines.push(`  took ${run.totalSeconds.toFixed(0)} s; report written to docs/benchmarks.md`);
  return lines.join('\n');
}
