import { DEFAULT_RECONNECT, validateReconnectOptions, type ReconnectOptions } from './backoff.js';
import type { AppClientError } from './errors.js';
import type { FetchFunction } from './http.js';
import type { FeedMessage } from './protocol.js';
import type { WebSocketConstructor } from './transport.js';

export interface AppClientOptions {
  /** Base URL of the Cascade server, such as `https://cascade.example.com`. */
  baseUrl: string;
  /**
   * The app token from `POST /v1/app/tokens`, or a function that returns one. The function is
   * called before every connection attempt, so a reconnect after expiry gets a fresh token, and
   * again when an HTTP request is rejected with 401.
   */
  token: string | (() => string | Promise<string>);
  /** WebSocket class. Browsers default to `globalThis.WebSocket`; Node.js 20 passes `WebSocket` from `ws`. */
  WebSocket?: WebSocketConstructor;
  /** `fetch` implementation for the inbox routes; defaults to `globalThis.fetch`. */
  fetch?: FetchFunction;
  /** Acknowledge each message as delivered once the `message` listeners have run. Default true. */
  autoAck?: boolean;
  /** Bounds of the exponential backoff between reconnection attempts. Default 500 ms to 30 s. */
  reconnect?: Partial<ReconnectOptions>;
  /**
   * Resume point: the `seq` of the last message the app has already shown, such as a value of
   * `client.lastSeq` saved earlier. Messages up to it are not emitted again. Default 0, which
   * replays the whole stored feed.
   */
  lastSeq?: number;
  /**
   * Reconnect when no frame has arrived from the server for this long, in milliseconds. The
   * server sends a `ping` frame every 25 s by default, so silence means a dead connection that
   * the network did not report. 0 turns the check off. Default 75,000.
   */
  heartbeatTimeoutMs?: number;
}

/** Payload of the `connected` event. */
export interface ConnectedEvent {
  appUserId: string;
  /**
   * The `seq` of the last message the server sent before `ready`, or the resume point when the
   * feed has nothing newer.
   */
  lastSeq: number;
}

/** Payload of the `disconnected` event. */
export interface DisconnectedEvent {
  /** WebSocket close code; 1006 when the connection dropped without a close frame. */
  code: number;
  reason: string;
  /** Delay before the next connection attempt, or null after `close()`. */
  reconnectInMs: number | null;
}

/** Events of `CascadeAppClient` and their payloads. */
export interface AppClientEvents {
  /** A new message, in `seq` order, at most once per `seq`. */
  message: FeedMessage;
  /** The socket is open and the backlog since `lastSeq` has been received. */
  connected: ConnectedEvent;
  /** A socket closed after `connected` was emitted for it. */
  disconnected: DisconnectedEvent;
  /** Something failed. The client keeps running and reconnects where needed. */
  error: AppClientError;
}

const DEFAULT_HEARTBEAT_TIMEOUT_MS = 75_000;

/** Options with their defaults applied. */
export interface ResolvedOptions {
  baseUrl: string;
  WebSocket: WebSocketConstructor;
  fetch: FetchFunction;
  autoAck: boolean;
  reconnect: ReconnectOptions;
  lastSeq: number;
  heartbeatTimeoutMs: number;
}

/** Applies the defaults; throws a `TypeError` or `RangeError` naming the first invalid option. */
export function resolveOptions(options: AppClientOptions): ResolvedOptions {
  const baseUrl = parseBaseUrl(options.baseUrl);
  const WebSocketClass = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (WebSocketClass === undefined) {
    throw new TypeError('No WebSocket class is available. Pass `WebSocket` from the ws package in the options, because Node.js 20 has no global WebSocket.');
  }
  if (typeof options.token !== 'function' && (typeof options.token !== 'string' || options.token === '')) {
    throw new TypeError('token must be a non-empty string or a function that returns one.');
  }
  const reconnect = { ...DEFAULT_RECONNECT, ...options.reconnect };
  validateReconnectOptions(reconnect);
  const lastSeq = options.lastSeq ?? 0;
  if (!Number.isSafeInteger(lastSeq) || lastSeq < 0) {
    throw new RangeError(`lastSeq must be a non-negative integer; received ${String(options.lastSeq)}.`);
  }
  const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS;
  if (!Number.isFinite(heartbeatTimeoutMs) || heartbeatTimeoutMs < 0) {
    throw new RangeError(`heartbeatTimeoutMs must be 0 or a positive number of milliseconds; received ${String(options.heartbeatTimeoutMs)}.`);
  }

  return {
    baseUrl,
    WebSocket: WebSocketClass,
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    autoAck: options.autoAck ?? true,
    reconnect,
    lastSeq,
    heartbeatTimeoutMs,
  };
}

function parseBaseUrl(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new TypeError(`baseUrl must be an absolute http(s) URL such as https://cascade.example.com; received "${baseUrl}".`);
  }
  if (!['http:', 'https:'].includes(url.protocol)) {
    throw new TypeError(`baseUrl must start with http: or https:; received ${url.protocol}.`);
  }
  return url.toString();
}
