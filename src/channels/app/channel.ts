import type { Logger } from 'pino';
import type { Condition, SendOutcome } from '../../routing/types.js';
import type { Addresses, Channel, ChannelContent, ReceiptListener, SendRequest } from '../types.js';
import type { AppHub } from './hub.js';
import type { AppFeedStore, FeedEntry } from './types.js';
import type { AppPushNotifier, PushNotifyResult } from './web-push.js';

export interface AppChannelOptions {
  /** The space of messages whose `SendRequest` names none (tests that call `send` directly). */
  spaceId: string;
  feed: AppFeedStore;
  hub: AppHub;
  /** Wakes offline devices, such as over Web Push. Without it only sockets and polling devices are reached. */
  pushNotifier?: AppPushNotifier | null;
  logger: Logger;
  /** Epoch milliseconds. */
  now(): number;
}

/**
 * The `appMessaging` channel: messages to the business's own app, through Cascade's app feed.
 *
 * `send` adds the message to the app user's feed and reaches the app in the first of these
 * ways that works:
 * 1. Sockets: when the app user has an open socket on this process, every socket gets the
 *    message and the attempt is `accepted`.
 * 2. Push: otherwise the push notifier, when configured, wakes the user's devices. `sent` is
 *    `accepted`, and a transient failure is `transient`.
 * 3. Polling: otherwise, when a device without a push subscription is registered, the app is
 *    expected to read the inbox over HTTP, and the attempt is `accepted`.
 * With none of these the attempt fails permanently with code `no-device`.
 *
 * The app acknowledges `delivered` and `read` over its socket or over HTTP, which the hub
 * turns into receipts. `customBody.appMessaging` may replace `title` and `body` and carries
 * `data`, a JSON object passed through to the app.
 *
 * @example
 * const hub = new AppHub({ feed: store.appFeed, logger, now: Date.now });
 * const app = new AppChannel({ spaceId: 'default', feed: store.appFeed, hub, logger, now: Date.now });
 * app.onReceipt((receipt) => delivery.receipts.receive(receipt.spaceId ?? null, app, receipt));
 */
export class AppChannel implements Channel {
  readonly id = 'appMessaging' as const;
  readonly defaultCondition: Condition = 'delivered';
  readonly supportedConditions: readonly Condition[] = ['accepted', 'delivered', 'read'];
  readonly #options: AppChannelOptions;
  readonly #logger: Logger;

  constructor(options: AppChannelOptions) {
    this.#options = options;
    this.#logger = options.logger;
  }

  resolveAddress(addresses: Addresses): string | null {
    const appUserId = addresses.appUserId?.trim();
    return appUserId === undefined || appUserId === '' ? null : appUserId;
  }

