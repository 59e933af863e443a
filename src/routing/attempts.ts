import type { AttemptState, AttemptStatus, Condition, ReceiptState, StepState } from './types.js';

/** Attempt statuses after which the provider may have the message, so it cannot be recalled. */
const HANDED_OVER: ReadonlySet<AttemptStatus> = new Set(['sending', 'accepted', 'delivered', 'read', 'in-doubt']);

export function isAttemptNumber(value: number): boolean {
  return Number.isInteger(value) && value >= 1;
}

export function findAttempt(step: StepState, number: number): AttemptState | undefined {
  return step.attempts.find((attempt) => attempt.number === number);
}

/**
 * Returns attempt `number` of the step, adding it with status `sending` when the state does not
 * have it yet. The delivery layer normally inserts the attempt before it calls the provider.
 */
export function ensureAttempt(step: StepState, number: number, now: number): AttemptState {
  const existing = findAttempt(step, number);
  if (existing !== undefined) return existing;

  const added: AttemptState = {
    number,
    status: 'sending',
    providerMessageId: null,
    errorCode: null,
    errorMessage: null,
    startedAt: now,
    updatedAt: now,
  };
  step.attempts.push(added);
  step.attempts.sort((a, b) => a.number - b.number);
  return added;
}

/** Returns the highest attempt number of the step, or 0 when it has none. */
export function latestAttemptNumber(step: StepState): number {
  return step.attempts.reduce((latest, attempt) => Math.max(latest, attempt.number), 0);
}

export function isHandedOver(step: StepState): boolean {
  return step.attempts.some((attempt) => HANDED_OVER.has(attempt.status));
}

export function isStepDelivered(step: StepState): boolean {
  return step.attempts.some((attempt) => attempt.status === 'delivered' || attempt.status === 'read');
}

/** Returns whether an attempt in `status` meets a step condition. Any status past acceptance meets `accepted`. */
export function meetsCondition(status: AttemptStatus, condition: Condition): boolean {
  switch (condition) {
    case 'accepted':
      return status === 'accepted' || status === 'delivered' || status === 'read';
    case 'delivered':
      return status === 'delivered' || status === 'read';
    case 'read':
      return status === 'read';
  }
}

/**
 * Effect of a receipt on an attempt:
 * - `moved`: the attempt takes the receipt's state;
 * - `duplicate`: the attempt already has that state, or `read`, which implies `delivered`;
 * - `ignored`: the receipt would move the attempt backwards (for example `failed` after
 *   `delivered`) or out of a state that ends it (`read`, `failed`, `expired`).
 */
export type ReceiptEffect = 'moved' | 'duplicate' | 'ignored';

/**
 * Classifies a receipt against the attempt's status. Attempt statuses only move forward along
 * sending → accepted → delivered → read. `failed` and `expired` end an attempt that is not yet
 * delivered. An attempt that ended in a transient `error` or was left `in-doubt` may still
 * receive receipts, because the provider may have taken the message after all.
 */
export function classifyReceipt(status: AttemptStatus, receipt: ReceiptState): ReceiptEffect {
  if (status === receipt) return 'duplicate';
  if (status === 'read' && receipt === 'delivered') return 'duplicate';

  switch (status) {
    case 'sending':
    case 'accepted':
    case 'error':
    case 'in-doubt':
      return 'moved';
    case 'delivered':
      return receipt === 'read' ? 'moved' : 'ignored';
    case 'read':
    case 'failed':
    case 'expired':
      return 'ignored';
  }
}
