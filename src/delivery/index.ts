import type { Logger } from 'pino';
import type { Channel } from '../channels/types.js';
import { DEFAULT_POLICIES } from '../routing/index.js';
import type { ChannelId, Clock, RoutingContext } from '../routing/types.js';
import type { MessageView, Store } from '../store/types.js';
import { KeyedMutex } from './keyed-mutex.js';
import { MetaWebhookIntake } from './meta-webhook.js';
import { DeliveryMetrics } from './metrics.js';
import { ReceiptIntake } from './receipts.js';
import { MessageRunner } from './runner.js';
import { StepSender } from './send-step.js';
import type { ChannelResolver, SpaceChannels } from './space-channels.js';
import { Worker, type WorkerOptions } from './worker.js';

export interface DeliveryOptions {
  store: Store;
  /** Channels of the process. Without `spaceChannels` they serve every space. */
  channels: ReadonlyMap<ChannelId, Channel>;
  /** The channels of each space, built from its stored settings. */
  spaceChannels?: SpaceChannels;
  spaceId: string;
  logger: Logger;
  clock?: Clock;
  random?: () => number;
  policies?: RoutingContext['policies'];
  metrics?: DeliveryMetrics;
  worker?: Partial<WorkerOptions>;
}

/** How often each process applies receipts that a stopped process left unapplied. */
const RECEIPT_SWEEP_MS = 30_000;

/** The delivery layer of one process: engine, store and channels composed. */
export class Delivery {
  readonly metrics: DeliveryMetrics;
  readonly runner: MessageRunner;
  readonly receipts: ReceiptIntake;
  /** Applies WhatsApp and Messenger webhook items. */
  readonly meta: MetaWebhookIntake;
  readonly worker: Worker;
  readonly #store: Store;
  readonly #logger: Logger;
  #sweeper: NodeJS.Timeout | null = null;

  constructor(options: DeliveryOptions) {
    const clock = options.clock ?? { now: () => Date.now() };
    const now = () => clock.now();
    const logger = options.logger;
    const context: RoutingContext = {
      clock,
      random: options.random ?? Math.random,
      policies: options.policies ?? DEFAULT_POLICIES,
    };
    this.#store = options.store;
    this.#logger = logger;
    this.metrics = options.metrics ?? new DeliveryMetrics();
    this.runner = new MessageRunner(options.store, context, new KeyedMutex(), this.metrics, logger, () => this.worker.wake());
    this.receipts = new ReceiptIntake(options.store, this.runner, this.metrics, logger, now);
    const processChannels = options.channels;
    const resolver: ChannelResolver = options.spaceChannels ?? { resolve: async (_spaceId, channel) => processChannels.get(channel) };
    const sharedReceiptSpace = (channel: ChannelId) => options.spaceChannels?.processReceiptSpace(channel) ?? null;
    this.meta = new MetaWebhookIntake(options.store, this.receipts, resolver, sharedReceiptSpace, logger.child({ part: 'meta-webhook' }), now);
    const sender = new StepSender(options.store, resolver, this.runner, this.receipts, this.metrics, logger, now);
    this.worker = new Worker(options.store, this.runner, sender, this.metrics, logger, now, {
      concurrency: options.worker?.concurrency ?? 64,
      leaseMs: options.worker?.leaseMs ?? 60_000,
      idleMs: options.worker?.idleMs ?? 1_000,
    });
    // A channel built for one space reports receipts of that space alone, and so does a process
    // channel configured from the environment, which serves the default space only.
    const spaceChannels = options.spaceChannels;
    for (const channel of options.channels.values()) this.#listen(channel, spaceChannels?.processReceiptSpace(channel.id) ?? null);
    options.spaceChannels?.onChannelBuilt((spaceId, channel) => this.#listen(channel, spaceId));
  }

  #listen(channel: Channel, spaceId: string | null): void {
    channel.onReceipt(async (receipt) => {
      try {
        await this.receipts.receive(spaceId ?? receipt.spaceId ?? null, channel, receipt);
      } catch (error) {
        this.#logger.error({ err: error, spaceId, channel: channel.id, providerMessageId: receipt.providerMessageId }, 'storing a receipt failed');
        throw error;
      }
    });
  }

  async start(): Promise<void> {
    await this.worker.start();
    // Receipts left unapplied by a process that stopped are applied by whichever process sweeps next.
    this.#sweeper = setInterval(() => {
      this.receipts.sweep().catch((error: unknown) => this.#logger.error({ err: error }, 'sweeping unapplied receipts failed'));
    }, RECEIPT_SWEEP_MS);
    this.#sweeper.unref();
  }

  async stop(): Promise<void> {
    if (this.#sweeper !== null) clearInterval(this.#sweeper);
    this.#sweeper = null;
    await this.worker.stop();
  }

  /** Cancel a message that has not finished; returns its view, or null when it does not exist. */
  async cancelMessage(spaceId: string, messageId: string): Promise<MessageView | null> {
    const applied = await this.runner.apply(spaceId, messageId, { type: 'cancel' });
    if (applied === null) return null;
    this.#logger.info({ spaceId, messageId, status: applied.decision.state.status }, 'cancel requested');
    return this.#store.getMessage(spaceId, messageId);
  }
}
