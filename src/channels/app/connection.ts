import type { Logger } from 'pino';
import { WebSocket, type RawData } from 'ws';
import { messageFrame, parseClientFrame } from './frames.js';
import { APP_SOCKET_CLOSE_CODES, type ServerFrame } from './protocol.js';
import type { AppFeedStore } from './types.js';

/** Feed entries read per query while sending a backlog. */
const PAGE_SIZE = 100;
/** Invalid frames one socket may send before it is closed with 1008. */
const MAX_INVALID_FRAMES = 10;
/** Client frames one socket may have waiting to be handled before it is closed with 1008. */
const MAX_QUEUED_FRAMES = 100;
/** How long a socket closed by the server may take to respond to the close frame before it is dropped. */
const CLOSE_GRACE_MS = 1_000;
/** Maximum delay of `setTimeout`. A later token expiry is checked again after it. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export type AcknowledgeOutcome = 'recorded' | 'unchanged' | 'not-found';

export interface AppConnectionOptions {
  socket: WebSocket;
  /** Random id of this connection, for logs. */
  id: string;
  spaceId: string;
  appUserId: string;
  /** When the app token expires, epoch ms. The socket is closed with 4401 then. */
  tokenExpiresAt: number;
  feed: AppFeedStore;
  logger: Logger;
  now(): number;
  pingIntervalMs: number;
  pongTimeoutMs: number;
  acknowledge(messageId: string, state: 'delivered' | 'read'): Promise<AcknowledgeOutcome>;
  onClosed(connection: AppConnection): void;
}

/**
 * One open app socket. It sends the feed in `seq` order: first the backlog after the client's
 * `after`, then `ready`, then every entry added later. Live entries are read from the store
 * rather than taken from the caller, so entries added concurrently still go out in `seq` order,
 * each once per socket.
 */
export class AppConnection {
  readonly id: string;
  readonly spaceId: string;
  readonly appUserId: string;
  readonly #socket: WebSocket;
  readonly #options: AppConnectionOptions;
  readonly #logger: Logger;
  /** The largest `seq` sent on this socket; the next read starts after it. */
  #lastSentSeq = 0;
  #ready = false;
  #draining = false;
  /** New entries were announced while a read was running or before `ready`. */
  #pending = false;
  #invalidFrames = 0;
  /** Client frames are handled one at a time, in the order they arrived. */
  #inbound: Promise<void> = Promise.resolve();
  #queuedFrames = 0;
  #pingTimer: NodeJS.Timeout | null = null;
  #pongTimer: NodeJS.Timeout | null = null;
  #expiryTimer: NodeJS.Timeout | null = null;
  readonly #closed: Promise<void>;

