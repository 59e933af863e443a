/**
 * Bounded bookkeeping and JSON checks shared by the WhatsApp and Messenger webhook parsers.
 * Webhook bodies come from the network, so every value is checked before it is used, and the
 * work done for one body has a fixed ceiling.
 */

import type { MetaWebhookItem, MetaWebhookParse } from './webhook-types.js';

/**
 * Maximum events (statuses, messages, messaging entries) read from one body; later events are
 * skipped with one summary reason.
 *
 * NOTE: a chosen ceiling, not a documented Meta limit. Meta batches several events per call, and
 * events past the ceiling are lost unless the caller rejects the body so that Meta sends it again.
 */
export const MAX_EVENTS_PER_BODY = 1000;

/** Maximum skip reasons kept for one body; the rest are counted in a final summary line. */
export const MAX_SKIP_REASONS = 100;

/** Upper bounds on the strings taken from a body, so one item cannot hold megabytes. */
export const MAX_ID_LENGTH = 512;
export const MAX_TITLE_LENGTH = 256;
/** WhatsApp and Messenger both cap a text message at a few thousand characters; 65,536 leaves room. */
export const MAX_TEXT_LENGTH = 65_536;

export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Returns `value` when it is a non-empty string of at most `maxLength` characters, else null. */
export function readString(value: unknown, maxLength: number = MAX_ID_LENGTH): string | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    return null;
  }
  return value;
}

/**
 * Describes an unexpected value in a few words for a skip reason. Only enum-like words are quoted,
 * so that message text, phone numbers and other personal data never reach a skip reason or a log.
 */
export function describeValue(value: unknown): string {
  if (value === undefined) {
    return 'missing';
  }
  if (typeof value === 'string' && /^[a-z][a-z0-9_]{0,39}$/i.test(value)) {
    return `"${value}"`;
  }
  if (value === null) {
    return 'null';
  }
  if (Array.isArray(value)) {
    return 'an array';
  }
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function countOf(count: number, noun: string): string {
  return count === 1 ? `1 ${noun}` : `${count} ${noun}s`;
}

/**
 * Collects items and skip reasons for one body and enforces the limits above. Parsers walk
 * each event array with `readEach`, which stops at the event budget.
 */
export class WebhookReader {
  private readonly items: MetaWebhookItem[] = [];
  private readonly skipped: string[] = [];
  private eventCount = 0;
  private droppedEvents = 0;
  private droppedReasons = 0;

  /** Returns how many of `count` further events may be read, and counts the rest as dropped. */
  private reserve(count: number): number {
    const allowed = Math.min(count, MAX_EVENTS_PER_BODY - this.eventCount);
    this.eventCount += allowed;
    this.droppedEvents += count - allowed;
    return allowed;
  }

  /**
   * Calls `read` for each element of the event array `events` in order, up to the event budget.
   * A missing array is fine; any other non-array value is skipped with a reason.
   */
  readEach(events: unknown, path: string, read: (event: unknown, eventPath: string) => void): void {
    if (events === undefined) {
      return;
    }
    if (!Array.isArray(events)) {
      this.skip(path, `expected an array, got ${describeValue(events)}`);
      return;
    }
    const allowed = this.reserve(events.length);
    for (let index = 0; index < allowed; index += 1) {
      read(events[index], `${path}[${index}]`);
    }
  }

  add(item: MetaWebhookItem): void {
    this.items.push(item);
  }

  skip(path: string, reason: string): void {
    if (this.skipped.length >= MAX_SKIP_REASONS) {
      this.droppedReasons += 1;
      return;
    }
    this.skipped.push(`${path}: ${reason}`);
  }

  finish(): MetaWebhookParse {
    const skipped = [...this.skipped];
    if (this.droppedEvents > 0) {
      skipped.push(`${countOf(this.droppedEvents, 'event')} after the first ${MAX_EVENTS_PER_BODY} not read`);
    }
    if (this.droppedReasons > 0) {
      skipped.push(`${countOf(this.droppedReasons, 'further skip reason')} left out`);
    }
    return { items: [...this.items], skipped };
  }
}
