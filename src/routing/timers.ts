import { latestAttemptNumber } from './attempts.js';
import { activeStep, type Draft } from './draft.js';
import { endStep, isConditionMet, moveToNextStep, sendAttempt } from './transitions.js';

/*
 * Scheduled jobs come back as triggers, possibly long after the step they were set for has
 * ended. Each handler acts only when the job still applies to the current step and otherwise
 * changes nothing.
 */

/** Sends the next attempt of a step that is waiting for its retry timer. */
export function handleRetryDue(draft: Draft, stepIndex: number): void {
  const step = activeStep(draft.state, stepIndex);
  if (step === undefined || step.status !== 'retrying') return;

  step.status = 'sending';
  sendAttempt(draft, step, latestAttemptNumber(step) + 1);
}

/**
 * Ends the current step as `timed-out` when its `fallbackAfterMs` deadline or the channel's
 * receipt wait has passed without its condition being met, and moves on to the next step.
 */
export function handleReceiptTimeout(draft: Draft, stepIndex: number): void {
  const step = activeStep(draft.state, stepIndex);
  if (step === undefined || isConditionMet(step)) return;

  endStep(draft, step, 'timed-out', 'timed-out');
  moveToNextStep(draft, 'timed-out');
}
