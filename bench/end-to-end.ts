import { performance } from 'node:perf_hooks';
import { CascadeClient } from './api-client.js';
import type { MemorySamples } from './ipc.js';
import { startCpuWindow, type CpuShares } from './cpu.js';
import { delay, ServerProcess, type ServerLog } from './server-handle.js';
import { summarize, type LatencySummary } from './stats.js';
import { fictionalNumbers } from './workload.js';

export interface EndToEndSettings {
  messages: number;
  /** Messages per `POST /v1/messages/batch` request. */
  chunkSize: number;
  /** Maximum wait for every message to become final after the last batch was accepted. */
  timeoutMs: number;
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
  timedOut: boolean;
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
  serverLog: ServerLog;
}

/**
 * Sends `settings.messages` SMS through the batch route to distinct numbers that the sandbox
 * SMSC delivers, and waits until every message is final. Throughput and latency come from the
 * server process's timestamps: `sentOn` (accept), the SMSC's receive time of the `submit_sm`,
 * and `completedAt` (the DELIVRD receipt applied).
 */
export async function measureEndToEnd(settings: EndToEndSettings): Promise<EndToEndResult> {
  const server = await ServerProcess.start('cascade', 'end-to-end');
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

    const timedOut = !(await waitForFinished(client, acceptedIds.length, settings));
    const clientWallMs = performance.now() - started;
    const cpu = await endCpuWindow();
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
      timedOut,
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
      serverLog: server.log,
    };
  } finally {
    await server.stop();
  }
}

/**
 * Polls `cascade_messages_finished_total` until it reaches `expected`. Returns false when
 * `settings.timeoutMs` passes first. The server is fresh, so the counter counts only these messages.
 */
export async function waitForFinished(
  client: CascadeClient,
  expected: number,
  settings: { timeoutMs: number; pollIntervalMs: number },
): Promise<boolean> {
  const deadline = performance.now() + settings.timeoutMs;
  while (performance.now() < deadline) {
    const counters = await client.counters(['cascade_messages_finished_total']);
    if ((counters.get('cascade_messages_finished_total') ?? 0) >= expected) return true;
    await delay(settings.pollIntervalMs);
  }
  return false;
}
