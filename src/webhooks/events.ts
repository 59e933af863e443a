import type { EventType } from '../routing/types.js';
import type { OutboxEvent, OutboxInbound, WebhookEventType } from './types.js';

/**
 * Webhook events built from the message timeline (the `events` table) and from inbound
 * messages. The engine's events map to webhook types as follows:
 *
 * | engine event                    | when                          | webhook type        | `status`              |
 * | ------------------------------- | ----------------------------- | ------------------- | --------------------- |
 * | `attempt.accepted`              | always                        | `message.sent`      | `sent`                |
 * | `receipt.applied`/`receipt.late` | `state` is `delivered`       | `message.delivered` | `delivered`           |
 * | `receipt.applied`/`receipt.late` | `state` is `read`            | `message.read`      | `read`                |
 * | `message.fallback`              | always                        | `message.fallback`  | `processing`          |
 * | `message.finished`              | `status` `failed`/`filtered`  | `message.failed`    | `failed` / `filtered` |
 * | `message.finished`              | `status` `expired`            | `message.expired`   | `expired`             |
 *
 * Nothing else is sent. Failure receipts move routing on, which `message.fallback` or
 * `message.failed` reports. A message that finishes `sent`, `delivered` or `read` was reported
 * by the event of its attempt or receipt, and a cancelled message gets no event. A late
 * receipt for a step that routing had left (`receipt.late`) is still reported, with that step.
 */

/** The engine event types that can produce a webhook event; the dispatcher reads only these. */
export const SOURCE_EVENT_TYPES: EventType[] = ['attempt.accepted', 'receipt.applied', 'receipt.late', 'message.fallback', 'message.finished'];

/** A webhook body before serialization. */
export interface WebhookPayload {
  type: WebhookEventType;
  /** When the event happened, RFC 3339. */
  timestamp: string;
  data: Record<string, unknown>;
}

/** Build the webhook payload of a timeline event, or null when the event is not sent. */
export function payloadForEvent(event: OutboxEvent): WebhookPayload | null {
  const classified = classify(event);
  if (classified === null) return null;

  const data: Record<string, unknown> = {
    messageId: event.messageId,
    sequence: event.seq,
    status: classified.status,
    step: event.step,
    attempt: event.attempt,
    channel: event.channel,
    ...classified.extra,
    metadata: event.metadata,
  };
  return { type: classified.type, timestamp: toIso(event.createdAt), data };
}

/** Build the `message.inbound` payload of an inbound message. */
export function payloadForInbound(inbound: OutboxInbound): WebhookPayload {
  return {
    type: 'message.inbound',
    timestamp: toIso(inbound.receivedAt),
    data: {
      channel: inbound.channel,
      from: inbound.address,
      text: inbound.text,
      providerMessageId: inbound.providerMessageId,
      providerTimestamp: toIso(inbound.providerTimestamp),
    },
  };
}

interface Classified {
  type: WebhookEventType;
  status: string;
  extra: Record<string, unknown>;
}

function classify(event: OutboxEvent): Classified | null {
  const { data } = event;
  switch (event.type) {
    case 'attempt.accepted':
      return { type: 'message.sent', status: 'sent', extra: { providerMessageId: stringOrNull(data.providerMessageId) } };

    case 'receipt.applied':
    case 'receipt.late': {
      if (data.state !== 'delivered' && data.state !== 'read') return null;
      const timestamp = event.receipt?.providerTimestamp ?? null;
      return {
        type: data.state === 'delivered' ? 'message.delivered' : 'message.read',
        status: data.state,
        extra: {
          // The id the send call returned, as in `message.sent`; a receipt may write it in another form (SMPP decimal or hex).
          providerMessageId: event.attemptProviderMessageId ?? event.receipt?.providerMessageId ?? null,
          providerTimestamp: timestamp === null ? null : toIso(timestamp),
        },
      };
    }

    case 'message.fallback':
      return {
        type: 'message.fallback',
        status: 'processing',
        extra: { fromStep: numberOrNull(data.from), fromChannel: stringOrNull(data.fromChannel), reason: stringOrNull(data.reason) },
      };

    case 'message.finished':
      if (data.status === 'failed' || data.status === 'filtered') return { type: 'message.failed', status: data.status, extra: {} };
      if (data.status === 'expired') return { type: 'message.expired', status: 'expired', extra: {} };
      return null;

    default:
      return null;
  }
}

function toIso(ms: number): string {
  return new Date(ms).toISOString();
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' ? value : null;
}
