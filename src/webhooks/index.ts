import type { SecretBox } from '../secret-box.js';
import type { Logger } from 'pino';
import type { Store } from '../store/types.js';
import { WebhookDispatcher } from './dispatcher.js';
import { DEFAULT_RETRY_SCHEDULE, type RetrySchedule } from './retry.js';
import { WebhookSender } from './sender.js';

export { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './types.js';
export { generateSecret, signPayload } from './signature.js';
export { DEFAULT_RETRY_SCHEDULE, minimumRetrySpanMs, type RetrySchedule } from './retry.js';

/** Tuning of webhook delivery; every field has a default. */
export interface WebhookServiceOptions {
  /** Requests in flight at once, over all endpoints. Default 16. */
  concurrency: number;
  /** Requests in flight at once to one endpoint. Default 4. */
  maxPerEndpoint: number;
  /** Limit of one try in milliseconds. Default 10 s. */
  timeoutMs: number;
  /** Lease of a claimed delivery in milliseconds; longer than `timeoutMs`. Default 60 s. */
  leaseMs: number;
  /** Milliseconds between outbox reads when the outbox is drained. Default 250. */
  pollMs: number;
  /** Maximum sleep of the sender between claims, in milliseconds. Default 1 s. */
  idleMs: number;
  /** Outbox rows fanned out per transaction. Default 200. */
  batchSize: number;
  /** Default: 17 tries over about 29 hours; see `DEFAULT_RETRY_SCHEDULE`. */
  retry: RetrySchedule;
  /** Milliseconds succeeded deliveries are kept. Default 24 hours. */
  retainSucceededMs: number;
}

export const DEFAULT_WEBHOOK_OPTIONS: WebhookServiceOptions = {
  concurrency: 16,
  maxPerEndpoint: 4,
  timeoutMs: 10_000,
  leaseMs: 60_000,
  pollMs: 250,
  idleMs: 1_000,
  batchSize: 200,
  retry: DEFAULT_RETRY_SCHEDULE,
  retainSucceededMs: 24 * 60 * 60 * 1000,
};

export interface WebhookServiceDeps {
  store: Pick<Store, 'dialect' | 'webhooks'>;
  /** Opens the endpoint secrets, which are stored sealed. */
  box: SecretBox;
  logger: Logger;
  /** Epoch milliseconds for scheduling tries. Default `Date.now`; signatures always carry the system time. */
  now?: () => number;
  random?: () => number;
}

/** Outbound status webhooks of one process: the outbox dispatcher and the delivery sender. */
export class WebhookService {
  readonly dispatcher: WebhookDispatcher;
  readonly sender: WebhookSender;

  constructor(deps: WebhookServiceDeps, options: Partial<WebhookServiceOptions> = {}) {
    const settings: WebhookServiceOptions = { ...DEFAULT_WEBHOOK_OPTIONS, ...options };
    if (settings.leaseMs <= settings.timeoutMs) {
      throw new Error(`The webhook lease (${settings.leaseMs} ms) must be longer than the request timeout (${settings.timeoutMs} ms).`);
    }
    const now = deps.now ?? Date.now;
    const { webhooks } = deps.store;
    this.sender = new WebhookSender(webhooks, deps.store.dialect, deps.logger.child({ part: 'webhook-sender' }), now, deps.random ?? Math.random, settings, deps.box);
    this.dispatcher = new WebhookDispatcher(webhooks, deps.logger.child({ part: 'webhook-dispatcher' }), now, settings, () => this.sender.wake());
  }

  async start(): Promise<void> {
    await this.sender.start();
    this.dispatcher.start();
  }

  async stop(): Promise<void> {
    await this.dispatcher.stop();
    await this.sender.stop();
  }
}