  /**
   * Adds the message to the feed and reaches the app (see the class comment). Never throws.
   *
   * The feed holds each message once per app user, so a later attempt of the same step (after
   * a transient failure or a crash) gets the entry of the first attempt, and returns that
   * entry's provider message id. Acknowledgements carry that id, so they match whichever
   * attempt was accepted with it. An acknowledgement that arrived while no attempt was
   * accepted waits in the receipt store until one is.
   */
  async send(request: SendRequest): Promise<SendOutcome> {
    const logger = this.#logger.child({ messageId: request.messageId, step: request.step, attempt: request.attempt });
    let entry: FeedEntry;
    try {
      entry = await this.#options.feed.appendFeed({
        spaceId: request.spaceId ?? this.#options.spaceId,
        appUserId: request.address,
        messageId: request.messageId,
        providerMessageId: `${request.messageId}_${request.step}_${request.attempt}`,
        ...renderAppMessage(request.content),
        sentOn: this.#options.now(),
      });
    } catch (error) {
      logger.warn({ err: error }, 'adding the app message to the feed failed');
      const message = error instanceof Error ? error.message : String(error);
      return { kind: 'transient', code: 'feed-unavailable', message: `Adding the message to the app feed failed: ${message}` };
    }
    const accepted: SendOutcome = { kind: 'accepted', providerMessageId: entry.providerMessageId };

    if (entry.deliveredAt !== null || entry.readAt !== null) {
      // An earlier attempt reached the app, and its acknowledgement is stored under this id.
      logger.info({ providerMessageId: entry.providerMessageId, seq: entry.seq }, 'app message already acknowledged');
      return accepted;
    }

    const sockets = this.#options.hub.publish(entry);
    if (sockets > 0) {
      logger.info({ providerMessageId: entry.providerMessageId, seq: entry.seq, sockets }, 'app message sent to open sockets');
      return accepted;
    }

    const pushed = await this.#push(entry, logger);
    if (pushed !== null) return pushed.kind === 'accepted' ? accepted : pushed;

    let pollingDevices: number;
    try {
      const devices = await this.#options.feed.listDevices(entry.spaceId, entry.appUserId);
      pollingDevices = devices.filter((device) => device.push === null).length;
    } catch (error) {
      logger.warn({ err: error }, 'reading the app devices failed');
      const message = error instanceof Error ? error.message : String(error);
      return { kind: 'transient', code: 'feed-unavailable', message: `Reading the app user's devices failed: ${message}` };
    }
    if (pollingDevices > 0) {
      logger.info({ providerMessageId: entry.providerMessageId, seq: entry.seq, pollingDevices }, 'app message waits in the inbox');
      return accepted;
    }

    logger.info({ providerMessageId: entry.providerMessageId, seq: entry.seq }, 'app message not sent: no open socket and no device');
    return {
      kind: 'permanent',
      code: 'no-device',
      message: 'The app user has no open socket and no registered device. The message stays in the app inbox.',
    };
  }

  /** Returns the id alone, because the provider message id `<messageId>_<step>_<attempt>` has no other form. */
  matchKeys(providerMessageId: string): string[] {
    return [providerMessageId];
  }

  onReceipt(listener: ReceiptListener): void {
    this.#options.hub.onReceipt(listener);
  }

  /** Logs the start. The channel needs no connection, because the API server accepts the sockets. */
  async start(): Promise<void> {
    this.#logger.info({ push: this.#options.pushNotifier ? 'on' : 'off' }, 'app channel started');
  }

  /** Logs the stop. The hub's owner closes open sockets, because the API server accepted them. */
  async stop(): Promise<void> {
    this.#logger.info('app channel stopped');
  }

  /** Returns the push notifier's outcome, or null when there is no notifier or no device to push to. */
  async #push(entry: FeedEntry, logger: Logger): Promise<SendOutcome | null> {
    const notifier = this.#options.pushNotifier;
    if (notifier === undefined || notifier === null) return null;
    let result: PushNotifyResult;
    try {
      result = await notifier.notify(entry.spaceId, entry.appUserId, entry);
    } catch (error) {
      logger.warn({ err: error }, 'push notifier failed');
      const message = error instanceof Error ? error.message : String(error);
      return { kind: 'transient', code: 'push-failed', message: `Waking the app's devices failed: ${message}` };
    }
    if (result === 'sent') {
      logger.info({ providerMessageId: entry.providerMessageId, seq: entry.seq }, 'app message announced by push');
      return { kind: 'accepted', providerMessageId: entry.providerMessageId };
    }
    if (result === 'no-device') return null;
    logger.warn({ reason: result.transient, retryAfterMs: result.retryAfterMs }, 'push to app devices failed with a transient error');
    return {
      kind: 'transient',
      code: 'push-failed',
      message: result.transient,
      ...(result.retryAfterMs === undefined ? {} : { retryAfterMs: result.retryAfterMs }),
    };
  }
}

/** Title, body and data of a feed entry: `customBody.appMessaging` fields over the message's own. */
export function renderAppMessage(content: ChannelContent): Pick<FeedEntry, 'title' | 'body' | 'data'> {
  const custom = content.custom;
  const title = custom?.title;
  const body = custom?.body;
  const data = custom?.data;
  return {
    title: typeof title === 'string' ? title : content.title,
    body: typeof body === 'string' ? body : content.body,
    data: typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : null,
  };
}
