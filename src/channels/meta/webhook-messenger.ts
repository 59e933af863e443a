/**
 * Messenger Platform webhooks (`object: "page"`). Each `entry[].messaging[]` is one event from
 * one person: `delivery` (`message_deliveries`), `read` (`message_reads`) or `message`
 * (`messages`, including echoes of what the Page sent when `message_echoes` is subscribed).
 * `sender.id` is the person's page-scoped id and `recipient.id` the Page, except in echoes.
 * Timestamps and watermarks are epoch milliseconds.
 */

import {
  describeValue,
  isRecord,
  MAX_EVENTS_PER_BODY,
  MAX_TEXT_LENGTH,
  readString,
  type JsonRecord,
  type WebhookReader,
} from './webhook-reader.js';
import type { MessengerWatermarkState } from './webhook-types.js';

/** Event keys besides the content of the event itself. */
const ENVELOPE_KEYS: ReadonlySet<string> = new Set(['sender', 'recipient', 'timestamp']);

function readEpochMillis(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : null;
}

function readPartyId(party: unknown): string | null {
  return isRecord(party) ? readString(party.id) : null;
}

/** `mids` of a delivery event: absent means none listed; anything but an array of ids is invalid. */
function readMids(value: unknown): string[] | null {
  if (value === undefined) {
    return [];
  }
  if (!Array.isArray(value) || value.length > MAX_EVENTS_PER_BODY) {
    return null;
  }
  const mids: string[] = [];
  for (const mid of value) {
    const id = readString(mid);
    if (id === null) {
      return null;
    }
    mids.push(id);
  }
  return mids;
}

function readWatermark(
  event: JsonRecord,
  receipt: JsonRecord,
  state: MessengerWatermarkState,
  context: { path: string; pageId: string | null; reader: WebhookReader },
): void {
  const { path, reader } = context;
  const psid = readPartyId(event.sender);
  if (psid === null) {
    reader.skip(path, 'sender.id is missing');
    return;
  }
  const watermark = readEpochMillis(receipt.watermark);
  if (watermark === null) {
    reader.skip(path, `${state === 'delivered' ? 'delivery' : 'read'}.watermark is missing or not epoch milliseconds`);
    return;
  }
  const mids = state === 'delivered' ? readMids(receipt.mids) : [];
  if (mids === null) {
    reader.skip(path, 'delivery.mids is not an array of message ids');
    return;
  }

  const pageId = readPartyId(event.recipient) ?? context.pageId;
  reader.add({ kind: 'watermark', channel: 'fbMessenger', state, psid, pageId, watermark, mids });
}

function readInbound(event: JsonRecord, message: JsonRecord, path: string, reader: WebhookReader): void {
  if (message.is_echo === true) {
    reader.skip(path, 'message echo of a message the Page sent, not an inbound message');
    return;
  }
  const from = readPartyId(event.sender);
  if (from === null) {
    reader.skip(path, 'sender.id is missing');
    return;
  }
  const mid = readString(message.mid);
  if (mid === null) {
    reader.skip(path, 'message.mid is missing');
    return;
  }
  const timestamp = readEpochMillis(event.timestamp);
  if (timestamp === null) {
    reader.skip(path, 'timestamp is missing or not epoch milliseconds');
    return;
  }

  // Attachments, stickers and other content without `text` have no text to report.
  const text = typeof message.text === 'string' ? message.text.slice(0, MAX_TEXT_LENGTH) : null;
  reader.add({ kind: 'inbound', channel: 'fbMessenger', from, providerMessageId: mid, timestamp, text });
}

function readEvent(event: unknown, path: string, pageId: string | null, reader: WebhookReader): void {
  if (!isRecord(event)) {
    reader.skip(path, `expected an object, got ${describeValue(event)}`);
    return;
  }
  if (isRecord(event.delivery)) {
    readWatermark(event, event.delivery, 'delivered', { path, pageId, reader });
    return;
  }
  if (isRecord(event.read)) {
    readWatermark(event, event.read, 'read', { path, pageId, reader });
    return;
  }
  if (isRecord(event.message)) {
    readInbound(event, event.message, path, reader);
    return;
  }

  const kinds = Object.keys(event).filter((key) => !ENVELOPE_KEYS.has(key));
  const kind = kinds.length === 0 ? 'an empty event' : `event ${kinds.slice(0, 3).map(describeValue).join(', ')}`;
  reader.skip(path, `${kind} is not handled, only delivery, read and message`);
}

/** Reads the `entry` array of a `page` webhook body into `reader`. */
export function readMessengerEntries(entries: readonly unknown[], reader: WebhookReader): void {
  entries.forEach((entry, entryIndex) => {
    const entryPath = `entry[${entryIndex}]`;
    if (!isRecord(entry)) {
      reader.skip(entryPath, `expected an object, got ${describeValue(entry)}`);
      return;
    }
    // Under the handover protocol, events for conversations another app controls arrive in `standby`.
    if (entry.standby !== undefined) {
      reader.skip(`${entryPath}.standby`, 'standby events of the handover protocol are not handled');
    }
    if (entry.messaging === undefined && entry.standby === undefined) {
      reader.skip(entryPath, 'messaging is missing');
      return;
    }
    const pageId = readString(entry.id);
    reader.readEach(entry.messaging, `${entryPath}.messaging`, (event, eventPath) =>
      readEvent(event, eventPath, pageId, reader),
    );
  });
}
