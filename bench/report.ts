import type { CpuShares } from './cpu.js';
import { targetStore, type AcceptResult, type AcceptSettings, type AcceptTarget } from './accept.js';
import type { EndToEndResult, EndToEndSettings, WaitOutcome } from './end-to-end.js';
import type { FallbackResult, FallbackSettings } from './fallback.js';
import type { StoreKind } from './ipc.js';
import type { Machine } from './machine.js';
import { POSTGRES_SAMPLE_INTERVAL_MS, type ConnectionStates, type PostgresStatus } from './postgres.js';
import type { ServerLog } from './server-handle.js';
import { formatCount, formatMiB, formatMs, type LatencySummary } from './stats.js';

/** The result of one measurement, or the error that stopped it. */
export type Outcome<T> = { result: T } | { error: string };

export interface BenchRun {
  machine: Machine;
  /** The database of the PostgreSQL measurements, or why they were skipped. */
  postgres: PostgresStatus;
  acceptSettings: AcceptSettings;
  endToEndSettings: EndToEndSettings;
  fallbackSettings: FallbackSettings;
  /** The exact body posted by the accept runs without `sendAt`. */
  acceptBody: string;
  accept: Array<{ target: AcceptTarget; outcome: Outcome<AcceptResult> }>;
  /** One end to end run per store measured: SQLite, then PostgreSQL unless it was skipped. */
  endToEnd: Array<{ store: StoreKind; outcome: Outcome<EndToEndResult> }>;
  fallback: Outcome<FallbackResult>;
  totalSeconds: number;
}

/** Other processes' CPU, in busy cores, above which a measurement is flagged as disturbed. */
const DISTURBED_CORES = 0.2;

const TARGET_NAMES: Record<AcceptTarget, string> = {
  bare: 'bare Fastify echo',
  'sqlite-scheduled': 'Cascade on SQLite, `sendAt` +1 h',
  'sqlite-immediate': 'Cascade on SQLite, sending at once',
  'postgres-scheduled': 'Cascade on PostgreSQL, `sendAt` +1 h',
  'postgres-immediate': 'Cascade on PostgreSQL, sending at once',
};

const STORE_NAMES: Record<StoreKind, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };

/** Pool size of `openPostgresStore` in src/store/postgres.ts when the caller sets none, as `startServer` does. */
const POSTGRES_POOL_SIZE = 10;

/** Formats autocannon's whole-millisecond latencies; 0 means under one millisecond. */
function formatWholeMs(ms: number): string {
  return ms === 0 ? '< 1 ms' : `${ms} ms`;
}

function formatOtherCpu(cpu: CpuShares): string {
  const flag = cpu.other > DISTURBED_CORES ? ' (so these figures are lower than on an idle machine)' : '';
  return `${cpu.other.toFixed(2)}${flag}`;
}

function formatDatabaseCpu(cpu: CpuShares): string {
  return cpu.database === null ? '–' : cpu.database.toFixed(2);
}

/** Formats the average connection counts as active / idle in transaction / idle, or a dash for null. */
function formatConnections(states: ConnectionStates | null): string {
  if (states === null) return '–';
  return [states.active, states.idleInTransaction, states.idle].map((value) => value.toFixed(2)).join(' / ');
}

/** Returns the one line saying why the PostgreSQL rows are missing, or null when they were measured. */
function postgresSkipped(run: BenchRun): string | null {
  const status = run.postgres;
  if (status.available) return null;
  return `PostgreSQL rows skipped: the database at \`${status.location}\` (\`BENCH_DATABASE_URL\`) could not be used: ${status.reason.replaceAll('\n', ' ')}`;
}

