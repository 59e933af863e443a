import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { ProviderReceipt, ReceiptListener } from '../types.js';
import { AppConnection } from './connection.js';
import type { AppFeedStore, FeedEntry } from './types.js';

export interface AppHubOptions {
  feed: AppFeedStore;
  logger: Logger;
  /** Epoch milliseconds. */
  now(): number;
  /** Time between `ping` frames on each socket. Default 25,000 ms. */
  pingIntervalMs?: number;
  /** Time a socket has to respond to a `ping` with `pong` before it is closed with 4408. Default 10,000 ms. */
  pongTimeoutMs?: number;
  /** Open sockets one app user may have at once. Default 16. */
  maxSocketsPerUser?: number;
}

export interface AppSocketIdentity {
  spaceId: string;
  appUserId: string;
  /** When the app token expires, epoch ms. */
  tokenExpiresAt: number;
}

export type AcknowledgeResult = { outcome: 'recorded' | 'unchanged'; entry: FeedEntry } | { outcome: 'not-found' };

export const DEFAULT_PING_INTERVAL_MS = 25_000;
export const DEFAULT_PONG_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_SOCKETS_PER_USER = 16;

/**
 * Cascade's own provider for the app channel: the open app sockets of this process, and the
 * acknowledgements that apps send over them or over HTTP. Acknowledgements become receipts for
 * the listeners of the app user's space.
 *
 * NOTE: the hub tracks only the sockets of its own process. With several processes sharing one
 * database, a message is pushed live only to sockets on the process that sends it; sockets on
 * other processes receive it when they reconnect.
 */
export class AppHub {
  readonly #options: AppHubOptions;
  readonly #logger: Logger;
  readonly #pingIntervalMs: number;
  readonly #pongTimeoutMs: number;
  readonly #maxSocketsPerUser: number;
  /** Open connections by space and app user. */
  readonly #connections = new Map<string, Set<AppConnection>>();
  readonly #listeners: ReceiptListener[] = [];
  #closing = false;

  constructor(options: AppHubOptions) {
    this.#options = options;
    this.#logger = options.logger;
    this.#pingIntervalMs = options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
    this.#pongTimeoutMs = options.pongTimeoutMs ?? DEFAULT_PONG_TIMEOUT_MS;
    this.#maxSocketsPerUser = options.maxSocketsPerUser ?? DEFAULT_MAX_SOCKETS_PER_USER;
  }

  /** Returns why a new socket for this app user cannot open now, or null when it can. */
  admission(spaceId: string, appUserId: string): 'closing' | 'too-many-sockets' | null {
    if (this.#closing) return 'closing';
    if (this.connectionCount(spaceId, appUserId) >= this.#maxSocketsPerUser) return 'too-many-sockets';
    return null;
  }

  get maxSocketsPerUser(): number {
    return this.#maxSocketsPerUser;
  }

  /** Takes over an upgraded socket: sends the feed after `after`, then `ready`, then live entries. */
  open(socket: WebSocket, identity: AppSocketIdentity, after: number): AppConnection {
    const key = userKey(identity.spaceId, identity.appUserId);
    const connection = new AppConnection({
      socket,
      id: randomUUID(),
      ...identity,
      feed: this.#options.feed,
      logger: this.#logger,
      now: this.#options.now,
      pingIntervalMs: this.#pingIntervalMs,
      pongTimeoutMs: this.#pongTimeoutMs,
      acknowledge: async (messageId, state) =>
        (await this.acknowledge(identity.spaceId, identity.appUserId, messageId, state)).outcome,
      onClosed: (closed) => this.#remove(key, closed),
    });
    let set = this.#connections.get(key);
    if (set === undefined) {
      set = new Set();
      this.#connections.set(key, set);
    }
    // Registered before the backlog is read, so no entry added meanwhile is missed.
    set.add(connection);
    this.#logger.info({ connectionId: connection.id, spaceId: identity.spaceId, after }, 'app socket opened');
    void connection.start(after);
    if (this.#closing) void connection.shutdown(1001, 'server stopping');
    return connection;
  }

  connectionCount(spaceId: string, appUserId: string): number {
    return this.#connections.get(userKey(spaceId, appUserId))?.size ?? 0;
  }

  /** Announces a new feed entry to the app user's open sockets and returns their number. */
  publish(entry: FeedEntry): number {
    const set = this.#connections.get(userKey(entry.spaceId, entry.appUserId));
    if (set === undefined) return 0;
    for (const connection of set) connection.notify();
    return set.size;
  }

  /** Adds a listener for the receipts of every space's app users; each receipt names its space. */
  onReceipt(listener: ReceiptListener): void {
    this.#listeners.push(listener);
  }

  /**
   * Records that an app of this user received (`delivered`) or showed (`read`) a message.
   * The receipt goes to the listeners first and the feed is marked after they stored it, so a
   * failure leaves the feed unmarked and the app can send the acknowledgement again. An
   * acknowledgement that the feed already records changes nothing and sends no receipt.
   *
   * NOTE: two devices that acknowledge the same message at the same moment can both pass the
   * check, so both send a receipt. The receipt store keeps one of them.
   */
  async acknowledge(spaceId: string, appUserId: string, messageId: string, state: 'delivered' | 'read'): Promise<AcknowledgeResult> {
    const feed = this.#options.feed;
    const entry = await feed.getFeedEntry(spaceId, appUserId, messageId);
    if (entry === null) return { outcome: 'not-found' };
    const recorded = state === 'read' ? entry.readAt !== null : entry.deliveredAt !== null;
    if (recorded) return { outcome: 'unchanged', entry };

    const at = this.#options.now();
    await this.#emit({
      spaceId,
      channel: 'appMessaging',
      providerMessageId: entry.providerMessageId,
      state,
      errorCode: null,
      providerTimestamp: at,
    });
    const changed = await feed.markFeed(spaceId, appUserId, messageId, state, at);
    const updated = (await feed.getFeedEntry(spaceId, appUserId, messageId)) ?? entry;
    this.#logger.debug({ spaceId, messageId, state, changed }, 'app acknowledgement recorded');
    return { outcome: changed ? 'recorded' : 'unchanged', entry: updated };
  }

  /** Closes every socket with 1001 and admits no new ones. */
  async close(): Promise<void> {
    this.#closing = true;
    const all = [...this.#connections.values()].flatMap((set) => [...set]);
    await Promise.all(all.map((connection) => connection.shutdown(1001, 'server stopping')));
    this.#logger.info({ sockets: all.length }, 'app sockets closed');
  }

  #remove(key: string, connection: AppConnection): void {
    const set = this.#connections.get(key);
    if (set === undefined) return;
    set.delete(connection);
    if (set.size === 0) this.#connections.delete(key);
  }

  /** Awaits every listener and rejects when one failed, so the caller does not mark the feed. */
  async #emit(receipt: ProviderReceipt): Promise<void> {
    const failures: unknown[] = [];
    for (const listener of this.#listeners) {
      try {
        await listener(receipt);
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) {
      throw new AggregateError(failures, `${failures.length} receipt listener(s) failed for app message ${receipt.providerMessageId}.`);
    }
  }
}

function userKey(spaceId: string, appUserId: string): string {
  return JSON.stringify([spaceId, appUserId]);
}
