import { createHash } from 'node:crypto';
import type { FeedMessage } from './protocol.js';
import type { FeedEntry } from './types.js';

/**
 * Largest push message plaintext in bytes. Push services must accept 4096 bytes of body
 * (RFC 8030 section 7.2), and the aes128gcm header (86 bytes), the padding delimiter (1 byte)
 * and the AES-GCM tag (16 bytes) leave 3993 bytes for the plaintext (RFC 8291 section 4).
 */
export const MAX_PUSH_PLAINTEXT_BYTES = 3993;

/** A push message that carries the whole feed message, in the shape of the socket's `message` frame. */
export type FullPushPayload = { type: 'message' } & FeedMessage;

/**
 * A push message for a feed message too large for one push. It leaves out `body` and `data`,
 * and `title` too when the title alone does not fit. The app reads the whole message from the
 * inbox (`/v1/app/inbox`) or the socket.
 */
export interface TruncatedPushPayload {
  type: 'message';
  messageId: string;
  seq: number;
  title: string | null;
  sentOn: string;
  truncated: true;
}

export type PushPayload = FullPushPayload | TruncatedPushPayload;

/**
 * Builds the JSON plaintext of the push for one feed entry: the full message when it fits in
 * `MAX_PUSH_PLAINTEXT_BYTES`, else a `TruncatedPushPayload`.
 */
export function buildPushPayload(entry: FeedEntry): { json: string; payload: PushPayload } {
  const sentOn = new Date(entry.sentOn).toISOString();
  const full: FullPushPayload = {
    type: 'message',
    messageId: entry.messageId,
    seq: entry.seq,
    title: entry.title,
    body: entry.body,
    sentOn,
    data: entry.data,
  };
  const fullJson = JSON.stringify(full);
  if (Buffer.byteLength(fullJson, 'utf8') <= MAX_PUSH_PLAINTEXT_BYTES) {
    return { json: fullJson, payload: full };
  }

  const withTitle: TruncatedPushPayload = { type: 'message', messageId: entry.messageId, seq: entry.seq, title: entry.title, sentOn, truncated: true };
  const withTitleJson = JSON.stringify(withTitle);
  if (Buffer.byteLength(withTitleJson, 'utf8') <= MAX_PUSH_PLAINTEXT_BYTES) {
    return { json: withTitleJson, payload: withTitle };
  }
  const bare: TruncatedPushPayload = { ...withTitle, title: null };
  return { json: JSON.stringify(bare), payload: bare };
}

/**
 * Derives the RFC 8030 `Topic` of a message's push: 32 base64url characters of the SHA-256 of
 * the message id. A push service replaces an undelivered push with a newer one of the same topic
 * on the same subscription, so a resend of one message leaves one notification, while different
 * messages never replace each other.
 */
export function pushTopic(messageId: string): string {
  return createHash('sha256').update(messageId, 'utf8').digest().subarray(0, 24).toString('base64url');
}
