import { SecretBoxError, type SecretBox } from '../secret-box.js';
import { openWebhookSecret } from './secret-storage.js';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { Agent } from 'undici';
import { postWebhook, type TryResult } from './request.js';
import { parseRetryAfterMs, retryDelayMs, type RetrySchedule } from './retry.js';
import { Sleeper } from './sleeper.js';
import type { ClaimedDelivery, DeliveryOutcome, WebhookStore } from './types.js';

export interface SenderOptions {
  /** Requests in flight at once, over all endpoints. */
  concurrency: number;
  /** Requests in flight at once to one endpoint, so that one slow receiver cannot take every slot. */
  maxPerEndpoint: number;
  /** Limit of one try, from connecting to the response headers. */
  timeoutMs: number;
  /** How long a claimed delivery stays leased; longer than `timeoutMs`. */
  leaseMs: number;
  /** Maximum sleep between claims when nothing is known to be due. */
  idleMs: number;
  retry: RetrySchedule;
  /** How long succeeded deliveries are kept before they are deleted. */
  retainSucceededMs: number;
}

/** How often succeeded deliveries past `retainSucceededMs` are deleted, and how many at a time. */
const PRUNE_INTERVAL_MS = 10 * 60 * 1000;
const PRUNE_BATCH = 1000;

/** Failure log lines per endpoint and minute; further failures are counted into the next line. */
const FAILURE_LOG_WINDOW_MS = 60_000;

/**
 * Sends due deliveries, each to its endpoint, signed, with up to `concurrency` requests in
 * flight. A 2xx response ends a delivery as `succeeded`. Any other response, a timeout or a
 * connection error schedules the next try by the retry schedule, or a `Retry-After` the
 * receiver sent when that is later. After the last try the delivery is `dead`.
 *
 * The store hands out a message's events to one endpoint one at a time in `seq` order, so a
 * receiver gets them in timeline order. The sender runs apart from the message worker, so a
 * slow or failing receiver delays only webhooks.
 */
export class WebhookSender {
  readonly owner = `webhooks-${randomUUID()}`;
  readonly #agent: Agent;
  readonly #sleeper = new Sleeper();
  readonly #stop = new AbortController();
  readonly #tasks = new Set<Promise<void>>();
  /** Requests in flight by endpoint id. */
  readonly #inFlight = new Map<string, number>();
  readonly #failureLog = new Map<string, { windowStart: number; suppressed: number }>();
  #running = false;
  #loop: Promise<void> | null = null;
  #nextPruneAt = 0;

  constructor(
    private readonly store: WebhookStore,
    private readonly dialect: 'sqlite' | 'postgres',
    private readonly logger: Logger,
    private readonly now: () => number,
    private readonly random: () => number,
    private readonly options: SenderOptions,
    private readonly box: SecretBox,
  ) {
    this.#agent = new Agent({ connect: { timeout: options.timeoutMs }, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });
  }

