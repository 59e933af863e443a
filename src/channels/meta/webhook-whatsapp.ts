/**
 * WhatsApp Cloud API `messages` webhooks (`object: "whatsapp_business_account"`). Each
 * `entry[].changes[]` with `field: "messages"` carries a `value` with `statuses[]` (updates on
 * messages the business sent) and `messages[]` (messages a WhatsApp user sent). Timestamps are
 * Unix seconds as strings, and phone numbers are digits without the leading `+`.
 */

import {
  describeValue,
  isRecord,
  MAX_TEXT_LENGTH,
  MAX_TITLE_LENGTH,
  readString,
  type JsonRecord,
  type WebhookReader,
} from './webhook-reader.js';
import type { WhatsAppStatusState } from './webhook-types.js';

const STATUS_STATES: ReadonlySet<string> = new Set<WhatsAppStatusState>(['sent', 'delivered', 'read', 'failed']);

/** A WhatsApp id: an international number of 6 to 15 digits (E.164), sent without `+`. */
const WHATSAPP_NUMBER = /^\+?([1-9]\d{5,14})$/;

/** Unix seconds of at most 12 digits, which covers every date up to the year 33658. */
const UNIX_SECONDS = /^\d{1,12}$/;

/** `+` and the digits of a WhatsApp number, or null when `value` is not one. */
function readWhatsAppNumber(value: unknown): string | null {
  if (typeof value !== 'string') {
    return null;
  }
  const match = WHATSAPP_NUMBER.exec(value);
  return match === null ? null : `+${match[1]}`;
}

/** Epoch milliseconds from Unix seconds given as a digit string (as documented) or a number. */
function readUnixSeconds(value: unknown): number | null {
  let seconds: number;
  if (typeof value === 'string' && UNIX_SECONDS.test(value)) {
    seconds = Number(value);
  } else if (typeof value === 'number' && Number.isSafeInteger(value)) {
    seconds = value;
  } else {
    return null;
  }
  return seconds > 0 ? seconds * 1000 : null;
}

/** Returns a Graph error code, a number in the documented payloads, as a decimal string. */
function readErrorCode(value: unknown): string | null {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
    return String(value);
  }
  if (typeof value === 'string' && /^\d{1,12}$/.test(value)) {
    return value;
  }
  return null;
}

function readShortText(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) {
    return null;
  }
  return value.slice(0, MAX_TITLE_LENGTH);
}

/**
 * Reads the code and title of the first entry of `errors[]`. Meta plans to drop `title`, and its
 * text also starts `message`, so `message` is used when `title` is missing.
 */
function readFirstError(errors: unknown): { code: string | null; title: string | null } {
  if (!Array.isArray(errors) || !isRecord(errors[0])) {
    return { code: null, title: null };
  }
  const first = errors[0];
  return { code: readErrorCode(first.code), title: readShortText(first.title) ?? readShortText(first.message) };
}

function readStatus(status: unknown, path: string, phoneNumberId: string | null, reader: WebhookReader): void {
  if (!isRecord(status)) {
    reader.skip(path, `expected an object, got ${describeValue(status)}`);
    return;
  }
  const id = readString(status.id);
  if (id === null) {
    reader.skip(path, `id is ${describeValue(status.id)}, expected a message id`);
    return;
  }
  if (typeof status.status !== 'string' || !STATUS_STATES.has(status.status)) {
    reader.skip(path, `status ${describeValue(status.status)} is not sent, delivered, read or failed`);
    return;
  }
  const recipient = readWhatsAppNumber(status.recipient_id);
  if (recipient === null) {
    reader.skip(path, 'recipient_id is missing or not a phone number');
    return;
  }
  const timestamp = readUnixSeconds(status.timestamp);
  if (timestamp === null) {
    reader.skip(path, 'timestamp is missing or not Unix seconds');
    return;
  }

  const error = readFirstError(status.errors);
  reader.add({
    kind: 'status',
    channel: 'whatsApp',
    providerMessageId: id,
    state: status.status as WhatsAppStatusState,
    recipient,
    timestamp,
    errorCode: error.code,
    errorTitle: error.title,
    phoneNumberId,
  });
}

function readMessage(message: unknown, path: string, reader: WebhookReader): void {
  if (!isRecord(message)) {
    reader.skip(path, `expected an object, got ${describeValue(message)}`);
    return;
  }
  const id = readString(message.id);
  if (id === null) {
    reader.skip(path, `id is ${describeValue(message.id)}, expected a message id`);
    return;
  }
  const from = readWhatsAppNumber(message.from);
  if (from === null) {
    reader.skip(path, 'from is missing or not a phone number');
    return;
  }
  const timestamp = readUnixSeconds(message.timestamp);
  if (timestamp === null) {
    reader.skip(path, 'timestamp is missing or not Unix seconds');
    return;
  }

  let text: string | null = null;
  if (message.type === 'text' && isRecord(message.text) && typeof message.text.body === 'string') {
    text = message.text.body.slice(0, MAX_TEXT_LENGTH);
  }
  reader.add({ kind: 'inbound', channel: 'whatsApp', from, providerMessageId: id, timestamp, text });
}

function readValue(value: JsonRecord, path: string, reader: WebhookReader): void {
  const phoneNumberId = isRecord(value.metadata) ? readString(value.metadata.phone_number_id) : null;

  // Errors of the whole update rather than of one message, such as a webhook Meta could not build.
  if (Array.isArray(value.errors) && value.errors.length > 0) {
    const { code } = readFirstError(value.errors);
    reader.skip(`${path}.errors`, `WhatsApp reported ${value.errors.length} error(s), first code ${code ?? 'unknown'}`);
  }

  reader.readEach(value.statuses, `${path}.statuses`, (status, statusPath) =>
    readStatus(status, statusPath, phoneNumberId, reader),
  );
  reader.readEach(value.messages, `${path}.messages`, (message, messagePath) =>
    readMessage(message, messagePath, reader),
  );
}

/** Reads the `entry` array of a `whatsapp_business_account` webhook body into `reader`. */
export function readWhatsAppEntries(entries: readonly unknown[], reader: WebhookReader): void {
  entries.forEach((entry, entryIndex) => {
    const entryPath = `entry[${entryIndex}]`;
    if (!isRecord(entry) || !Array.isArray(entry.changes)) {
      reader.skip(entryPath, 'changes is missing or not an array');
      return;
    }
    entry.changes.forEach((change: unknown, changeIndex: number) => {
      const changePath = `${entryPath}.changes[${changeIndex}]`;
      if (!isRecord(change)) {
        reader.skip(changePath, `expected an object, got ${describeValue(change)}`);
        return;
      }
      if (change.field !== 'messages') {
        reader.skip(changePath, `field ${describeValue(change.field)} is not handled, only "messages"`);
        return;
      }
      if (!isRecord(change.value)) {
        reader.skip(`${changePath}.value`, `expected an object, got ${describeValue(change.value)}`);
        return;
      }
      readValue(change.value, `${changePath}.value`, reader);
    });
  });
}
