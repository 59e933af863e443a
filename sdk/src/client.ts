import { reconnectDelay, type ReconnectOptions } from './backoff.js';
import { Emitter } from './emitter.js';
import { AppClientError } from './errors.js';
import { InboxHttp, type InboxQuery } from './http.js';
import { resolveOptions, type AppClientEvents, type AppClientOptions } from './options.js';
import { parseServerFrame, type ClientFrame, type FeedMessage, type InboxPage, type ServerFrame } from './protocol.js';
import { FeedSequencer } from './sequencer.js';
import { UnconfirmedMarks, type MarkFrame } from './unconfirmed-marks.js';
import {
  SOCKET_OPEN,
  frameText,
  openFeedSocket,
  socketUrlFor,
  type SocketCloseEvent,
  type SocketMessageEvent,
  type WebSocketConstructor,
  type WebSocketLike,
} from './transport.js';

/** Page size when the client fetches missed messages over HTTP. */
const CATCH_UP_PAGE = 100;
/** Close code the client uses when it gives up on a silent or broken connection. */
const CLOSE_STALE = 4000;

interface Waiter {
  resolve(): void;
  reject(error: AppClientError): void;
}

/**
 * A client of one app user's Cascade feed. It keeps a WebSocket open, emits each message once
 * and in `seq` order, acknowledges delivery, answers the server's pings, and reconnects with
 * exponential backoff, resuming after the last message it emitted. It replies to each
 * `ping` frame with `pong`.
 *
 * @example
 * import { CascadeAppClient } from '@cascade/app-sdk';
 *
 * const client = new CascadeAppClient({
 *   baseUrl: 'https://cascade.example.com',
 *   token: () => fetch('/my-backend/cascade-token').then((response) => response.text()),
 * });
 * client.on('message', (message) => showNotification(message.title, message.body));
 * client.on('error', (error) => console.warn(error.code, error.message));
 * await client.connect();
 */
export class CascadeAppClient {
  readonly #events = new Emitter<AppClientEvents>();
  readonly #WebSocket: WebSocketConstructor;
  readonly #http: InboxHttp;
  readonly #socketUrl: URL;
  readonly #tokenSource: AppClientOptions['token'];
  readonly #autoAck: boolean;
  readonly #reconnect: ReconnectOptions;
  readonly #heartbeatTimeoutMs: number;
  readonly #sequencer: FeedSequencer;

  #token: string | null = null;
  #running = false;
  /** Increases with every connection attempt and with `close()`, so that stale async work can tell. */
  #generation = 0;
  #socket: WebSocketLike | null = null;
  #opened = false;
  #ready = false;
  #serverErrorSeen = false;
  /** Connection attempts since the last `ready`; drives the backoff. */
  #failures = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  #heartbeatTimer: ReturnType<typeof setTimeout> | null = null;
  #connectWaiters: Waiter[] = [];
  readonly #marks = new UnconfirmedMarks();
  #retryTimers = new Set<ReturnType<typeof setTimeout>>();