  async start(): Promise<void> {
    if (this.#running) return;
    if (this.dialect === 'sqlite') {
      // SQLite runs in one process, so every lease left in the file belongs to a process that died.
      const released = await this.store.releaseAllDeliveryLeases();
      if (released > 0) this.logger.warn({ deliveries: released }, 'released webhook deliveries leased by a stopped process');
    }
    this.#running = true;
    this.#loop = this.#run();
    this.logger.info({ owner: this.owner, concurrency: this.options.concurrency, maxAttempts: this.options.retry.maxAttempts }, 'webhook sender started');
  }

  /** Stop claiming, cancel the requests in flight and leave their deliveries to be tried again. A stopped sender cannot start again. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#stop.abort();
    this.#sleeper.wake();
    await this.#loop;
    await Promise.allSettled([...this.#tasks]);
    await this.#agent.close();
    this.logger.info({ owner: this.owner }, 'webhook sender stopped');
  }

  /** Claim now instead of at the next poll. The dispatcher calls this after adding deliveries; replays wait for the poll. */
  wake(): void {
    this.#sleeper.wake();
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const free = this.options.concurrency - this.#tasks.size;
      if (free <= 0) {
        await Promise.race(this.#tasks);
        continue;
      }

      let claimed: ClaimedDelivery[] = [];
      await this.#pruneWhenDue();
      try {
        claimed = await this.store.claimDeliveries({
          owner: this.owner,
          now: this.now(),
          limit: free,
          leaseMs: this.options.leaseMs,
          maxPerEndpoint: this.options.maxPerEndpoint,
          inFlight: this.#inFlight,
        });
      } catch (error) {
        this.logger.error({ err: error }, 'claiming webhook deliveries failed, retrying at the next poll');
        await this.#sleeper.sleep(this.options.idleMs);
        continue;
      }
      for (const delivery of claimed) this.#startTask(delivery);
      if (claimed.length === free) continue;

      await this.#sleeper.sleep(await this.#idleDelay());
    }
  }

  /** Time until the next pending delivery is due, at most `idleMs`. Finished tries and new deliveries wake the loop earlier. */
  async #idleDelay(): Promise<number> {
    try {
      const next = await this.store.nextDeliveryAt();
      if (next === null) return this.options.idleMs;
      const untilDue = next - this.now();
      // Due but not claimed: its endpoint is at `maxPerEndpoint`, and a finishing try wakes the loop.
      return untilDue <= 0 ? this.options.idleMs : Math.min(untilDue, this.options.idleMs);
    } catch (error) {
      this.logger.error({ err: error }, 'reading the next webhook delivery time failed');
      return this.options.idleMs;
    }
  }

