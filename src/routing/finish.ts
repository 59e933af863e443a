import { isHandedOver } from './attempts.js';
import { emitEvent, type Draft } from './draft.js';
import type { MessageStatus, StepState, StepStatus } from './types.js';

const UNFINISHED: ReadonlySet<StepStatus> = new Set(['pending', 'sending', 'retrying', 'waiting']);

/**
 * Finishes the message with `status`. Steps after the finishing step (`succeededStep`, else the
 * current step) that no provider has yet are cancelled: `pending` and `retrying` steps, and
 * `sending` steps whose attempt the delivery layer has not started. A later step that a provider
 * may already have is left as it is and, when the message succeeded, reported as a
 * `double-delivery`, because it cannot be recalled.
 */
export function finishMessage(draft: Draft, status: MessageStatus, succeededStep: number | null): void {
  const { state } = draft;
  const finishingStep = succeededStep ?? state.currentStep;

  for (const step of state.steps.slice(finishingStep + 1)) {
    if (succeededStep !== null && isHandedOver(step)) {
      draft.actions.push({ type: 'double-delivery', step: succeededStep, otherStep: step.index });
    }
    if (isCancellable(step)) {
      cancelStep(draft, step);
    }
  }

  state.status = status;
  state.succeededStep = succeededStep;
  state.completedAt = draft.now;
  emitEvent(draft, 'message.finished', succeededStep, null, { status, succeededStep });
}

/** Ends an unfinished message as `expired` or `cancelled`, cancelling every step that has not ended. */
export function stopMessage(draft: Draft, status: 'expired' | 'cancelled'): void {
  const { state } = draft;
  for (const step of state.steps) {
    if (UNFINISHED.has(step.status)) cancelStep(draft, step);
  }

  state.status = status;
  state.completedAt = draft.now;
  emitEvent(draft, 'message.finished', null, null, { status, succeededStep: null });
}

function isCancellable(step: StepState): boolean {
  if (step.status === 'pending' || step.status === 'retrying') return true;
  return step.status === 'sending' && !isHandedOver(step);
}

function cancelStep(draft: Draft, step: StepState): void {
  step.status = 'cancelled';
  step.endedAt = draft.now;
}
