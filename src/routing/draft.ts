import type {
  Action,
  AttemptState,
  ChannelPolicy,
  Decision,
  EventType,
  MessageState,
  RoutingContext,
  StepState,
} from './types.js';

/**
 * A working copy of one message's state while the engine decides on one trigger. Handlers
 * change `state` in place and append to `actions`. The caller's state is never touched, because
 * `openDraft` copies it first.
 */
export interface Draft {
  readonly state: MessageState;
  readonly actions: Action[];
  /** The clock reading for the whole decision, so every timestamp in it agrees. */
  readonly now: number;
  readonly context: RoutingContext;
}

export function openDraft(state: MessageState, context: RoutingContext): Draft {
  return { state: cloneState(state), actions: [], now: context.clock.now(), context };
}

export function toDecision(draft: Draft): Decision {
  return { state: draft.state, actions: draft.actions };
}

export function emitEvent(
  draft: Draft,
  type: EventType,
  step: number | null,
  attempt: number | null,
  data: Record<string, unknown> = {},
): void {
  draft.actions.push({ type: 'event', event: { type, step, attempt, data } });
}

export function policyFor(draft: Draft, step: StepState): ChannelPolicy {
  return draft.context.policies[step.channel];
}

/** Returns whether the message has finished. A finished message keeps its status, apart from the `delivered` to `read` upgrade. */
export function isCompleted(state: MessageState): boolean {
  return state.completedAt !== null;
}

/** Returns the step at `index`, or undefined when the index is not a step of this message. */
export function stepAt(state: MessageState, index: number): StepState | undefined {
  if (!Number.isInteger(index) || index < 0) return undefined;
  return state.steps[index];
}

function cloneState(state: MessageState): MessageState {
  return { ...state, steps: state.steps.map(cloneStep) };
}

function cloneStep(step: StepState): StepState {
  return { ...step, attempts: step.attempts.map((attempt): AttemptState => ({ ...attempt })) };
}

/**
 * Returns step `index` when routing is working on it: the message has not finished, it is the
 * current step, and it is `sending`, `retrying` or `waiting`. Triggers for any other step are
 * stale for routing, though they may still be recorded on an attempt.
 */
export function activeStep(state: MessageState, index: number): StepState | undefined {
  if (isCompleted(state) || index !== state.currentStep) return undefined;
  const step = stepAt(state, index);
  if (step === undefined) return undefined;
  const working = step.status === 'sending' || step.status === 'retrying' || step.status === 'waiting';
  return working ? step : undefined;
}