/** Formats how a wait ended, for a report cell or the summary, with the limits from `settings`. */
function formatWait(wait: WaitOutcome, expected: number, settings: { timeoutMs: number; stallTimeoutMs: number }): string {
  const finished = `${formatCount(wait.finished)} of ${formatCount(expected)} final`;
  if (wait.ended === 'stalled') return `stalled: no message became final for ${settings.stallTimeoutMs / 1000} s, ${finished}`;
  if (wait.ended === 'timed-out') return `timed out after ${settings.timeoutMs / 1000} s, ${finished}`;
  return 'no';
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
    `| PostgreSQL | ${run.postgres.available ? `${run.postgres.version}, \`synchronous_commit\` ${run.postgres.synchronousCommit}` : 'skipped'} |`,
    `| run started | ${machine.date} |`,
    `| run took | ${run.totalSeconds.toFixed(0)} s |`,
  ];
}

/** Describes what differs on PostgreSQL. Returns no lines when the PostgreSQL measurements were skipped. */
function renderStores(run: BenchRun): string[] {
  const status = run.postgres;
  if (!status.available) return [];
  const where = status.local
    ? `PostgreSQL runs on this machine, so its processes share the ${run.machine.cores} logical cores with the Cascade server and the load generator.`
    : 'PostgreSQL runs on another host, so every query also pays a network round trip.';
  const commit =
    status.synchronousCommit === 'off'
      ? 'With `synchronous_commit` off, a PostgreSQL commit returns before its WAL is flushed to disk.'
      : `With \`synchronous_commit\` ${status.synchronousCommit}, each PostgreSQL commit waits until its WAL is flushed to disk.`;
  return [
    '## SQLite and PostgreSQL',
    '',
    `The PostgreSQL rows use PostgreSQL ${status.version} at \`${status.location}\` (\`BENCH_DATABASE_URL\`, with that default). ` +
      'Each PostgreSQL server gets a new schema, created before it starts and dropped after it exits, which `DATABASE_URL` puts first on its search path. ' +
      `${where} The PostgreSQL processes that serve a server are the backends of its connections plus PostgreSQL's background processes (WAL writer, checkpointer and the like). ` +
      `Every ${POSTGRES_SAMPLE_INTERVAL_MS} ms during a measurement, the benchmark lists them from \`pg_stat_activity\` and reads their CPU time from \`/proc\`. ` +
      'That CPU time is the PostgreSQL CPU figure, and "other CPU" leaves it out. ' +
      'The connection figures give how many of the server\'s connections were in each state, on average over those samples: ' +
      'active (running a statement), idle in transaction (PostgreSQL waits for the server\'s next statement or commit) and idle.',
    '',
    'What else differs from SQLite:',
    '',
    `- **Connections.** Cascade opens a pool of at most ${POSTGRES_POOL_SIZE} connections, the default in \`src/store/postgres.ts\`, which no setting changes. ` +
      'On SQLite it has one connection, and better-sqlite3 runs each query synchronously on the server\'s thread. ' +
      'On PostgreSQL a query runs in a PostgreSQL process while the server\'s thread handles other requests.',
    '- **Group commit.** On both stores, the writes of the API and the worker that arrive in one event-loop turn share one transaction, each write in its own savepoint, ' +
      'and the next group starts once that transaction has committed. So each server writes through one connection at a time. ' +
      'On PostgreSQL every statement, savepoint and commit of a group is a round trip to the database, while reads and job claims use the other connections.',
    '- **Write lock.** Every group transaction first takes an advisory lock of its schema (`pg_advisory_xact_lock`) and holds it until it commits, ' +
      'so that events commit in the order of their ids and locks are always taken in one order. ' +
      'So one group transaction commits at a time, across every process using the schema. SQLite takes no such lock, because its one connection commits one transaction at a time anyway.',
    `- **Durability.** ${commit} SQLite runs in WAL mode with \`synchronous=NORMAL\`, so its commit does not sync the file: it survives a crash of the process but may be lost on power loss.`,
  ];
}

