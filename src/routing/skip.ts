import { activeStep, type Draft } from './draft.js';
import { endStep, moveToNextStep } from './transitions.js';
import type { SkipReason } from './types.js';

/**
 * Skips the current step when the delivery layer cannot send it (no address, opted out, channel
 * not configured, ineligible) and moves on to the next step. Only a step that is `sending`
 * can be skipped, because the delivery layer reports a skip in place of a send call.
 */
export function handleSkip(draft: Draft, stepIndex: number, reason: SkipReason): void {
  const step = activeStep(draft.state, stepIndex);
  if (step === undefined || step.status !== 'sending') return;

  endStep(draft, step, 'skipped', reason);
  moveToNextStep(draft, reason);
}
