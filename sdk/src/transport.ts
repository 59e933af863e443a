import { APP_SOCKET_PROTOCOL } from './protocol.js';

/**
 * The part of a WebSocket the client uses. Both the browser's `WebSocket` and the `ws`
 * package's class fit. The handler parameters are typed `never` so that either class's own
 * event types are accepted. The client reads only `data` of messages and `code` and `reason`
 * of close events.
 */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket class: `globalThis.WebSocket` in browsers, `WebSocket` from `ws` on Node.js 20. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

export interface SocketMessageEvent {
  data: unknown;
}

export interface SocketCloseEvent {
  code: number;
  reason: string;
}

/** `readyState` of an open socket, the same in browsers and in `ws`. */
export const SOCKET_OPEN = 1;

/** Characters allowed in an HTTP token (RFC 9110, section 5.6.2), and so in a subprotocol name. */
const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Returns the URL of the feed socket for an HTTP(S) or WS(S) base URL. */
export function socketUrlFor(baseUrl: string): URL {
  const url = new URL('v1/app/socket', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  return url;
}

/**
 * Opens the feed socket, resuming after `after`. The token goes in `Sec-WebSocket-Protocol`,
 * which keeps it out of URLs and access logs. It moves to the `token` query parameter only when
 * it cannot be a subprotocol name or the WebSocket class rejects the subprotocol list.
 */
export function openFeedSocket(WebSocketClass: WebSocketConstructor, base: URL, token: string, after: number): WebSocketLike {
  const url = new URL(base);
  url.searchParams.set('after', String(after));
  if (HTTP_TOKEN.test(token)) {
    try {
      return new WebSocketClass(url.toString(), [APP_SOCKET_PROTOCOL, token]);
    } catch (error) {
      // Browsers and ws throw a SyntaxError for a subprotocol list they cannot send.
      if (!(error instanceof Error) || error.name !== 'SyntaxError') throw error;
    }
  }
  url.searchParams.set('token', token);
  return new WebSocketClass(url.toString(), APP_SOCKET_PROTOCOL);
}

/** Reads the text of a message event; ws delivers text frames as strings through `onmessage`. */
export function frameText(event: SocketMessageEvent): string | null {
  return typeof event.data === 'string' ? event.data : null;
}
