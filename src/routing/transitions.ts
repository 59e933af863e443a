import { meetsCondition } from './attempts.js';
import { emitEvent, policyFor, type Draft } from './draft.js';
import { finishMessage } from './finish.js';
import type { EventType, StepState } from './types.js';

const STEP_END_EVENTS = {
  skipped: 'step.skipped',
  failed: 'step.failed',
  'timed-out': 'step.timed-out',
} as const satisfies Record<string, EventType>;

/**
 * Starts step `index`: it becomes the current step, its first attempt is sent, and when it sets
 * `fallbackAfterMs` its deadline is scheduled from now.
 */
export function beginStep(draft: Draft, index: number): void {
  const { state } = draft;
  const step = state.steps[index];
  if (step === undefined) throw new RangeError(`Step ${index} does not exist; the message has ${state.steps.length} steps.`);

  state.currentStep = index;
  step.status = 'sending';
  step.startedAt = draft.now;
  emitEvent(draft, 'step.started', step.index, null, { channel: step.channel });
  sendAttempt(draft, step, 1);

  if (step.fallbackAfterMs !== null) {
    const at = step.startedAt + step.fallbackAfterMs;
    draft.actions.push({ type: 'schedule', job: 'receipt-timeout', step: index, at });
  }
}

/** Asks the delivery layer to start attempt `attempt` of a step that is `sending`. */
export function sendAttempt(draft: Draft, step: StepState, attempt: number): void {
  draft.state.status = 'processing';
  if (attempt > 1) emitEvent(draft, 'attempt.retry', step.index, attempt, { channel: step.channel });
  draft.actions.push({ type: 'send', step: step.index, attempt });
}

/** Ends the current step without success and records why. */
export function endStep(draft: Draft, step: StepState, status: 'skipped' | 'failed' | 'timed-out', reason: string): void {
  step.status = status;
  step.reason = reason;
  step.endedAt = draft.now;

  emitEvent(draft, STEP_END_EVENTS[status], step.index, null, { channel: step.channel, reason });
}

/**
 * Moves routing from the current step to the next one. When no step is left, the message
 * finishes `filtered` if opt-outs skipped every step, and `failed` otherwise.
 */
export function moveToNextStep(draft: Draft, reason: string): void {
  const { state } = draft;
  const from = state.currentStep;
  const to = from + 1;
  const next = state.steps[to];

  if (next !== undefined) {
    emitEvent(draft, 'message.fallback', to, null, {
      from,
      to,
      fromChannel: state.steps[from]?.channel ?? null,
      toChannel: next.channel,
      reason,
    });
    beginStep(draft, to);
    return;
  }

  state.currentStep = state.steps.length;
  finishMessage(draft, allOptedOut(state.steps) ? 'filtered' : 'failed', null);
}

/** Marks a step as having met its condition and finishes the message with `status`. */
export function succeedStep(draft: Draft, step: StepState, status: 'sent' | 'delivered' | 'read'): void {
  step.status = 'succeeded';
  step.reason = null;
  step.endedAt = draft.now;
  emitEvent(draft, 'step.succeeded', step.index, null, { channel: step.channel, condition: step.condition });
  finishMessage(draft, status, step.index);
}

/**
 * Puts a step that a provider has accepted into `waiting` for its receipt. Without
 * `fallbackAfterMs`, the channel's `maxReceiptWaitMs` bounds the wait from now.
 */
export function waitForReceipt(draft: Draft, step: StepState): void {
  if (step.status !== 'sending' && step.status !== 'retrying') return;

  step.status = 'waiting';
  if (draft.state.status !== 'delivered') draft.state.status = 'sent';

  const maxWaitMs = policyFor(draft, step).maxReceiptWaitMs;
  if (step.fallbackAfterMs === null && maxWaitMs !== null) {
    draft.actions.push({ type: 'schedule', job: 'receipt-timeout', step: step.index, at: draft.now + maxWaitMs });
  }
}

/** Returns whether any attempt of the step meets its condition. */
export function isConditionMet(step: StepState): boolean {
  return step.attempts.some((attempt) => meetsCondition(attempt.status, step.condition));
}

function allOptedOut(steps: StepState[]): boolean {
  return steps.length > 0 && steps.every((step) => step.status === 'skipped' && step.reason === 'opted-out');
}
