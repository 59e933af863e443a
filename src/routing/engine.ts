import { openDraft, toDecision } from './draft.js';
import { handleInDoubt } from './in-doubt.js';
import { handleReceipt } from './receipt.js';
import { handleSendResult } from './send-result.js';
import { handleSkip } from './skip.js';
import { handleStart } from './start.js';
import { handleCancel, handleExpire } from './stop.js';
import { handleReceiptTimeout, handleRetryDue } from './timers.js';
import type { Decision, MessageState, RoutingContext, StepPlan, StepState, Trigger } from './types.js';

/**
 * Decides what one trigger does to a message: returns the next state and the actions for the
 * delivery layer to carry out (send an attempt, schedule a job, record a timeline event, count
 * a double delivery).
 *
 * The function is pure. It never changes `state`, reads the time only from `context.clock` and
 * randomness only from `context.random`. A trigger that no longer applies, such as a timer for
 * a step routing has left, returns an equal state and no actions. Once `completedAt` is set the
 * message status stays, except that a `read` receipt for the succeeded step moves a
 * `delivered` message to `read`.
 *
 * @throws TypeError when `trigger.type` is not a `Trigger` type, which the compiler rules out.
 *
 * @example
 * let { state, actions } = decide(initialState(plan, null), { type: 'start' }, context);
 * // actions: a `step.started` event and `{ type: 'send', step: 0, attempt: 1 }`
 */
export function decide(state: MessageState, trigger: Trigger, context: RoutingContext): Decision {
  const draft = openDraft(state, context);

  switch (trigger.type) {
    case 'start':
      handleStart(draft);
      break;
    case 'skip':
      handleSkip(draft, trigger.step, trigger.reason);
      break;
    case 'send-result':
      handleSendResult(draft, trigger.step, trigger.attempt, trigger.outcome);
      break;
    case 'receipt':
      handleReceipt(draft, trigger);
      break;
    case 'retry-due':
      handleRetryDue(draft, trigger.step);
      break;
    case 'receipt-timeout':
      handleReceiptTimeout(draft, trigger.step);
      break;
    case 'expire':
      handleExpire(draft);
      break;
    case 'cancel':
      handleCancel(draft);
      break;
    case 'in-doubt':
      handleInDoubt(draft, trigger.step, trigger.attempt);
      break;
    default:
      return assertNever(trigger);
  }

  return toDecision(draft);
}

/** Builds the state of a message that has not started: status `processing`, every step `pending`. */
export function initialState(steps: StepPlan[], expiresAt: number | null): MessageState {
  return {
    status: 'processing',
    currentStep: 0,
    succeededStep: null,
    expiresAt,
    completedAt: null,
    steps: steps.map(
      (plan, index): StepState => ({
        channel: plan.channel,
        condition: plan.condition,
        fallbackAfterMs: plan.fallbackAfterMs,
        index,
        status: 'pending',
        reason: null,
        startedAt: null,
        endedAt: null,
        attempts: [],
      }),
    ),
  };
}

function assertNever(trigger: never): never {
  throw new TypeError(`Unknown routing trigger: ${JSON.stringify(trigger)}`);
}