  #startTask(delivery: ClaimedDelivery): void {
    this.#inFlight.set(delivery.endpointId, (this.#inFlight.get(delivery.endpointId) ?? 0) + 1);
    const task = this.#deliver(delivery).finally(() => {
      this.#tasks.delete(task);
      const left = (this.#inFlight.get(delivery.endpointId) ?? 1) - 1;
      if (left > 0) this.#inFlight.set(delivery.endpointId, left);
      else this.#inFlight.delete(delivery.endpointId);
      // The finished try may have unblocked the next event of its message, or freed a slot.
      this.#sleeper.wake();
    });
    this.#tasks.add(task);
  }

  async #deliver(delivery: ClaimedDelivery): Promise<void> {
    const attempt = delivery.attempts + 1;
    const context = { deliveryId: delivery.id, endpointId: delivery.endpointId, spaceId: delivery.spaceId, type: delivery.type, messageId: delivery.messageId };
    const started = performance.now();
    try {
      let secret: string;
      try {
        secret = openWebhookSecret(this.box, delivery.secret, delivery.spaceId, delivery.endpointId);
      } catch (error) {
        if (!(error instanceof SecretBoxError)) throw error;
        // Counted as a failed try, so that the delivery backs off and ends as a dead letter
        // rather than being claimed again at every lease.
        this.logger.error({ err: error, ...context, attempt }, 'webhook secret cannot be decrypted; the try fails');
        const outcome = this.#outcomeOf({ kind: 'error', error: `the endpoint secret cannot be decrypted: ${error.message}` }, attempt);
        await this.store.finishDelivery(delivery.id, this.owner, outcome);
        return;
      }
      const result = await postWebhook(
        this.#agent,
        { url: delivery.url, id: delivery.id, secret, body: delivery.body, now: Date.now() },
        this.options.timeoutMs,
        this.#stop.signal,
      );
      if (result.kind === 'aborted') {
        await this.store.releaseDelivery(delivery.id, this.owner);
        return;
      }

      const outcome = this.#outcomeOf(result, attempt);
      const recorded = await this.store.finishDelivery(delivery.id, this.owner, outcome);
      const durationMs = Math.round(performance.now() - started);
      if (!recorded) {
        this.logger.warn({ ...context, attempt }, 'webhook delivery lease was lost before the try was recorded; the delivery is tried again');
        return;
      }
      this.#logOutcome(context, outcome, attempt, durationMs);
    } catch (error) {
      // The lease expires and the delivery is claimed again.
      this.logger.error({ err: error, ...context, attempt }, 'recording a webhook try failed');
    }
  }

  #outcomeOf(result: Exclude<TryResult, { kind: 'aborted' }>, attempt: number): DeliveryOutcome {
    const now = this.now();
    if (result.kind === 'response' && result.status >= 200 && result.status < 300) {
      return { status: 'succeeded', responseStatus: result.status, now };
    }

    const responseStatus = result.kind === 'response' ? result.status : null;
    const error = result.kind === 'response' ? describeStatus(result.status) : result.error;
    const { retry } = this.options;
    if (attempt >= retry.maxAttempts) return { status: 'dead', responseStatus, error, now };

    let delayMs = retryDelayMs(retry, attempt, this.random());
    const retryAfterMs = result.kind === 'response' ? parseRetryAfterMs(result.retryAfter, now) : null;
    if (retryAfterMs !== null) delayMs = Math.max(delayMs, Math.min(retryAfterMs, retry.maxDelayMs));
    return { status: 'pending', responseStatus, error, runAt: now + delayMs, now };
  }

  #logOutcome(context: Record<string, unknown>, outcome: DeliveryOutcome, attempt: number, durationMs: number): void {
    const maxAttempts = this.options.retry.maxAttempts;
    switch (outcome.status) {
      case 'succeeded':
        this.logger.debug({ ...context, attempt, status: outcome.responseStatus, durationMs }, 'webhook delivered');
        return;
      case 'pending': {
        const suppressed = this.#takeFailureLogSlot(String(context.endpointId), outcome.now);
        if (suppressed === null) return;
        this.logger.warn(
          { ...context, attempt, maxAttempts, status: outcome.responseStatus, error: outcome.error, retryInMs: outcome.runAt - outcome.now, durationMs, suppressed },
          'webhook try failed, retrying later',
        );
        return;
      }
      case 'dead':
        this.logger.warn(
          { ...context, attempt, maxAttempts, status: outcome.responseStatus, error: outcome.error, durationMs },
          'webhook delivery failed on its last try and is kept as a dead letter',
        );
        return;
      default: {
        const unknown: never = outcome;
        throw new Error(`unknown delivery outcome ${JSON.stringify(unknown)}`);
      }
    }
  }

  /**
   * Allow one failure line per endpoint and `FAILURE_LOG_WINDOW_MS`. Returns how many failures
   * were left unlogged before this one, or null when this one is left unlogged too.
   */
  #takeFailureLogSlot(endpointId: string, now: number): number | null {
    const entry = this.#failureLog.get(endpointId);
    if (entry !== undefined && now - entry.windowStart < FAILURE_LOG_WINDOW_MS) {
      entry.suppressed += 1;
      return null;
    }
    if (this.#failureLog.size > 10_000) this.#failureLog.clear();
    this.#failureLog.set(endpointId, { windowStart: now, suppressed: 0 });
    return entry?.suppressed ?? 0;
  }

  async #pruneWhenDue(): Promise<void> {
    const now = this.now();
    if (now < this.#nextPruneAt) return;
    this.#nextPruneAt = now + PRUNE_INTERVAL_MS;
    try {
      const deleted = await this.store.pruneSucceeded(now - this.options.retainSucceededMs, PRUNE_BATCH);
      if (deleted > 0) this.logger.info({ deleted }, 'deleted old succeeded webhook deliveries');
    } catch (error) {
      this.logger.error({ err: error }, 'deleting old succeeded webhook deliveries failed, trying again later');
    }
  }
}

function describeStatus(status: number): string {
  if (status >= 300 && status < 400) return `HTTP ${status}: redirects are not followed, so register the final URL`;
  return `HTTP ${status}`;
}
