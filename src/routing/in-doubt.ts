import { ensureAttempt, isAttemptNumber, latestAttemptNumber } from './attempts.js';
import { activeStep, emitEvent, policyFor, stepAt, type Draft } from './draft.js';
import { finishMessage } from './finish.js';
import { endStep, moveToNextStep, sendAttempt } from './transitions.js';

/**
 * Marks an attempt that was in flight when its process died as `in-doubt`, because the provider
 * may or may not have it. When it is the latest attempt of the current step, the channel's
 * in-doubt policy decides what follows. `resend` starts the next attempt on the same step.
 * `next-step` fails the step and moves on. `fail` fails the step and the message.
 */
export function handleInDoubt(draft: Draft, stepIndex: number, attemptNumber: number): void {
  const step = stepAt(draft.state, stepIndex);
  if (step === undefined || step.startedAt === null || !isAttemptNumber(attemptNumber)) return;

  const attempt = ensureAttempt(step, attemptNumber, draft.now);
  if (attempt.status !== 'sending') return;
  attempt.status = 'in-doubt';
  attempt.updatedAt = draft.now;

  const current = activeStep(draft.state, stepIndex);
  const routed = current !== undefined && current.status === 'sending' && attemptNumber === latestAttemptNumber(current);
  const policy = policyFor(draft, step).inDoubt;
  emitEvent(draft, 'attempt.in-doubt', stepIndex, attemptNumber, { policy: routed ? policy : null });
  if (!routed) return;

  switch (policy) {
    case 'resend':
      sendAttempt(draft, current, attemptNumber + 1);
      return;
    case 'next-step':
      endStep(draft, current, 'failed', 'in-doubt');
      moveToNextStep(draft, 'in-doubt');
      return;
    case 'fail':
      endStep(draft, current, 'failed', 'in-doubt');
      finishMessage(draft, 'failed', null);
      return;
  }
}
