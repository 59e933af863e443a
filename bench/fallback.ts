import { performance } from 'node:perf_hooks';
import { CascadeClient } from './api-client.js';
import { startCpuWindow, type CpuShares } from './cpu.js';
import { waitForFinished, type WaitOutcome } from './end-to-end.js';
import { delay, ServerProcess, type ServerLog } from './server-handle.js';
import { summarize, type LatencySummary } from './stats.js';
import { UNDELIVERABLE_NUMBER } from './workload.js';

export interface FallbackSettings {
  messages: number;
  /** Messages per batch request; batches start `batchIntervalMs` apart, so receipts arrive spread out, not all at once. */
  batchSize: number;
  batchIntervalMs: number;
  timeoutMs: number;
  /** The wait also ends when no message became final for this long. */
  stallTimeoutMs: number;
  pollIntervalMs: number;
}

export interface FallbackResult {
  settings: FallbackSettings;
  accepted: number;
  /** Outcome of the wait for every message to become final. */
  wait: WaitOutcome;
  statuses: Record<string, number>;
  /** From the SMS attempt's failure receipt (`receivedAt`) to the email attempt's `startedAt`. */
  receiptToFallback: LatencySummary;
  /** Messages without a failure receipt on the SMS step or without an email attempt. */
  incomplete: number;
  /** CPU shares from the first batch to the poll that saw every message final. */
  cpu: CpuShares;
  serverLog: ServerLog;
}

/**
 * Sends SMS-then-email messages to the sandbox number that gets an UNDELIV receipt, so every
 * message falls back to email, and times the step from receipt to the email attempt. The
 * messages go out in small batches at a steady pace, so the figure shows the fallback path
 * rather than a queue of receipts that all arrived at once.
 */
export async function measureFallback(settings: FallbackSettings): Promise<FallbackResult> {
  const server = await ServerProcess.start('cascade-sqlite', 'fallback');
  try {
    const client = new CascadeClient(server.url, server.apiKey ?? '');
    const requests = Array.from({ length: settings.messages }, (_, index) => ({
      body: `Cascade fallback benchmark message ${index + 1}.`,
      to: { phoneNumber: UNDELIVERABLE_NUMBER, email: `fallback-${index + 1}@sandbox.test` },
      rules: ['sms', 'email'],
    }));
    const accepted: string[] = [];
    const endCpuWindow = await startCpuWindow(server);
    const started = performance.now();
    for (let offset = 0; offset < requests.length; offset += settings.batchSize) {
      const due = started + (offset / settings.batchSize) * settings.batchIntervalMs;
      await delay(Math.max(0, due - performance.now()));
      const batch = await client.sendBatch(requests.slice(offset, offset + settings.batchSize));
      if (batch.status !== 202) throw new Error(`a fallback batch request returned ${batch.status}: ${batch.rejected[0]?.errors[0]?.detail ?? ''}`);
      accepted.push(...batch.accepted.map((item) => item.messageId));
    }

    const wait = await waitForFinished(client, accepted.length, settings);
    const { cpu } = await endCpuWindow();
    const byId = new Map((await client.listAll(Math.ceil(settings.messages / 100) + 10)).map((message) => [message.messageId, message]));

    const statuses: Record<string, number> = {};
    const delays: number[] = [];
    let incomplete = 0;
    for (const id of accepted) {
      const message = byId.get(id);
      const status = message?.status ?? 'missing';
      statuses[status] = (statuses[status] ?? 0) + 1;

      const failure = message?.steps[0]?.attempts
        .flatMap((attempt) => attempt.receipts)
        .find((receipt) => receipt.state === 'failed' || receipt.state === 'expired');
      const emailAttempt = message?.steps[1]?.attempts[0];
      if (failure === undefined || emailAttempt === undefined) {
        incomplete += 1;
        continue;
      }
      delays.push(Date.parse(emailAttempt.startedAt) - Date.parse(failure.receivedAt));
    }

    return {
      settings,
      accepted: accepted.length,
      wait,
      statuses,
      receiptToFallback: summarize(delays),
      incomplete,
      cpu,
      serverLog: server.log,
    };
  } finally {
    await server.stop();
  }
}