function renderAccept(run: BenchRun): string[] {
  const settings = run.acceptSettings;
  const bare = bareRate(run);
  const withPostgres = run.postgres.available;
  const lines = [
    '## Accepting sends',
    '',
    `autocannon ${run.machine.packages.autocannon ?? ''} posts the same JSON body over ${settings.connections} connections, one request in flight on each, ` +
      `for ${settings.warmupSeconds} s of warm-up (results dropped) and then ${settings.durationSeconds} s measured. Each target is a fresh server process.`,
    '',
    '- **bare Fastify echo**: Fastify with one `POST` route that parses the JSON body and returns it with 200. It has a pino logger at level warn, like Cascade, and no authentication, validation or storage.',
    '- **Cascade on SQLite, `sendAt` +1 h**: `POST /v1/messages` with `sendAt` one hour ahead, so the worker stays idle. Only the accept path runs: bearer key check, schema validation, phone number normalisation, and the commit of the message and its first job to SQLite before the 201.',
    '- **Cascade on SQLite, sending at once**: the same body without `sendAt`, so while the API accepts, the worker in the same process sends each message over SMPP to the sandbox SMSC and applies its receipt.',
    ...(withPostgres ? ['- **Cascade on PostgreSQL**: the same two requests to a server that commits to PostgreSQL instead.'] : []),
    '',
    `Body without \`sendAt\` (${Buffer.byteLength(run.acceptBody)} bytes): \`${run.acceptBody}\``,
    '',
    '2xx/s is the number of 2xx responses divided by the measured duration. The ratio divides it by the bare echo figure. autocannon records latency in whole milliseconds. ' +
      'The CPU columns give CPU time (user and system) during the measured run divided by its wall time, so 1.0 is one core busy throughout. ' +
      (withPostgres ? '"PostgreSQL CPU" is a dash on SQLite. ' : '') +
      `"Other CPU" is the busy time of the whole machine minus the server${withPostgres ? ', autocannon and PostgreSQL' : ' and autocannon'}: other processes that competed for the cores. ` +
      `Where it exceeds ${DISTURBED_CORES}, that row's figures are lower than this machine reaches when idle. ` +
      'Each server runs its JavaScript, better-sqlite3 queries included, on one thread, so a server CPU near 1.0 means that thread was the limit.' +
      (withPostgres
        ? ' On PostgreSQL a server writes one group transaction at a time. So an idle in transaction figure near 1.0 in the connection table below means ' +
          'that such a transaction was open nearly all the time while PostgreSQL waited for the server\'s next statement or commit.'
        : ''),
    '',
    `| target | 2xx/s | ratio to bare | p50 latency | p99 latency | max latency | non-2xx | connection errors | server CPU | autocannon CPU |${withPostgres ? ' PostgreSQL CPU |' : ''} other CPU |`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |${withPostgres ? ' ---: |' : ''} ---: |`,
  ];
  for (const { target, outcome } of run.accept) {
    if ('error' in outcome) {
      lines.push(`| ${TARGET_NAMES[target]} | failed: ${outcome.error.replaceAll('|', '/')} | | | | | | | | |${withPostgres ? ' |' : ''} |`);
      continue;
    }
    const r = outcome.result;
    lines.push(
      `| ${TARGET_NAMES[target]} | ${formatCount(r.okPerSecond)} | ${ratio(r.okPerSecond, bare)} | ${formatWholeMs(r.latencyP50Ms)} | ` +
        `${formatWholeMs(r.latencyP99Ms)} | ${formatWholeMs(r.latencyMaxMs)} | ${formatCount(r.non2xx)} | ${formatCount(r.errors)} | ` +
        `${r.cpu.server.toFixed(2)} | ${r.cpu.benchmark.toFixed(2)} |${withPostgres ? ` ${formatDatabaseCpu(r.cpu)} |` : ''} ${r.cpu.other.toFixed(2)} |`,
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

  const connectionLines: string[] = [];
  for (const { target, outcome } of run.accept) {
    if ('result' in outcome && targetStore(target) === 'postgres') {
      const states = outcome.result.connections;
      const cells = states === null ? '– | – | –' : [states.active, states.idleInTransaction, states.idle].map((value) => value.toFixed(2)).join(' | ');
      connectionLines.push(`| ${TARGET_NAMES[target]} | ${cells} |`);
    }
  }
  if (connectionLines.length > 0) {
    lines.push(
      '',
      'Connections of each PostgreSQL server during the measured run, on average:',
      '',
      '| target | active | idle in transaction | idle |',
      '| --- | ---: | ---: | ---: |',
      ...connectionLines,
    );
  }
  return lines;
}

/** One row of the end to end table: its label, its cell for one store's result, and whether it is shown only with PostgreSQL. */
type EndToEndRow = [label: string, cell: (r: EndToEndResult) => string, postgresOnly?: boolean];

const END_TO_END_ROWS: EndToEndRow[] = [
  ['accepted / rejected', (r) => `${formatCount(r.accepted)} / ${formatCount(r.rejected)}`],
  ['time to accept all batches (client)', (r) => `${(r.acceptWallMs / 1000).toFixed(2)} s`],
  ['wall time, first accept to last final', (r) => (r.wallMs === null ? '–' : `${(r.wallMs / 1000).toFixed(2)} s`)],
  ['messages final per second', (r) => (r.messagesPerSecond === null ? '–' : formatCount(r.messagesPerSecond))],
  ['final statuses', (r) => formatStatuses(r.statuses)],
  ['server CPU, cores busy on average', (r) => r.cpu.server.toFixed(2)],
  ['PostgreSQL CPU, cores busy on average', (r) => formatDatabaseCpu(r.cpu), true],
  ["other processes' CPU, cores busy on average", (r) => formatOtherCpu(r.cpu)],
  ['PostgreSQL connections on average, active / idle in transaction / idle', (r) => formatConnections(r.connections), true],
  ['accept → `submit_sm` p50 / p99 / max', (r) => latencyCells(r.acceptToSubmit).replaceAll(' | ', ' / ')],
  ['accept → final p50 / p99 / max', (r) => latencyCells(r.acceptToFinal).replaceAll(' | ', ' / ')],
  ['`submit_sm` received by the SMSC', (r) => formatCount(r.submits)],
  ['destinations that got more than one `submit_sm`', (r) => formatCount(r.duplicateDestinations)],
  ['messages with more than one SMS attempt', (r) => formatCount(r.retried)],
  ['messages missing from the list / without a matching `submit_sm`', (r) => `${formatCount(r.missing)} / ${formatCount(r.unmatched)}`],
  ['wait stalled or timed out', (r) => formatWait(r.wait, r.accepted, r.settings)],
];

/** Returns the end to end runs that produced a result, in the order they ran. */
function endToEndResults(run: BenchRun): Array<{ store: StoreKind; result: EndToEndResult }> {
  return run.endToEnd.flatMap(({ store, outcome }) => ('result' in outcome ? [{ store, result: outcome.result }] : []));
}

function renderEndToEnd(run: BenchRun): string[] {
  const settings = run.endToEndSettings;
  const stores = run.endToEnd.map(({ store }) => STORE_NAMES[store]);
  const lines = [
    '## End to end SMS',
    '',
    `${formatCount(settings.messages)} messages with \`"rules": ["sms"]\`, each to its own fictional US number (555-0100 to 555-0199 in many area codes), ` +
      `posted to \`POST /v1/messages/batch\` in ${Math.ceil(settings.messages / settings.chunkSize)} sequential requests of ${formatCount(settings.chunkSize)}, ` +
      (stores.length > 1 ? `once to a fresh server on each of ${stores.join(' and ')}. ` : `to a fresh server on ${stores.join('')}. `) +
      'The sandbox SMSC accepts each `submit_sm` and sends a DELIVRD receipt 300 ms later (its default delay), so a message is final when that receipt is applied. ' +
      `The wait for every message to become final ends after ${settings.timeoutMs / 1000} s, or earlier when no message became final for ${settings.stallTimeoutMs / 1000} s. ` +
      'Wall time, rate and latencies count only the messages that became final, while the CPU and connection figures cover the whole wait.',
    '',
    'All times come from the server process clock: accept is the message\'s `sentOn`, submit is when the sandbox SMSC received the `submit_sm` ' +
      '(matched by the `message_id` it returned, which Cascade stores as the attempt\'s `providerMessageId`), and final is `completedAt`. ' +
      'All messages of one batch share one `sentOn`, so the latencies include the time a message waits in the queue behind the rest of its burst.',
    '',
  ];
  const results = endToEndResults(run);
  if (results.length > 0) {
    const rows = END_TO_END_ROWS.filter(([, , postgresOnly]) => !postgresOnly || results.some(({ store }) => store === 'postgres'));
    lines.push(
      `| figure | ${results.map(({ store }) => STORE_NAMES[store]).join(' | ')} |`,
      `| --- |${results.map(() => ' ---: |').join('')}`,
      ...rows.map(([label, cell]) => `| ${label} | ${results.map(({ result }) => cell(result)).join(' | ')} |`),
    );
  }
  const stuck = results.filter(({ result }) => (result.statuses.sent ?? 0) > 0 && result.wait.ended !== 'all-finished');
  if (stuck.length > 0) {
    lines.push(
      '',
      `On ${stuck.map(({ store }) => STORE_NAMES[store]).join(' and ')}, the messages still \`sent\` when the wait ended had their \`submit_sm\` accepted, ` +
        'but no DELIVRD receipt was applied to them.',
    );
  }
  for (const { store, outcome } of run.endToEnd) {
    if ('error' in outcome) lines.push('', `The measurement on ${STORE_NAMES[store]} failed: ${outcome.error}`);
  }
  return lines;
}

