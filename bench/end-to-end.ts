import { performance } from 'node:perf_hooks';
import { CascadeClient } from './api-client.js';
import type { MemorySamples, StoreKind } from './ipc.js';
import { startCpuWindow, type CpuShares } from './cpu.js';
import type { ConnectionStates } from './postgres.js';
import { delay, ServerProcess, type ServerLog } from './server-handle.js';
import { summarize, type LatencySummary } from './stats.js';
import { fictionalNumbers } from './workload.js';

export interface EndToEndSettings {
  messages: number;
  /** Messages per `POST /v1/messages/batch` request. */
  chunkSize: number;
  /** Maximum wait for every message to become final after the last batch was accepted. */
  timeoutMs: number;
  /** The wait also ends when no message became final for this long, since the rest are then stuck. */
  stallTimeoutMs: number;
  pollIntervalMs: number;
  memorySampleIntervalMs: number;
}

export interface EndToEndResult {
  settings: EndToEndSettings;
  /** Batch requests whose response status was not 202, with the status and a shortened body. */
  batchFailures: string[];
  accepted: number;
  rejected: number;
  /** Wall time of the batch requests as the client saw them, in ms. */
  acceptWallMs: number;
  /** Outcome of the wait for every message to become final. */
  wait: WaitOutcome;
  /** Messages that were accepted but missing from `GET /v1/messages`. */
  missing: number;
  /** Accepted messages by status after the wait. */
  statuses: Record<string, number>;
  /** From the first message's `sentOn` to the last `completedAt`, in ms; null when none finished. */
  wallMs: number | null;
  /** Final messages per second over `wallMs`. */
  messagesPerSecond: number | null;
  /** From the first batch request to the poll that saw every message final, as the client measured it. */
  clientWallMs: number;
  acceptToSubmit: LatencySummary;
  acceptToFinal: LatencySummary;
  /** Accepted messages whose SMS attempt could not be matched to a `submit_sm` by message id. */
  unmatched: number;
  submits: number;
  /** Messages with more than one attempt on their SMS step. */
  retried: number;
  /** Destinations that received more than one `submit_sm`. */
  duplicateDestinations: number;
  memory: { beforeRss: number; afterRss: number; samples: MemorySamples };
  /** CPU shares from the first batch to the poll that saw every message final. */
  cpu: CpuShares;
  /** PostgreSQL only: states of the server's connections over the same time as `cpu`. Null on SQLite or when sampling failed. */
  connections: ConnectionStates | null;
  serverLog: ServerLog;
}

/**
 * Sends `settings.messages` SMS through the batch route to distinct numbers that the sandbox
 * SMSC delivers, and waits until every message is final. Throughput and latency come from the
 * server process's timestamps: `sentOn` (accept), the SMSC's receive time of the `submit_sm`,
 * and `completedAt` (the DELIVRD receipt applied). On PostgreSQL the server gets a new schema in
 * the database at `databaseUrl`.
 */