  constructor(options: AppClientOptions) {
    const settings = resolveOptions(options);
    this.#WebSocket = settings.WebSocket;
    this.#socketUrl = socketUrlFor(settings.baseUrl);
    this.#tokenSource = options.token;
    this.#autoAck = settings.autoAck;
    this.#reconnect = settings.reconnect;
    this.#heartbeatTimeoutMs = settings.heartbeatTimeoutMs;
    this.#sequencer = new FeedSequencer(settings.lastSeq);
    this.#http = new InboxHttp({
      baseUrl: settings.baseUrl,
      fetch: settings.fetch,
      token: (refresh) => this.#currentToken(refresh),
      canRefresh: typeof options.token === 'function',
    });
  }

  /** The `seq` of the last message emitted, or the `lastSeq` option before any. Save it to resume later. */
  get lastSeq(): number {
    return this.#sequencer.lastSeq;
  }

  /** Whether the socket is open and the server has sent `ready`. */
  get connected(): boolean {
    return this.#ready;
  }

  /**
   * Adds a listener; returns a function that removes it.
   *
   * @example
   * const stop = client.on('disconnected', ({ code, reconnectInMs }) => {
   *   statusLine.textContent = reconnectInMs === null ? 'Offline' : `Reconnecting in ${reconnectInMs} ms`;
   * });
   */
  on<E extends keyof AppClientEvents>(event: E, listener: (payload: AppClientEvents[E]) => void): () => void {
    return this.#events.on(event, listener);
  }

  off<E extends keyof AppClientEvents>(event: E, listener: (payload: AppClientEvents[E]) => void): void {
    this.#events.off(event, listener);
  }

  /**
   * Starts the connection. Resolves when the server has sent `ready`, after the backlog since
   * `lastSeq` has been emitted. Failed attempts are reported as `error` events and retried with
   * backoff, so the promise stays pending for as long as the server rejects the token.
   * Rejects with code `closed` when `close()` is called first.
   *
   * @example
   * client.on('message', render);
   * await client.connect();
   */
  connect(): Promise<void> {
    if (this.#ready) return Promise.resolve();
    const pending = new Promise<void>((resolve, reject) => this.#connectWaiters.push({ resolve, reject }));
    if (!this.#running) {
      this.#running = true;
      this.#failures = 0;
      void this.#open();
    }
    return pending;
  }

  /**
   * Closes the connection and stops reconnecting. Resolves once the socket has closed.
   * `connect()` may be called again later and resumes after `lastSeq`.
   */
  close(): Promise<void> {
    this.#running = false;
    this.#generation += 1;
    this.#clearTimers();
    const waiters = this.#connectWaiters.splice(0);
    for (const waiter of waiters) waiter.reject(new AppClientError('closed', 'The client was closed before the connection was ready.'));

    const socket = this.#socket;
    if (socket === null) return Promise.resolve();
    const wasReady = this.#ready;
    this.#detach();
    return new Promise<void>((resolve) => {
      socket.onclose = (event: SocketCloseEvent) => {
        if (wasReady) this.#emit('disconnected', { code: event.code, reason: event.reason, reconnectInMs: null });
        resolve();
      };
      socket.close(1000, 'client closed');
    });
  }

  /**
   * Acknowledges that a message reached the app, which ends an `appMessaging` step waiting for
   * `delivered`. Sent over the socket when it is open, else over HTTP. With `autoAck` (the
   * default) the client does this for every message it emits.
   *
   * @example
   * const client = new CascadeAppClient({ baseUrl, token, autoAck: false });
   * client.on('message', async (message) => {
   *   await store.save(message);
   *   await client.ack(message.messageId);
   * });
   */
  ack(messageId: string): Promise<void> {
    return this.#mark({ type: 'ack', messageId });
  }

  /**
   * Marks a message read, which ends an `appMessaging` step waiting for `read` (and implies
   * delivered). Sent over the socket when it is open, else over HTTP. Over the socket the
   * promise resolves once the frame is queued, because the protocol does not confirm it. The
   * frame is sent again after a reconnect in case the connection dropped first.
   *
   * @example
   * item.addEventListener('click', () => client.markRead(message.messageId));
   */
  markRead(messageId: string): Promise<void> {
    return this.#mark({ type: 'read', messageId });
  }

  /**
   * Reads the stored feed over HTTP, oldest first. It does not emit events or move `lastSeq`.
   *
   * @example
   * const { messages, lastSeq } = await client.inbox({ after: 0, limit: 50 });
   */
  inbox(query: InboxQuery = {}): Promise<InboxPage> {
    return this.#http.inbox(query);
  }

  async #currentToken(refresh: boolean): Promise<string> {
    if (typeof this.#tokenSource === 'string') return this.#tokenSource;
    if (this.#token !== null && !refresh) return this.#token;
    let token: unknown;
    try {
      token = await this.#tokenSource();
    } catch (error) {
      throw new AppClientError('token-failed', `The token function failed: ${error instanceof Error ? error.message : String(error)}.`, { cause: error });
    }
    if (typeof token !== 'string' || token === '') {
      throw new AppClientError('token-failed', 'The token function must return a non-empty string.');
    }
    this.#token = token;
    return token;
  }

  async #open(): Promise<void> {
    this.#generation += 1;
    const generation = this.#generation;

    let token: string;
    try {
      token = await this.#currentToken(true);
    } catch (error) {
      if (generation !== this.#generation) return;
      this.#reportError(error);
      this.#scheduleReconnect();
      return;
    }
    if (generation !== this.#generation) return;

    let socket: WebSocketLike;
    try {
      socket = openFeedSocket(this.#WebSocket, this.#socketUrl, token, this.#sequencer.lastSeq);
    } catch (error) {
      this.#reportError(new AppClientError('connection-failed', `Opening the socket to ${this.#socketUrl.origin} failed: ${errorText(error)}.`, { cause: error }));
      this.#scheduleReconnect();
      return;
    }

    this.#socket = socket;
    this.#opened = false;
    this.#ready = false;
    this.#serverErrorSeen = false;
    socket.onopen = () => this.#onOpen(socket);
    socket.onmessage = (event: SocketMessageEvent) => this.#onMessage(socket, event);
    socket.onclose = (event: SocketCloseEvent) => this.#onClose(socket, event);
    // Every error is followed by a close event, which is where the client reacts.
    socket.onerror = () => undefined;
  }

  #onOpen(socket: WebSocketLike): void {
    if (socket !== this.#socket) return;
    this.#opened = true;
    this.#armHeartbeat();
    for (const frame of this.#marks.takeResend()) this.#sendMark(socket, frame);
  }

  #onMessage(socket: WebSocketLike, event: SocketMessageEvent): void {
    if (socket !== this.#socket) return;
    this.#armHeartbeat();
    const text = frameText(event);
    if (text === null) {
      this.#reportError(new AppClientError('invalid-frame', 'The server sent a binary frame; the app feed uses text frames.'));
      return;
    }
    let frame: ServerFrame | null;
    try {
      frame = parseServerFrame(text);
    } catch (error) {
      this.#reportError(error);
      return;
    }
    if (frame === null) return;

    switch (frame.type) {
      case 'message': {
        const { type: _type, ...message } = frame;
        this.#emitMessages(this.#sequencer.receive(message));
        return;
      }
      case 'ready':
        this.#onReady(frame);
        return;
      case 'ping':
        socket.send(JSON.stringify({ type: 'pong' } satisfies ClientFrame));
        return;
      case 'error':
        this.#serverErrorSeen = true;
        this.#reportError(new AppClientError(frame.code, frame.detail === '' ? `The server reported ${frame.code}.` : frame.detail));
        if (frame.messageId !== undefined) this.#onMarkError(frame.code, frame.messageId);
        return;
      default: {
        const unreachable: never = frame;
        return unreachable;
      }
    }
  }

  #onReady(frame: Extract<ServerFrame, { type: 'ready' }>): void {
    // The server reports the end of its feed when the client asked to resume beyond it.
    this.#sequencer.rewind(frame.lastSeq);
    this.#ready = true;
    this.#failures = 0;
    for (const waiter of this.#connectWaiters.splice(0)) waiter.resolve();
    this.#emit('connected', { appUserId: frame.appUserId, lastSeq: frame.lastSeq });
    // The server sends the whole backlog before `ready`, so a higher `lastSeq` there means
    // messages that were not sent on this socket. They are fetched over HTTP.
    if (frame.lastSeq > this.#sequencer.lastSeq) void this.#catchUp(frame.lastSeq);
  }

  #onClose(socket: WebSocketLike, event: SocketCloseEvent): void {
    if (socket !== this.#socket) return;
    const wasReady = this.#ready;
    const wasOpened = this.#opened;
    this.#detach();

    if (!wasReady && !this.#serverErrorSeen) void this.#reportFailedAttempt(wasOpened, event);
    const delay = this.#scheduleReconnect();
    if (wasReady) this.#emit('disconnected', { code: event.code, reason: event.reason, reconnectInMs: delay });
  }

  /** Stops using the current socket; its unconfirmed acknowledgements wait for the next one. */
  #detach(): void {
    this.#socket = null;
    this.#opened = false;
    this.#ready = false;
    this.#clearHeartbeat();
    this.#marks.socketClosed();
  }

  /**
   * Reports a connection attempt that ended before `ready`. Browsers hide the HTTP status of a
   * rejected WebSocket handshake, so when the socket never opened, the token is checked with an
   * inbox request to tell a rejected token from an unreachable server.
   */
  async #reportFailedAttempt(opened: boolean, event: SocketCloseEvent): Promise<void> {
    const closed = `code ${event.code}${event.reason ? `, ${event.reason}` : ''}`;
    if (!opened) {
      try {
        await this.#http.inbox({ after: this.#sequencer.lastSeq, limit: 1 });
      } catch (error) {
        if (error instanceof AppClientError && error.code === 'unauthorized') {
          this.#reportError(error);
          return;
        }
      }
    }
    const stage = opened ? 'before the server sent ready' : 'before it opened';
    this.#reportError(new AppClientError('connection-failed', `The socket to ${this.#socketUrl.origin} closed ${stage} (${closed}).`));
  }

  /** Fetches messages up to `target` over HTTP while socket messages wait in the sequencer. */
  async #catchUp(target: number): Promise<void> {
    if (this.#sequencer.holding) return;
    this.#sequencer.hold();
    try {
      while (this.#running && this.#sequencer.lastSeq < target) {
        const page = await this.#http.inbox({ after: this.#sequencer.lastSeq, limit: CATCH_UP_PAGE });
        this.#emitMessages(this.#sequencer.admit(page.messages));
        if (page.messages.length === 0) break;
      }
      this.#emitMessages(this.#sequencer.release());
    } catch (error) {
      // Emitting the held messages now would skip the ones that could not be fetched. They are
      // dropped instead, and a new socket resumes after the last message emitted.
      this.#sequencer.release();
      this.#reportError(error);
      this.#abandonSocket('catch-up failed');
    }
  }

  #emitMessages(messages: FeedMessage[]): void {
    for (const message of messages) {
      this.#emit('message', message);
      // A message replayed after an acknowledgement already carries `deliveredAt`.
      if (this.#autoAck && (message.deliveredAt ?? null) === null) {
        this.ack(message.messageId).catch((error: unknown) => this.#reportError(error));
      }
    }
  }

  /**
   * Handles an `error` frame about one message's acknowledgement. `ack-failed` means the server
   * could not store it, so the client sends it again with backoff, at most 5 times. Any other
   * code (such as `not-found`) ends the attempts for that message.
   */
  #onMarkError(code: string, messageId: string): void {
    for (const { frame, retry } of this.#marks.failed(code, messageId)) {
      const timer = setTimeout(() => {
        this.#retryTimers.delete(timer);
        if (this.#running) this.#mark(frame).catch((error: unknown) => this.#reportError(error));
      }, reconnectDelay(retry, this.#reconnect));
      this.#retryTimers.add(timer);
    }
  }

  async #mark(frame: MarkFrame): Promise<void> {
    if (typeof frame.messageId !== 'string' || frame.messageId === '') {
      throw new TypeError('messageId must be a non-empty string.');
    }
    const socket = this.#socket;
    if (socket !== null && this.#opened && socket.readyState === SOCKET_OPEN) {
      this.#sendMark(socket, frame);
      return;
    }
    try {
      await this.#http.mark(frame.messageId, frame.type);
    } catch (error) {
      // Kept so that the next socket sends it; the caller still learns of the failure.
      this.#marks.queue(frame);
      throw error;
    }
  }

  #sendMark(socket: WebSocketLike, frame: MarkFrame): void {
    socket.send(JSON.stringify(frame));
    this.#marks.sent(frame);
  }

  #scheduleReconnect(): number {
    const delay = reconnectDelay(this.#failures, this.#reconnect);
    this.#failures += 1;
    if (this.#reconnectTimer !== null) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      if (this.#running) void this.#open();
    }, delay);
    return delay;
  }

  #armHeartbeat(): void {
    this.#clearHeartbeat();
    if (this.#heartbeatTimeoutMs === 0) return;
    this.#heartbeatTimer = setTimeout(() => this.#abandonSocket('no frame from the server within the heartbeat timeout'), this.#heartbeatTimeoutMs);
  }

  #clearHeartbeat(): void {
    if (this.#heartbeatTimer !== null) clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = null;
  }

  #clearTimers(): void {
    this.#clearHeartbeat();
    for (const timer of this.#retryTimers) clearTimeout(timer);
    this.#retryTimers.clear();
    if (this.#reconnectTimer !== null) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
  }

  /**
   * Stops using the current socket at once and reconnects. A close handshake over a dead
   * connection only ends at a timeout (30 s in ws 8), so the client does not wait for it.
   */
  #abandonSocket(reason: string): void {
    const socket = this.#socket;
    if (socket === null) return;
    try {
      socket.close(CLOSE_STALE, reason);
    } catch {
      // The socket may already be closing; the client has stopped listening to it either way.
    }
    this.#onClose(socket, { code: CLOSE_STALE, reason });
  }

  #emit<E extends keyof AppClientEvents>(event: E, payload: AppClientEvents[E]): void {
    this.#events.emit(event, payload, (error) => {
      if (event === 'error') {
        // A throwing error listener has nowhere else to report to, so it surfaces as an uncaught exception.
        queueMicrotask(() => {
          throw error;
        });
      } else {
        this.#reportError(new AppClientError('listener-failed', `A ${String(event)} listener threw: ${errorText(error)}.`, { cause: error }));
      }
    });
  }

  #reportError(error: unknown): void {
    const normalized = error instanceof AppClientError ? error : new AppClientError('request-failed', errorText(error), { cause: error });
    this.#emit('error', normalized);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Creates a `CascadeAppClient`; the same as `new CascadeAppClient(options)`.
 *
 * @example
 * const client = createAppClient({ baseUrl: 'http://127.0.0.1:3000', token, WebSocket });
 */
export function createAppClient(options: AppClientOptions): CascadeAppClient {
  return new CascadeAppClient(options);
}
