import type { MessageView } from '../store/types.js';
import { formatDuration } from './duration.js';
import type { MessageJson } from './schemas/message-view.js';
import { describeStatus } from './status-details.js';

/** Formats epoch milliseconds as an RFC 3339 date-time in UTC. */
export function toDateTime(ms: number): string {
  return new Date(ms).toISOString();
}

function toNullableDateTime(ms: number | null): string | null {
  return ms === null ? null : toDateTime(ms);
}

/** Converts a stored message to its public JSON form. */
export function toMessageJson(view: MessageView): MessageJson {
  const succeeded = view.succeededStep === null ? undefined : view.steps[view.succeededStep];
  return {
    messageId: view.id,
    profileId: view.profileId,
    status: view.status,
    statusDetails: describeStatus(view),
    channel: succeeded?.channel ?? null,
    sentOn: toDateTime(view.createdAt),
    updatedAt: toDateTime(view.updatedAt),
    completedAt: toNullableDateTime(view.completedAt),
    sendAt: toNullableDateTime(view.sendAt),
    expiresOn: toNullableDateTime(view.expiresAt),
    metadata: view.metadata,
    request: view.request,
    steps: view.steps.map((step) => ({
      index: step.index,
      channel: step.channel,
      fallbackUnless: step.condition,
      fallbackAfter: step.fallbackAfterMs === null ? null : formatDuration(step.fallbackAfterMs),
      status: step.status,
      reason: step.reason,
      startedAt: toNullableDateTime(step.startedAt),
      endedAt: toNullableDateTime(step.endedAt),
      attempts: step.attempts.map((attempt) => ({
        number: attempt.number,
        status: attempt.status,
        providerMessageId: attempt.providerMessageId,
        errorCode: attempt.errorCode,
        errorMessage: attempt.errorMessage,
        startedAt: toDateTime(attempt.startedAt),
        updatedAt: toDateTime(attempt.updatedAt),
        receipts: attempt.receipts.map((receipt) => ({
          state: receipt.state,
          errorCode: receipt.errorCode,
          providerMessageId: receipt.providerMessageId,
          providerTimestamp: toNullableDateTime(receipt.providerTimestamp),
          receivedAt: toDateTime(receipt.receivedAt),
        })),
      })),
    })),
    events: view.events.map((event) => ({
      seq: event.seq,
      type: event.type,
      step: event.step,
      attempt: event.attempt,
      data: eventData(event.data),
      createdAt: toDateTime(event.createdAt),
    })),
  };
}

/** Event data with its times (`at` and keys ending in `At`, epoch ms inside the store) in RFC 3339 like every other time of the API. */
function eventData(data: Record<string, unknown>): Record<string, unknown> {
  const entries = Object.entries(data).map(([key, value]) => {
    const isTime = key === 'at' || key.endsWith('At');
    return [key, isTime && typeof value === 'number' && Number.isFinite(value) ? toDateTime(value) : value];
  });
  return Object.fromEntries(entries);
}
