import { ensureAttempt, isAttemptNumber, latestAttemptNumber } from './attempts.js';
import { computeRetryDelayMs } from './backoff.js';
import { activeStep, emitEvent, policyFor, stepAt, type Draft } from './draft.js';
import { endStep, moveToNextStep, succeedStep, waitForReceipt } from './transitions.js';
import type { AttemptState, SendOutcome, StepState } from './types.js';

/**
 * Applies what the provider returned for a send call. The outcome is always recorded on its
 * attempt while the attempt is `sending`. It moves routing only when it is for the latest
 * attempt of the current step and that step is still `sending`. Acceptance finishes an
 * `accepted` step or puts the step into `waiting`. A permanent error moves on to the next step.
 * A transient error schedules a retry until the channel's attempt budget is spent.
 */
export function handleSendResult(draft: Draft, stepIndex: number, attemptNumber: number, outcome: SendOutcome): void {
  const step = stepAt(draft.state, stepIndex);
  if (step === undefined || step.startedAt === null || !isAttemptNumber(attemptNumber)) return;

  const attempt = ensureAttempt(step, attemptNumber, draft.now);
  if (attempt.status !== 'sending') {
    // An early receipt or an in-doubt decision got here first; keep the provider id for later receipts.
    recordLateProviderId(draft, attempt, stepIndex, outcome);
    return;
  }

  recordOutcome(draft, stepIndex, attempt, outcome);

  const current = activeStep(draft.state, stepIndex);
  if (current === undefined || current.status !== 'sending' || attemptNumber !== latestAttemptNumber(current)) return;

  switch (outcome.kind) {
    case 'accepted':
      if (current.condition === 'accepted') succeedStep(draft, current, 'sent');
      else waitForReceipt(draft, current);
      return;
    case 'permanent':
      endStep(draft, current, 'failed', 'permanent-error');
      moveToNextStep(draft, 'permanent-error');
      return;
    case 'transient':
      retryOrGiveUp(draft, current, attemptNumber, outcome.retryAfterMs);
      return;
  }
}

function recordOutcome(draft: Draft, stepIndex: number, attempt: AttemptState, outcome: SendOutcome): void {
  attempt.updatedAt = draft.now;

  switch (outcome.kind) {
    case 'accepted':
      attempt.status = 'accepted';
      attempt.providerMessageId = outcome.providerMessageId;
      emitEvent(draft, 'attempt.accepted', stepIndex, attempt.number, { providerMessageId: outcome.providerMessageId });
      return;
    case 'permanent':
      attempt.status = 'failed';
      attempt.errorCode = outcome.code;
      attempt.errorMessage = outcome.message;
      emitEvent(draft, 'attempt.failed', stepIndex, attempt.number, { code: outcome.code, message: outcome.message });
      return;
    case 'transient':
      attempt.status = 'error';
      attempt.errorCode = outcome.code;
      attempt.errorMessage = outcome.message;
      emitEvent(draft, 'attempt.error', stepIndex, attempt.number, {
        code: outcome.code,
        message: outcome.message,
        retryAfterMs: outcome.retryAfterMs ?? null,
      });
      return;
  }
}

function recordLateProviderId(draft: Draft, attempt: AttemptState, stepIndex: number, outcome: SendOutcome): void {
  if (outcome.kind !== 'accepted' || attempt.providerMessageId !== null) return;

  attempt.providerMessageId = outcome.providerMessageId;
  attempt.updatedAt = draft.now;
  emitEvent(draft, 'attempt.accepted', stepIndex, attempt.number, {
    providerMessageId: outcome.providerMessageId,
    attemptStatus: attempt.status,
  });
}

function retryOrGiveUp(draft: Draft, step: StepState, failedAttempt: number, retryAfterMs: number | undefined): void {
  const policy = policyFor(draft, step);
  if (failedAttempt >= policy.maxAttempts) {
    endStep(draft, step, 'failed', 'retries-exhausted');
    moveToNextStep(draft, 'retries-exhausted');
    return;
  }

  const delayMs = computeRetryDelayMs(policy, failedAttempt, draft.context.random(), retryAfterMs);
  const at = draft.now + delayMs;
  step.status = 'retrying';
  draft.state.status = 'retrying';
  draft.actions.push({ type: 'schedule', job: 'retry', step: step.index, at });
  emitEvent(draft, 'step.retry-scheduled', step.index, failedAttempt, {
    at,
    delayMs,
    nextAttempt: failedAttempt + 1,
    maxAttempts: policy.maxAttempts,
  });
}