function renderMemory(run: BenchRun): string[] {
  const lines = [
    '## Memory',
    '',
    'Resident set size (`process.memoryUsage.rss()`) of the Cascade server process of each end to end run, which also runs the sandbox SMSC and SMTP relay. ' +
      'It is read before the first batch, sampled while the messages are processed, and read again once all are final. ' +
      'The server loads its TypeScript through tsx, as `npm start` does, so the figure includes the memory tsx uses.' +
      (run.postgres.available ? ' On PostgreSQL it leaves out the memory of PostgreSQL\'s own processes.' : ''),
    '',
  ];
  const results = endToEndResults(run);
  if (results.length === 0) return [...lines, 'Not measured, because the end to end runs failed.'];
  lines.push('| store | before | peak during | after |', '| --- | ---: | ---: | ---: |');
  for (const { store, result } of results) {
    const { memory } = result;
    lines.push(
      `| ${STORE_NAMES[store]} | ${formatMiB(memory.beforeRss)} | ${formatMiB(memory.samples.peakRss)} (${memory.samples.count} samples, every ${memory.samples.intervalMs} ms) | ${formatMiB(memory.afterRss)} |`,
    );
  }
  return lines;
}

function renderFallback(run: BenchRun): string[] {
  const settings = run.fallbackSettings;
  const lines = [
    '## Time to fall back',
    '',
    `${run.postgres.available ? 'On SQLite only: ' : ''}${formatCount(settings.messages)} messages with \`"rules": ["sms", "email"]\` to +12025550102, which the sandbox SMSC accepts and answers with an UNDELIV receipt after 1 s, ` +
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
    '| messages timed | p50 | p99 | max | final statuses | without a failure receipt or email attempt | wait stalled or timed out | server CPU | other CPU |',
    '| ---: | ---: | ---: | ---: | --- | ---: | --- | ---: | ---: |',
    `| ${formatCount(r.receiptToFallback.count)} | ${latencyCells(r.receiptToFallback)} | ${formatStatuses(r.statuses)} | ${formatCount(r.incomplete)} | ` +
      `${formatWait(r.wait, r.accepted, r.settings)} | ${r.cpu.server.toFixed(2)} | ${formatOtherCpu(r.cpu)} |`,
  );
  return lines;
}