export async function measureEndToEnd(settings: EndToEndSettings, store: StoreKind, databaseUrl: string | null): Promise<EndToEndResult> {
  const server =
    store === 'sqlite'
      ? await ServerProcess.start('cascade-sqlite', 'end-to-end on SQLite')
      : await ServerProcess.start('cascade-postgres', 'end-to-end on PostgreSQL', databaseUrl);
  try {
    const client = new CascadeClient(server.url, server.apiKey ?? '');
    const numbers = fictionalNumbers(settings.messages);
    const requests = numbers.map((phoneNumber, index) => ({
      body: `Cascade benchmark message ${index + 1} of ${settings.messages}.`,
      to: { phoneNumber },
      rules: ['sms'],
    }));

    const before = await server.usage();
    await server.startSampling(settings.memorySampleIntervalMs);
    const endCpuWindow = await startCpuWindow(server);

    const started = performance.now();
    const acceptedIds: string[] = [];
    const batchFailures: string[] = [];
    let rejected = 0;
    for (let offset = 0; offset < requests.length; offset += settings.chunkSize) {
      const batch = await client.sendBatch(requests.slice(offset, offset + settings.chunkSize));
      if (batch.status !== 202) batchFailures.push(`${batch.status}: ${batch.rejected[0]?.errors[0]?.detail ?? ''}`);
      acceptedIds.push(...batch.accepted.map((item) => item.messageId));
      rejected += batch.status === 202 ? batch.rejected.length : Math.min(settings.chunkSize, requests.length - offset);
    }
    const acceptWallMs = performance.now() - started;

    const wait = await waitForFinished(client, acceptedIds.length, settings);
    const clientWallMs = performance.now() - started;
    const { cpu, connections } = await endCpuWindow();
    const samples = await server.stopSampling();
    const after = await server.usage();

    const listed = await client.listAll(Math.ceil(settings.messages / 100) + 10);
    const submits = await server.submits();
    const byId = new Map(listed.map((message) => [message.messageId, message]));
    const submitTimes = new Map(submits.map((submit) => [submit.messageId, submit.receivedAt]));

    const statuses: Record<string, number> = {};
    const toSubmit: number[] = [];
    const toFinal: number[] = [];
    let missing = 0;
    let unmatched = 0;
    let retried = 0;
    let firstSentOn = Infinity;
    let lastCompletedAt = -Infinity;
    for (const id of acceptedIds) {
      const message = byId.get(id);
      if (message === undefined) {
        missing += 1;
        continue;
      }
      statuses[message.status] = (statuses[message.status] ?? 0) + 1;
      const sentOn = Date.parse(message.sentOn);
      firstSentOn = Math.min(firstSentOn, sentOn);
      if (message.completedAt !== null) {
        const completedAt = Date.parse(message.completedAt);
        lastCompletedAt = Math.max(lastCompletedAt, completedAt);
        toFinal.push(completedAt - sentOn);
      }
      const attempts = message.steps[0]?.attempts ?? [];
      if (attempts.length > 1) retried += 1;
      const sent = attempts.find((attempt) => attempt.providerMessageId !== null);
      const receivedAt = sent?.providerMessageId == null ? undefined : submitTimes.get(sent.providerMessageId);
      if (receivedAt === undefined) unmatched += 1;
      else toSubmit.push(receivedAt - sentOn);
    }

    const perDestination = new Map<string, number>();
    for (const submit of submits) perDestination.set(submit.destination, (perDestination.get(submit.destination) ?? 0) + 1);
    const wallMs = toFinal.length > 0 ? lastCompletedAt - firstSentOn : null;

    return {
      settings,
      batchFailures,
      accepted: acceptedIds.length,
      rejected,
      acceptWallMs,
      wait,
      missing,
      statuses,
      wallMs,
      messagesPerSecond: wallMs === null || wallMs <= 0 ? null : toFinal.length / (wallMs / 1000),
      clientWallMs,
      acceptToSubmit: summarize(toSubmit),
      acceptToFinal: summarize(toFinal),
      unmatched,
      submits: submits.length,
      retried,
      duplicateDestinations: [...perDestination.values()].filter((count) => count > 1).length,
      memory: { beforeRss: before.rss, afterRss: after.rss, samples },
      cpu,
      connections,
      serverLog: server.log,
    };
  } finally {
    await server.stop();
  }
}

/** Outcome of waiting for messages to become final. */
export interface WaitOutcome {
  /** `all-finished`, `stalled` when no message became final for `stallTimeoutMs`, or `timed-out` after `timeoutMs`. */
  ended: 'all-finished' | 'stalled' | 'timed-out';
  /** `cascade_messages_finished_total` at the last poll. */
  finished: number;
}

/**
 * Polls `cascade_messages_finished_total` until it reaches `expected`, it stops rising for
 * `settings.stallTimeoutMs`, or `settings.timeoutMs` passes. The server is fresh, so the counter
 * counts only these messages.
 */
export async function waitForFinished(
  client: CascadeClient,
  expected: number,
  settings: { timeoutMs: number; stallTimeoutMs: number; pollIntervalMs: number },
): Promise<WaitOutcome> {
  const deadline = performance.now() + settings.timeoutMs;
  let finished = 0;
  let lastRise = performance.now();
  while (performance.now() < deadline) {
    const counters = await client.counters(['cascade_messages_finished_total']);
    const current = counters.get('cascade_messages_finished_total') ?? 0;
    if (current >= expected) return { ended: 'all-finished', finished: current };
    if (current > finished) {
      finished = current;
      lastRise = performance.now();
    } else if (performance.now() - lastRise >= settings.stallTimeoutMs) {
      return { ended: 'stalled', finished };
    }
    await delay(settings.pollIntervalMs);
  }
  return { ended: 'timed-out', finished };
}
