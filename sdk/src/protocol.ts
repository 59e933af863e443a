import { AppClientError } from './errors.js';

/**
 * WebSocket subprotocol of the app feed. The client offers it first and the app token second
 * (`Sec-WebSocket-Protocol: cascade.v1, <token>`); the server selects `cascade.v1`.
 */
export const APP_SOCKET_PROTOCOL = 'cascade.v1';

/** One message in an app user's feed. */
export interface FeedMessage {
  /** Cascade message id, the same id the sending API returned. */
  messageId: string;
  /** Position in the app user's feed. It only grows, so it orders the feed and marks a resume point. */
  seq: number;
  title: string | null;
  body: string;
  /** RFC 3339 time the message was handed to the app channel. */
  sentOn: string;
  /** `customBody.appMessaging.data` of the send request, passed through unchanged. */
  data: Record<string, unknown> | null;
  /**
   * RFC 3339 times an app of this user acknowledged the message as delivered and as read, or
   * null. The server always sends both; the client sets a missing one to null.
   */
  deliveredAt?: string | null;
  readAt?: string | null;
}

/** A page of `GET /v1/app/inbox`: messages with `seq` above the requested `after`, oldest first. */
export interface InboxPage {
  messages: FeedMessage[];
  /** The `seq` of the last message returned, else the `after` the server used; pass it as the next `after`. */
  lastSeq: number;
}

/** Frames the server sends, as JSON text. */
export type ServerFrame =
  | ({ type: 'message' } & FeedMessage)
  /** Sent once per connection, after the backlog of messages the client asked for with `after`. */
  | { type: 'ready'; appUserId: string; lastSeq: number }
  | { type: 'ping'; at: string }
  /** `messageId` is set when the error is about the `ack` or `read` of one message. */
  | { type: 'error'; code: string; detail: string; messageId?: string };

/** Frames the client sends, as JSON text. The server applies repeated acknowledgements once. */
export type ClientFrame = { type: 'ack'; messageId: string } | { type: 'read'; messageId: string } | { type: 'pong' };

/**
 * Close codes the server uses besides the standard ones (1001 when the server stops, 1008
 * after repeated invalid frames, 1009 for a frame over the size limit). The client reconnects
 * after each of them.
 */
export const APP_SOCKET_CLOSE_CODES = {
  /** The app token expired while the socket was open. */
  tokenExpired: 4401,
  /** No `pong` arrived within the timeout after a `ping`. */
  pongTimeout: 4408,
} as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(where: string, problem: string): AppClientError {
  return new AppClientError('invalid-frame', `The server sent an invalid ${where}: ${problem}.`);
}

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Validates one feed message from a socket frame or an inbox response and returns it without
 * extra fields. A missing `title` or `data` reads as null. Throws `AppClientError` with code
 * `invalid-frame`; the message names the field but never includes its value.
 */
export function parseFeedMessage(value: unknown, where = 'message'): FeedMessage {
  if (!isRecord(value)) throw invalid(where, 'expected a JSON object');
  const { messageId, seq, title, body, sentOn, data } = value;
  if (typeof messageId !== 'string' || messageId === '') throw invalid(where, '`messageId` must be a non-empty string');
  if (!isSeq(seq)) throw invalid(where, '`seq` must be a non-negative integer');
  if (title !== undefined && title !== null && typeof title !== 'string') throw invalid(where, '`title` must be a string or null');
  if (typeof body !== 'string') throw invalid(where, '`body` must be a string');
  if (typeof sentOn !== 'string') throw invalid(where, '`sentOn` must be a string');
  if (data !== undefined && data !== null && !isRecord(data)) throw invalid(where, '`data` must be an object or null');
  return {
    messageId,
    seq,
    title: title ?? null,
    body,
    sentOn,
    data: data ?? null,
    deliveredAt: optionalTime(value.deliveredAt, where, 'deliveredAt'),
    readAt: optionalTime(value.readAt, where, 'readAt'),
  };
}

function optionalTime(value: unknown, where: string, field: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalid(where, `\`${field}\` must be a string or null`);
  return value;
}

/**
 * Parses one text frame from the server. Returns null for a frame type this version does not
 * know, so that a newer server can add frames. Throws `AppClientError` with code
 * `invalid-frame` for text that is not JSON or a known frame with wrong fields.
 */
export function parseServerFrame(text: string): ServerFrame | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid('frame', 'it is not JSON');
  }
  if (!isRecord(value) || typeof value.type !== 'string') throw invalid('frame', 'expected an object with a string `type`');

  switch (value.type) {
    case 'message':
      return { type: 'message', ...parseFeedMessage(value) };
    case 'ready':
      if (typeof value.appUserId !== 'string') throw invalid('ready frame', '`appUserId` must be a string');
      if (!isSeq(value.lastSeq)) throw invalid('ready frame', '`lastSeq` must be a non-negative integer');
      return { type: 'ready', appUserId: value.appUserId, lastSeq: value.lastSeq };
    case 'ping':
      return { type: 'ping', at: typeof value.at === 'string' ? value.at : '' };
    case 'error':
      if (typeof value.code !== 'string') throw invalid('error frame', '`code` must be a string');
      return {
        type: 'error',
        code: value.code,
        detail: typeof value.detail === 'string' ? value.detail : '',
        ...(typeof value.messageId === 'string' ? { messageId: value.messageId } : {}),
      };
    default:
      return null;
  }
}
