/**
 * The app feed protocol, shared by the server (`/v1/app/socket`, `/v1/app/inbox`) and the
 * client SDK. Frames are JSON text. Ids are Cascade message ids; `seq` orders one app user's
 * feed and only grows.
 */

/** WebSocket subprotocol that carries the app token: `Sec-WebSocket-Protocol: cascade.v1, <token>`. */
export const APP_SOCKET_PROTOCOL = 'cascade.v1';

export interface FeedMessage {
  messageId: string;
  /** Position in the app user's feed, for ordering and resuming. */
  seq: number;
  title: string | null;
  body: string;
  /** RFC 3339 time the message was handed to the app channel. */
  sentOn: string;
  /** `customBody.appMessaging.data`, passed through to the app. */
  data: Record<string, unknown> | null;
  /**
   * RFC 3339 times an app of this user acknowledged the message as delivered and as read, or
   * null. Frames and inbox pages from the server always carry both.
   */
  deliveredAt?: string | null;
  readAt?: string | null;
}

/** `GET /v1/app/inbox` response: messages with `seq > after`, oldest first. */
export interface InboxPage {
  messages: FeedMessage[];
  /** The `seq` of the last message returned, else the `after` the server used. Pass it as the next `after`. */
  lastSeq: number;
}

/** Frames the server sends. */
export type ServerFrame =
  | ({ type: 'message' } & FeedMessage)
  /** Sent once after the socket opens, after the backlog the client asked for. */
  | { type: 'ready'; appUserId: string; lastSeq: number }
  | { type: 'ping'; at: string }
  /** `messageId` is set when the error is about one message's `ack` or `read`. */
  | { type: 'error'; code: string; detail: string; messageId?: string };

/** Frames the client sends. Acknowledgements are idempotent. */
export type ClientFrame =
  | { type: 'ack'; messageId: string }
  | { type: 'read'; messageId: string }
  | { type: 'pong' };

/**
 * Query parameters of `/v1/app/socket`: `token` (when the subprotocol header cannot carry it)
 * and `after`, the last `seq` the client has seen; the server first sends every feed message
 * with a larger `seq`, oldest first, then `ready`.
 */
export interface SocketQuery {
  token?: string;
  after?: string;
}

/**
 * Close codes the server uses besides the standard ones (1001 when the server stops, 1008
 * after repeated invalid frames, 1009 for a frame over the size limit).
 */
export const APP_SOCKET_CLOSE_CODES = {
  /** The app token expired while the socket was open. Reconnect with a new token. */
  tokenExpired: 4401,
  /** No `pong` arrived in time after a `ping`. */
  pongTimeout: 4408,
} as const;