/** Returns each measurement's name with its CPU shares and server log, in the order they ran. */
function measurements(run: BenchRun): Array<{ name: string; cpu: CpuShares; log: ServerLog }> {
  const list: Array<{ name: string; cpu: CpuShares; log: ServerLog }> = [];
  for (const { target, outcome } of run.accept) {
    if ('result' in outcome) list.push({ name: TARGET_NAMES[target], cpu: outcome.result.cpu, log: outcome.result.serverLog });
  }
  for (const { store, result } of endToEndResults(run)) list.push({ name: `end to end on ${STORE_NAMES[store]}`, cpu: result.cpu, log: result.serverLog });
  if ('result' in run.fallback) list.push({ name: 'fallback', cpu: run.fallback.result.cpu, log: run.fallback.result.serverLog });
  return list;
}

function renderServerLogs(run: BenchRun): string[] {
  const logs = measurements(run);
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
  const skipped = postgresSkipped(run);
  const stores = renderStores(run);
  const lines = [
    '# Benchmarks',
    '',
    '`npm run bench` runs `bench/run.ts`, which measures Cascade on the machine at hand and overwrites this page. ' +
      'Every figure below comes from one run on the machine in the first table. Figures move between runs and differ between machines, ' +
      'so compare the figures of one run with each other, such as Cascade against the bare Fastify route, rather than with another machine\'s.',
    '',
    'Each measurement starts a fresh server in its own child process on 127.0.0.1 with log level warn. ' +
      'A Cascade server gets an empty data folder for its key files and runs the sandbox SMSC and SMTP relay in the same process. ' +
      (run.postgres.available
        ? 'On SQLite, its database file goes into that folder. On PostgreSQL, its tables go into a new schema. '
        : 'Its SQLite database file goes into that folder too. ') +
      `The load generator runs in the benchmark's own process, so it shares the ${run.machine.cores} logical cores with the server.`,
    '',
    ...(skipped === null ? [] : [skipped, '']),
    ...renderMachine(run),
    '',
    ...(stores.length === 0 ? [] : [...stores, '']),
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

/** Renders the short summary printed at the end of `npm run bench`. */
export function renderSummary(run: BenchRun): string {
  const bare = bareRate(run);
  const lines = [`Cascade benchmark on ${run.machine.cores} cores, ${formatMiB(run.machine.memoryBytes)}, Node.js ${run.machine.node}:`];
  const skipped = postgresSkipped(run);
  if (skipped !== null) lines.push(`  ${skipped.replaceAll('`', '')}`);
  for (const { target, outcome } of run.accept) {
    const name = TARGET_NAMES[target].replaceAll('`', '');
    if ('error' in outcome) {
      lines.push(`  ${name}: failed: ${outcome.error}`);
      continue;
    }
    const r = outcome.result;
    const database = targetStore(target) === 'postgres' ? `, PostgreSQL CPU ${formatDatabaseCpu(r.cpu)}` : '';
    lines.push(
      `  ${name}: ${formatCount(r.okPerSecond)} 2xx/s (${ratio(r.okPerSecond, bare)} of bare), ` +
        `p50 ${formatWholeMs(r.latencyP50Ms)}, p99 ${formatWholeMs(r.latencyP99Ms)}, non-2xx ${r.non2xx}, errors ${r.errors}, ` +
        `server CPU ${r.cpu.server.toFixed(2)}${database}`,
    );
  }
  for (const { store, outcome } of run.endToEnd) {
    const name = `end to end on ${STORE_NAMES[store]}`;
    if ('error' in outcome) {
      lines.push(`  ${name}: failed: ${outcome.error}`);
      continue;
    }
    const r = outcome.result;
    lines.push(
      `  ${name}: ${formatCount(r.accepted)} SMS, ${formatStatuses(r.statuses)}, ` +
        `${r.messagesPerSecond === null ? '–' : formatCount(r.messagesPerSecond)} messages/s, ` +
        `accept → submit_sm p50 ${formatMs(r.acceptToSubmit.p50)} p99 ${formatMs(r.acceptToSubmit.p99)}, ` +
        `accept → final p50 ${formatMs(r.acceptToFinal.p50)} p99 ${formatMs(r.acceptToFinal.p99)}` +
        `${r.wait.ended === 'all-finished' ? '' : `, wait ${formatWait(r.wait, r.accepted, r.settings)}`}`,
      `    server CPU ${r.cpu.server.toFixed(2)}` +
        `${store === 'postgres' ? `, PostgreSQL CPU ${formatDatabaseCpu(r.cpu)}, connections active / idle in transaction / idle ${formatConnections(r.connections)}` : ''}; ` +
        `memory (RSS): before ${formatMiB(r.memory.beforeRss)}, peak ${formatMiB(r.memory.samples.peakRss)}, after ${formatMiB(r.memory.afterRss)}`,
    );
  }
  if ('result' in run.fallback) {
    const r = run.fallback.result;
    lines.push(
      `  fallback: receipt → email attempt p50 ${formatMs(r.receiptToFallback.p50)} p99 ${formatMs(r.receiptToFallback.p99)} ` +
        `over ${r.receiptToFallback.count} messages${r.wait.ended === 'all-finished' ? '' : `, wait ${formatWait(r.wait, r.accepted, r.settings)}`}`,
    );
  } else {
    lines.push(`  fallback: failed: ${run.fallback.error}`);
  }
  const all = measurements(run);
  for (const { name, log } of all.filter(({ log }) => log.warnings + log.errors > 0)) {
    lines.push(`  server log (${name.replaceAll('`', '')}): ${log.warnings} warnings, ${log.errors} errors`);
  }
  const disturbed = all.filter(({ cpu }) => cpu.other > DISTURBED_CORES).map(({ name }) => name.replaceAll('`', ''));
  if (disturbed.length > 0) {
    lines.push(`  warning: other processes used more than ${DISTURBED_CORES} cores during: ${disturbed.join(', ')}; those figures are lower than on an idle machine`);
  }
  lines.push(`  took ${run.totalSeconds.toFixed(0)} s; report written to docs/benchmarks.md`);
  return lines.join('\n');
}
