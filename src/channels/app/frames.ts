import type { ClientFrame, FeedMessage, ServerFrame } from './protocol.js';
import type { FeedEntry } from './types.js';

/** Maximum client frame size in bytes. A larger frame closes the socket with code 1009. */
export const MAX_CLIENT_FRAME_BYTES = 4096;
/** Maximum message id length in an `ack` or `read` frame. Cascade's ids are 36-character UUIDs. */
export const MAX_MESSAGE_ID_LENGTH = 128;

export type ClientFrameResult =
  | { ok: true; frame: ClientFrame }
  | { ok: false; code: 'invalid-frame' | 'unknown-frame-type'; detail: string };

/** Parses one client frame. Extra fields are ignored, so clients may add fields later. */
export function parseClientFrame(text: string): ClientFrameResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, code: 'invalid-frame', detail: 'The frame is not valid JSON. Send a JSON object with a type field.' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, code: 'invalid-frame', detail: 'The frame is not a JSON object. Send a JSON object with a type field.' };
  }
  const record = value as Record<string, unknown>;
  const type = record.type;
  switch (type) {
    case 'pong':
      return { ok: true, frame: { type: 'pong' } };
    case 'ack':
    case 'read': {
      const messageId = record.messageId;
      if (typeof messageId !== 'string' || messageId.length === 0 || messageId.length > MAX_MESSAGE_ID_LENGTH) {
        return {
          ok: false,
          code: 'invalid-frame',
          detail: `A ${type} frame needs messageId: a string of 1 to ${MAX_MESSAGE_ID_LENGTH} characters.`,
        };
      }
      return { ok: true, frame: { type, messageId } };
    }
    default: {
      const typeText = typeof type === 'string' ? JSON.stringify(type.slice(0, 32)) : 'missing';
      return { ok: false, code: 'unknown-frame-type', detail: `The frame type is ${typeText}, but only ack, read and pong are accepted.` };
    }
  }
}

/** Converts a feed entry to the form clients see, in frames and inbox pages. */
export function toFeedMessage(entry: FeedEntry): FeedMessage {
  return {
    messageId: entry.messageId,
    seq: entry.seq,
    title: entry.title,
    body: entry.body,
    sentOn: new Date(entry.sentOn).toISOString(),
    data: entry.data,
    deliveredAt: entry.deliveredAt === null ? null : new Date(entry.deliveredAt).toISOString(),
    readAt: entry.readAt === null ? null : new Date(entry.readAt).toISOString(),
  };
}

export function messageFrame(entry: FeedEntry): ServerFrame {
  return { type: 'message', ...toFeedMessage(entry) };
}
