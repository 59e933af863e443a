import type { Logger } from 'pino';
import { classifyGraphError } from '../channels/meta/errors.js';
import type { MetaWebhookItem } from '../channels/meta/webhook.js';
import type { Channel } from '../channels/types.js';
import type { AttemptStatus, ChannelId } from '../routing/types.js';
import type { Store } from '../store/types.js';
import type { ReceiptIntake } from './receipts.js';
import type { ChannelResolver } from './space-channels.js';

/** Attempt states a watermark moves forward: a delivery watermark never touches read attempts. */
const WATERMARK_STATUSES: Record<'delivered' | 'read', AttemptStatus[]> = {
  delivered: ['accepted'],
  read: ['accepted', 'delivered'],
};

/**
 * Turns verified WhatsApp and Messenger webhook items into receipts and inbound messages.
 * WhatsApp statuses name one message; a Messenger watermark covers every message sent to the
 * person before it, so it becomes one receipt per such attempt.
 */
export class MetaWebhookIntake {
  constructor(
    private readonly store: Store,
    private readonly receipts: ReceiptIntake,
    private readonly channels: ChannelResolver,
    /** The space receipts of the shared webhook URL may match, per channel; null for every space. */
    private readonly sharedReceiptSpace: (channel: ChannelId) => string | null,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  /**
   * Applies the items of one verified webhook request. `scoped` is true when the webhook came
   * to a space's own URL, signed with that space's app secret: its statuses then match only
   * attempts of that space. The shared webhook URL serves the default space and the sandbox
   * Graph API, which spaces without settings of their own share. Statuses of a sandbox channel
   * are matched by provider id in every space, others in the default space only.
   *
   * NOTE: inbound messages and unreachable marks from the shared URL go to the default space,
   * also when they concern a person another space reached through the shared sandbox.
   */
  async handle(spaceId: string, items: MetaWebhookItem[], scoped = false): Promise<void> {
    for (const item of items) {
      const receiptSpace = scoped ? spaceId : this.sharedReceiptSpace(item.channel);
      const channel = await this.channels.resolve(spaceId, item.channel);
      if (channel === undefined) {
        this.logger.warn({ channel: item.channel, kind: item.kind }, 'webhook item for a channel that is not configured ignored');
        continue;
      }
      switch (item.kind) {
        case 'status':
          await this.#status(spaceId, receiptSpace, channel, item);
          break;
        case 'watermark':
          await this.#watermark(spaceId, receiptSpace, channel, item);
          break;
        case 'inbound':
          await this.#inbound(spaceId, item);
          break;
        default: {
          const unknownItem: never = item;
          throw new Error(`unknown webhook item ${JSON.stringify(unknownItem)}`);
        }
      }
    }
  }

  async #status(spaceId: string, receiptSpace: string | null, channel: Channel, item: Extract<MetaWebhookItem, { kind: 'status' }>): Promise<void> {
    // `sent` repeats what the send call's response already reported.
    if (item.state === 'sent') return;
    if (item.state === 'failed' && item.errorCode !== null) {
      // A status can carry the same error as a rejected send call, such as a number not on WhatsApp.
      const error = classifyGraphError(400, { error: { code: Number(item.errorCode) } }, 'whatsApp');
      if (error.addressUnreachable) {
        await this.store.markUnreachable(spaceId, channel.id, item.recipient, error.code, this.now());
        this.logger.info({ channel: channel.id, code: error.code }, 'address marked unreachable');
      }
    }
    await this.receipts.receive(receiptSpace, channel, {
      channel: channel.id,
      providerMessageId: item.providerMessageId,
      state: item.state,
      errorCode: item.errorCode,
      providerTimestamp: item.timestamp,
    });
  }

  async #watermark(spaceId: string, receiptSpace: string | null, channel: Channel, item: Extract<MetaWebhookItem, { kind: 'watermark' }>): Promise<void> {
    const covered = await this.store.attemptIdsBefore(spaceId, channel.id, item.psid, item.watermark, WATERMARK_STATUSES[item.state]);
    const ids = new Set([...item.mids, ...covered]);
    this.logger.debug({ channel: channel.id, state: item.state, messages: ids.size }, 'watermark applied');
    for (const providerMessageId of ids) {
      await this.receipts.receive(receiptSpace, channel, {
        channel: channel.id,
        providerMessageId,
        state: item.state,
        errorCode: null,
        providerTimestamp: item.watermark,
      });
    }
  }

  async #inbound(spaceId: string, item: Extract<MetaWebhookItem, { kind: 'inbound' }>): Promise<void> {
    const stored = await this.store.recordInbound({
      spaceId,
      channel: item.channel,
      providerMessageId: item.providerMessageId,
      address: item.from,
      text: item.text,
      providerTimestamp: item.timestamp,
      receivedAt: this.now(),
    });
    this.logger.info({ channel: item.channel, providerMessageId: item.providerMessageId, duplicate: !stored }, 'inbound message received');
  }
}
