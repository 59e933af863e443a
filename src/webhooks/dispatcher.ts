import type { Logger } from 'pino';
import { uuidv7 } from '../ids.js';
import { payloadForEvent, payloadForInbound, SOURCE_EVENT_TYPES, type WebhookPayload } from './events.js';
import { Sleeper } from './sleeper.js';
import type { NewWebhookDelivery, OutboxSource, Subscription, WebhookStore } from './types.js';

export interface DispatcherOptions {
  /** Outbox rows read per transaction. */
  batchSize: number;
  /** Sleep between reads when the outbox is drained. */
  pollMs: number;
}

/** Maximum sleep after repeated failures to read or write the outbox. */
const MAX_ERROR_BACKOFF_MS = 30_000;

/** One row of an outbox table turned into a webhook payload, with what fan-out needs. */
interface OutboxItem {
  spaceId: string;
  messageId: string | null;
  seq: number | null;
  createdAt: number;
  payload: WebhookPayload;
}

/**
 * Fans outbox rows out to deliveries. The message timeline (`events`) and `inbound_messages`
 * serve as the outbox, and the dispatcher reads each table after its stored cursor. It builds
 * the webhook payload of each row and inserts one delivery per subscribed endpoint, in the
 * transaction that moves the cursor. A crash therefore loses no event and creates no delivery
 * twice, and the message worker never waits for webhooks.
 *
 * An endpoint receives the events that happened at or after its creation.
 */
export class WebhookDispatcher {
  readonly #sleeper = new Sleeper();
  #running = false;
  #loop: Promise<void> | null = null;

  constructor(
    private readonly store: WebhookStore,
    private readonly logger: Logger,
    private readonly now: () => number,
    private readonly options: DispatcherOptions,
    /** Called after deliveries were committed. */
    private readonly onDeliveries: () => void,
  ) {}

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
    this.logger.info({ pollMs: this.options.pollMs }, 'webhook dispatcher started');
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#sleeper.wake();
    await this.#loop;
    this.logger.info('webhook dispatcher stopped');
  }

  /** Read the outbox now instead of at the next poll. */
  wake(): void {
    this.#sleeper.wake();
  }

  /**
   * Fan out one batch of each outbox table. Returns the deliveries created and whether rows
   * are left to read.
   */
  async dispatchOnce(): Promise<{ created: number; more: boolean }> {
    const events = await this.#dispatch('events');
    const inbound = await this.#dispatch('inbound');
    return { created: events.created + inbound.created, more: events.more || inbound.more };
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (this.#running) {
      try {
        const { created, more } = await this.dispatchOnce();
        failures = 0;
        if (created > 0) this.onDeliveries();
        if (more) continue;
        await this.#sleeper.sleep(this.options.pollMs);
      } catch (error) {
        failures += 1;
        const retryInMs = Math.min(MAX_ERROR_BACKOFF_MS, this.options.pollMs * 2 ** Math.min(failures, 10));
        this.logger.error({ err: error, failures, retryInMs }, 'webhook fan-out failed, retrying later');
        await this.#sleeper.sleep(retryInMs);
      }
    }
  }

  async #dispatch(source: OutboxSource): Promise<{ created: number; more: boolean }> {
    const from = await this.store.outboxPosition(source);
    // The head is read before the endpoints: every row up to it was committed before any
    // endpoint missing from the list below was created, so that endpoint may skip it.
    const head = await this.store.outboxHead(source);
    if (head <= from) return { created: 0, more: false };

    const subscriptions = await this.store.listSubscriptions();
    const page = await this.#read(source, from, head, subscriptions);
    const deliveries = fanOut(page.items, subscriptions, this.now());
    const committed = await this.store.commitFanOut(source, from, page.nextPosition, deliveries);
    if (!committed) {
      this.logger.info({ source, from }, 'another dispatcher moved the webhook outbox cursor first; reading again');
      return { created: 0, more: true };
    }
    if (deliveries.length > 0) this.logger.debug({ source, from, to: page.nextPosition, deliveries: deliveries.length }, 'webhook events fanned out');
    return { created: deliveries.length, more: page.nextPosition < head };
  }

  async #read(source: OutboxSource, from: number, head: number, subscriptions: Subscription[]): Promise<{ items: OutboxItem[]; nextPosition: number }> {
    const { batchSize } = this.options;
    if (source === 'inbound') {
      const spaces = spacesSubscribedTo(subscriptions, (type) => type === 'message.inbound');
      const page = await this.store.readOutboxInbound(from, head, spaces, batchSize);
      const items = page.items.map((row) => ({ spaceId: row.spaceId, messageId: null, seq: null, createdAt: row.receivedAt, payload: payloadForInbound(row) }));
      return { items, nextPosition: page.nextPosition };
    }

    const spaces = spacesSubscribedTo(subscriptions, (type) => type !== 'message.inbound');
    const page = await this.store.readOutboxEvents(from, head, spaces, SOURCE_EVENT_TYPES, batchSize);
    const items: OutboxItem[] = [];
    for (const row of page.items) {
      const payload = payloadForEvent(row);
      if (payload !== null) items.push({ spaceId: row.spaceId, messageId: row.messageId, seq: row.seq, createdAt: row.createdAt, payload });
    }
    return { items, nextPosition: page.nextPosition };
  }
}

function spacesSubscribedTo(subscriptions: Subscription[], wanted: (type: Subscription['events'][number]) => boolean): string[] {
  const spaces = new Set<string>();
  for (const subscription of subscriptions) {
    if (subscription.events.some(wanted)) spaces.add(subscription.spaceId);
  }
  return [...spaces];
}

/** Builds one delivery per item and endpoint of the item's space that subscribes to its type and existed when it happened. */
function fanOut(items: OutboxItem[], subscriptions: Subscription[], now: number): NewWebhookDelivery[] {
  const deliveries: NewWebhookDelivery[] = [];
  for (const item of items) {
    let body: string | null = null;
    for (const subscription of subscriptions) {
      if (subscription.spaceId !== item.spaceId) continue;
      if (!subscription.events.includes(item.payload.type)) continue;
      if (item.createdAt < subscription.createdAt) continue;

      body ??= JSON.stringify(item.payload);
      deliveries.push({
        id: uuidv7(now),
        spaceId: item.spaceId,
        endpointId: subscription.id,
        messageId: item.messageId,
        seq: item.seq,
        type: item.payload.type,
        body,
        runAt: now,
        createdAt: now,
      });
    }
  }
  return deliveries;
}
