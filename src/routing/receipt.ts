import {
  classifyReceipt,
  ensureAttempt,
  isAttemptNumber,
  isHandedOver,
  isStepDelivered,
  latestAttemptNumber,
  meetsCondition,
} from './attempts.js';
import { activeStep, emitEvent, isCompleted, stepAt, type Draft } from './draft.js';
import { endStep, moveToNextStep, succeedStep, waitForReceipt } from './transitions.js';
import type { AttemptStatus, ReceiptState, StepState } from './types.js';

interface ReceiptInput {
  step: number;
  attempt: number;
  state: ReceiptState;
  errorCode?: string | null | undefined;
}

/** Snapshot of the step taken before the receipt is applied. */
interface StepBefore {
  attemptStatus: AttemptStatus;
  delivered: boolean;
  handedOver: boolean;
}

/**
 * Applies a provider receipt to its attempt and then to routing. The attempt only moves
 * forward: a duplicate changes nothing and emits nothing, and a receipt that would move it
 * backwards is stored as a `receipt.ignored` event. A receipt may arrive before the send call
 * returned, while the attempt is still `sending`. It may also be for a step routing has left, or
 * arrive after the message finished. The functions below handle each case.
 */
export function handleReceipt(draft: Draft, receipt: ReceiptInput): void {
  const { state } = draft;
  const step = stepAt(state, receipt.step);
  if (step === undefined || step.startedAt === null || !isAttemptNumber(receipt.attempt)) return;

  const handedOver = isHandedOver(step);
  const attempt = ensureAttempt(step, receipt.attempt, draft.now);
  const effect = classifyReceipt(attempt.status, receipt.state);
  if (effect === 'duplicate') return;
  if (effect === 'ignored') {
    emitEvent(draft, 'receipt.ignored', step.index, attempt.number, { state: receipt.state, attemptStatus: attempt.status });
    return;
  }

  const before: StepBefore = { attemptStatus: attempt.status, delivered: isStepDelivered(step), handedOver };
  attempt.status = receipt.state;
  attempt.updatedAt = draft.now;
  if (isFailure(receipt.state) && receipt.errorCode != null) attempt.errorCode = receipt.errorCode;

  if (isCompleted(state)) {
    applyAfterFinish(draft, step, receipt, before);
  } else if (activeStep(state, step.index) !== undefined) {
    applyToCurrentStep(draft, step, receipt, before);
  } else {
    applyToEarlierStep(draft, step, receipt, before);
  }
}

/**
 * Applies a receipt to the step routing is working on. Delivery that meets the condition
 * finishes the message. A `delivered` for a `read` step leaves it waiting, with message status
 * `delivered`. A failure receipt for the step's latest attempt ends the step, unless another
 * attempt was delivered.
 */
function applyToCurrentStep(draft: Draft, step: StepState, receipt: ReceiptInput, before: StepBefore): void {
  emitReceiptEvent(draft, 'receipt.applied', step, receipt, before, {});

  if (isFailure(receipt.state)) {
    const isLatest = receipt.attempt === latestAttemptNumber(step);
    const awaitingOutcome = step.status === 'sending' || step.status === 'waiting';
    if (!isLatest || !awaitingOutcome || isStepDelivered(step)) return;

    const reason = receipt.state === 'failed' ? 'receipt-failed' : 'receipt-expired';
    endStep(draft, step, 'failed', reason);
    moveToNextStep(draft, reason);
    return;
  }

  const reached = receipt.state;
  if (meetsCondition(reached, step.condition)) {
    succeedStep(draft, step, reached);
    return;
  }
  // Only a `read` condition is unmet by a delivery.
  waitForReceipt(draft, step);
  draft.state.status = 'delivered';
}

/**
 * Applies a receipt to a step routing has left while the message has not finished. A delivery
 * that meets the step's condition still finishes the message with this step. `finishMessage`
 * then cancels later steps that no provider has, and reports those it cannot recall as double
 * deliveries.
 */
function applyToEarlierStep(draft: Draft, step: StepState, receipt: ReceiptInput, before: StepBefore): void {
  emitReceiptEvent(draft, 'receipt.late', step, receipt, before, { stepStatus: step.status, stepReason: step.reason });

  const reached = receipt.state;
  if (isFailure(reached) || !meetsCondition(reached, step.condition)) return;
  succeedStep(draft, step, reached);
}

/**
 * Records a receipt for a finished message. The message status stays, with one exception: a
 * `read` for the step that succeeded moves a `delivered` message to `read`. A first delivery of
 * another step is reported as a double delivery, except for a later step that a provider
 * already had when the message finished, because `finishMessage` reported that one.
 */
function applyAfterFinish(draft: Draft, step: StepState, receipt: ReceiptInput, before: StepBefore): void {
  const { state } = draft;
  const succeeded = state.succeededStep;

  if (step.index === succeeded) {
    const upgrade = receipt.state === 'read' && state.status === 'delivered';
    if (upgrade) state.status = 'read';
    emitReceiptEvent(draft, 'receipt.applied', step, receipt, before, upgrade ? { messageStatus: 'read' } : {});
    return;
  }

  emitReceiptEvent(draft, 'receipt.late', step, receipt, before, { stepStatus: step.status, stepReason: step.reason });

  const firstDelivery = !isFailure(receipt.state) && !before.delivered;
  const reportedAtFinish = succeeded !== null && step.index > succeeded && before.handedOver;
  if (succeeded !== null && firstDelivery && !reportedAtFinish) {
    draft.actions.push({ type: 'double-delivery', step: step.index, otherStep: succeeded });
  }
}

function emitReceiptEvent(
  draft: Draft,
  type: 'receipt.applied' | 'receipt.late',
  step: StepState,
  receipt: ReceiptInput,
  before: StepBefore,
  extra: Record<string, unknown>,
): void {
  emitEvent(draft, type, step.index, receipt.attempt, {
    state: receipt.state,
    previousStatus: before.attemptStatus,
    errorCode: receipt.errorCode ?? null,
    ...extra,
  });
}

function isFailure(state: ReceiptState): state is 'failed' | 'expired' {
  return state === 'failed' || state === 'expired';
}
