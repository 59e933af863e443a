import { emitEvent, isCompleted, type Draft } from './draft.js';
import { finishMessage, stopMessage } from './finish.js';
import { beginStep } from './transitions.js';

/**
 * Starts routing a message that has not started: it expires at once when `expiresAt` has
 * passed, fails when it has no steps, and otherwise schedules its expiry and begins step 0.
 * A repeated `start` changes nothing.
 */
export function handleStart(draft: Draft): void {
  const { state, now } = draft;
  const started = isCompleted(state) || state.steps.some((step) => step.status !== 'pending');
  if (started) return;

  emitEvent(draft, 'message.started', null, null, { steps: state.steps.length, expiresAt: state.expiresAt });

  if (state.expiresAt !== null && state.expiresAt <= now) {
    stopMessage(draft, 'expired');
    return;
  }
  if (state.steps.length === 0) {
    finishMessage(draft, 'failed', null);
    return;
  }

  if (state.expiresAt !== null) {
    draft.actions.push({ type: 'schedule', job: 'expire', step: null, at: state.expiresAt });
  }
  beginStep(draft, 0);
}