  constructor(options: AppConnectionOptions) {
    this.id = options.id;
    this.spaceId = options.spaceId;
    this.appUserId = options.appUserId;
    this.#socket = options.socket;
    this.#options = options;
    this.#logger = options.logger.child({ connectionId: options.id, spaceId: options.spaceId });

    this.#closed = new Promise((resolve) => {
      this.#socket.once('close', (code: number) => {
        this.#stopTimers();
        this.#logger.info({ code, lastSeq: this.#lastSentSeq }, 'app socket closed');
        options.onClosed(this);
        resolve();
      });
    });
    this.#socket.on('message', (data, isBinary) => this.#enqueue(data, isBinary));
    this.#pingTimer = setInterval(() => this.#ping(), options.pingIntervalMs);
    this.#pingTimer.unref();
    this.#scheduleExpiry();
  }

  /**
   * Sends every feed entry with `seq > after`, oldest first, then `ready`. An `after` beyond the
   * end of the feed (a client that kept its position from a reset database) counts as the end.
   */
  async start(after: number): Promise<void> {
    const { feed, spaceId, appUserId } = this.#options;
    this.#draining = true;
    try {
      this.#lastSentSeq = Math.min(after, await feed.lastFeedSeq(spaceId, appUserId));
      await this.#sendBacklog();
      if (!this.#isOpen()) return;
      await this.#send({ type: 'ready', appUserId, lastSeq: this.#lastSentSeq });
      this.#ready = true;
      this.#logger.info({ after, lastSeq: this.#lastSentSeq }, 'app socket ready');
    } catch (error) {
      this.#failed(error);
      return;
    } finally {
      this.#draining = false;
    }
    if (this.#pending) void this.#drain();
  }

  /** Announces that the app user's feed has new entries. */
  notify(): void {
    if (!this.#ready) {
      this.#pending = true;
      return;
    }
    void this.#drain();
  }

  /** Closes the socket with `code` and resolves once it is closed, dropping it after a short grace. */
  async shutdown(code: number, reason: string): Promise<void> {
    if (this.#socket.readyState === WebSocket.CLOSED) return;
    this.#socket.close(code, reason);
    const grace = setTimeout(() => this.#socket.terminate(), CLOSE_GRACE_MS);
    grace.unref();
    await this.#closed;
    clearTimeout(grace);
  }

  async #drain(): Promise<void> {
    if (this.#draining) {
      this.#pending = true;
      return;
    }
    this.#draining = true;
    try {
      do {
        this.#pending = false;
        await this.#sendBacklog();
      } while (this.#pending && this.#isOpen());
    } catch (error) {
      this.#failed(error);
    } finally {
      this.#draining = false;
    }
  }

  /** Sends the entries after `#lastSentSeq` page by page, waiting for each page to be written. */
  async #sendBacklog(): Promise<void> {
    const { feed, spaceId, appUserId } = this.#options;
    for (;;) {
      if (!this.#isOpen()) return;
      const entries = await feed.readFeed(spaceId, appUserId, this.#lastSentSeq, PAGE_SIZE);
      let written: Promise<void> | null = null;
      for (const entry of entries) {
        if (entry.seq <= this.#lastSentSeq) continue;
        written = this.#send(messageFrame(entry));
        this.#lastSentSeq = entry.seq;
      }
      if (written !== null) await written;
      if (entries.length < PAGE_SIZE) return;
    }
  }

  #enqueue(data: RawData, isBinary: boolean): void {
    if (this.#queuedFrames >= MAX_QUEUED_FRAMES) {
      this.#logger.warn({ queuedFrames: this.#queuedFrames }, 'app socket closed: too many frames waiting');
      this.#socket.close(1008, 'too many frames waiting');
      return;
    }
    this.#queuedFrames += 1;
    this.#inbound = this.#inbound
      .then(() => this.#receive(data, isBinary))
      .catch((error: unknown) => this.#logger.error({ err: error }, 'handling an app socket frame failed'))
      .finally(() => {
        this.#queuedFrames -= 1;
      });
  }

  async #receive(data: RawData, isBinary: boolean): Promise<void> {
    if (isBinary) {
      this.#rejectFrame('invalid-frame', 'Binary frames are not accepted. Send JSON text frames.');
      return;
    }
    const parsed = parseClientFrame(rawDataToString(data));
    if (!parsed.ok) {
      this.#rejectFrame(parsed.code, parsed.detail);
      return;
    }
    const frame = parsed.frame;
    switch (frame.type) {
      case 'pong':
        this.#clearPongTimer();
        return;
      case 'ack':
      case 'read':
        await this.#acknowledge(frame.messageId, frame.type === 'ack' ? 'delivered' : 'read');
        return;
      default: {
        const unexpected: never = frame;
        throw new Error(`Unhandled client frame ${JSON.stringify(unexpected)}`);
      }
    }
  }

  async #acknowledge(messageId: string, state: 'delivered' | 'read'): Promise<void> {
    try {
      const outcome = await this.#options.acknowledge(messageId, state);
      if (outcome === 'not-found') {
        await this.#send({ type: 'error', code: 'not-found', detail: `Message ${messageId} is not in this app user's feed.`, messageId });
      }
    } catch (error) {
      this.#logger.error({ err: error, messageId, state }, 'storing an app acknowledgement failed');
      await this.#send({
        type: 'error',
        code: 'ack-failed',
        detail: `The ${state === 'delivered' ? 'ack' : 'read'} of message ${messageId} was not stored. Send it again.`,
        messageId,
      });
    }
  }

  #rejectFrame(code: string, detail: string): void {
    this.#invalidFrames += 1;
    void this.#send({ type: 'error', code, detail });
    if (this.#invalidFrames >= MAX_INVALID_FRAMES) {
      this.#logger.warn({ invalidFrames: this.#invalidFrames }, 'app socket closed after repeated invalid frames');
      this.#socket.close(1008, 'too many invalid frames');
    }
  }

  #ping(): void {
    if (!this.#isOpen()) return;
    void this.#send({ type: 'ping', at: new Date(this.#options.now()).toISOString() });
    if (this.#pongTimer !== null) return;
    this.#pongTimer = setTimeout(() => {
      this.#logger.info({ pongTimeoutMs: this.#options.pongTimeoutMs }, 'app socket closed: no pong in time');
      this.#socket.close(APP_SOCKET_CLOSE_CODES.pongTimeout, 'pong timeout');
    }, this.#options.pongTimeoutMs);
    this.#pongTimer.unref();
  }

  #clearPongTimer(): void {
    if (this.#pongTimer !== null) clearTimeout(this.#pongTimer);
    this.#pongTimer = null;
  }

  #scheduleExpiry(): void {
    const remaining = this.#options.tokenExpiresAt - this.#options.now();
    if (remaining <= 0) {
      this.#logger.info('app socket closed: app token expired');
      this.#socket.close(APP_SOCKET_CLOSE_CODES.tokenExpired, 'token expired');
      return;
    }
    this.#expiryTimer = setTimeout(() => this.#scheduleExpiry(), Math.min(remaining, MAX_TIMER_MS));
    this.#expiryTimer.unref();
  }

  #stopTimers(): void {
    if (this.#pingTimer !== null) clearInterval(this.#pingTimer);
    if (this.#expiryTimer !== null) clearTimeout(this.#expiryTimer);
    this.#clearPongTimer();
    this.#pingTimer = null;
    this.#expiryTimer = null;
  }

  /** Closes the socket with 1011 after a store failure. The client resumes from its last `seq` when it reconnects. */
  #failed(error: unknown): void {
    this.#logger.error({ err: error }, 'reading the app feed failed, so the socket is closed');
    if (this.#isOpen()) this.#socket.close(1011, 'feed unavailable');
  }

  #isOpen(): boolean {
    return this.#socket.readyState === WebSocket.OPEN;
  }

  /** Resolves once the frame is written or the socket failed. The close handler deals with failures. */
  #send(frame: ServerFrame): Promise<void> {
    if (!this.#isOpen()) return Promise.resolve();
    return new Promise((resolve) => {
      this.#socket.send(JSON.stringify(frame), () => resolve());
    });
  }
}

function rawDataToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
