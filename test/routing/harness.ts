import { decide, initialState } from '../../src/routing/engine.js';
import { DEFAULT_POLICIES } from '../../src/routing/policy.js';
import type {
  Action,
  ChannelId,
  ChannelPolicy,
  Clock,
  Condition,
  Decision,
  EventType,
  MessageState,
  RoutingContext,
  StepPlan,
  Trigger,
} from '../../src/routing/types.js';

export const T0 = Date.UTC(2025, 0, 1);
export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

/** A clock the test moves by hand. */
export class FakeClock implements Clock {
  constructor(public time: number = T0) {}

  now(): number {
    return this.time;
  }

  advance(ms: number): void {
    this.time += ms;
  }
}

export function plan(channel: ChannelId, condition: Condition, fallbackAfterMs: number | null = null): StepPlan {
  return { channel, condition, fallbackAfterMs };
}

export interface RunOptions {
  expiresAt?: number | null;
  /** Value returned by every call to `random()`. */
  random?: number;
  policies?: Partial<Record<ChannelId, Partial<ChannelPolicy>>>;
  /**
   * Whether to insert the attempt row for each `send` action, as the delivery layer does
   * before it calls the provider. Default true.
   */
  insertAttempts?: boolean;
}

export function makeContext(clock: Clock, options: RunOptions = {}): RoutingContext {
  const policies = { ...DEFAULT_POLICIES };
  for (const [channel, override] of Object.entries(options.policies ?? {}) as [ChannelId, Partial<ChannelPolicy>][]) {
    policies[channel] = { ...policies[channel], ...override };
  }
  const random = options.random ?? 0.5;
  return { clock, random: () => random, policies };
}

/**
 * Drives one message through the engine the way the delivery layer does: it keeps the latest
 * state and, for each `send` action, inserts the attempt with status `sending`.
 */
export class Run {
  readonly clock = new FakeClock();
  readonly context: RoutingContext;
  state: MessageState;
  actions: Action[] = [];
  private readonly insertAttempts: boolean;

  constructor(steps: StepPlan[], options: RunOptions = {}) {
    this.context = makeContext(this.clock, options);
    this.state = initialState(steps, options.expiresAt ?? null);
    this.insertAttempts = options.insertAttempts ?? true;
  }

  feed(trigger: Trigger): Decision {
    const decision = decide(this.state, trigger, this.context);
    this.state = decision.state;
    this.actions = decision.actions;
    if (this.insertAttempts) insertSentAttempts(this.state, decision.actions, this.clock.now());
    return decision;
  }

  start(): Decision {
    return this.feed({ type: 'start' });
  }

  accept(step: number, attempt = 1, providerMessageId = `p-${step}-${attempt}`): Decision {
    return this.feed({ type: 'send-result', step, attempt, outcome: { kind: 'accepted', providerMessageId } });
  }

  permanent(step: number, attempt = 1): Decision {
    return this.feed({
      type: 'send-result',
      step,
      attempt,
      outcome: { kind: 'permanent', code: 'invalid-recipient', message: 'The recipient is invalid.' },
    });
  }

  transient(step: number, attempt: number, retryAfterMs?: number): Decision {
    const outcome =
      retryAfterMs === undefined
        ? { kind: 'transient' as const, code: 'throttled', message: 'Throttled.' }
        : { kind: 'transient' as const, code: 'throttled', message: 'Throttled.', retryAfterMs };
    return this.feed({ type: 'send-result', step, attempt, outcome });
  }

  receipt(step: number, attempt: number, state: 'delivered' | 'read' | 'failed' | 'expired'): Decision {
    return this.feed({ type: 'receipt', step, attempt, state });
  }

  stepStatuses(): string[] {
    return this.state.steps.map((step) => step.status);
  }

  attemptStatus(step: number, attempt: number): string | undefined {
    return this.state.steps[step]?.attempts.find((a) => a.number === attempt)?.status;
  }
}

/** Inserts an attempt row for each `send` action, the way the delivery layer does. */
export function insertSentAttempts(state: MessageState, actions: Action[], now: number): void {
  for (const action of actions) {
    if (action.type !== 'send') continue;
    const step = state.steps[action.step];
    if (step === undefined || step.attempts.some((a) => a.number === action.attempt)) continue;
    step.attempts.push({
      number: action.attempt,
      status: 'sending',
      providerMessageId: null,
      errorCode: null,
      errorMessage: null,
      startedAt: now,
      updatedAt: now,
    });
  }
}

export function sends(actions: Action[]): Array<{ step: number; attempt: number }> {
  return actions.flatMap((a) => (a.type === 'send' ? [{ step: a.step, attempt: a.attempt }] : []));
}

export function schedules(actions: Action[]): Array<{ job: string; step: number | null; at: number }> {
  return actions.flatMap((a) => (a.type === 'schedule' ? [{ job: a.job, step: a.step, at: a.at }] : []));
}

export function doubleDeliveries(actions: Action[]): Array<{ step: number; otherStep: number }> {
  return actions.flatMap((a) => (a.type === 'double-delivery' ? [{ step: a.step, otherStep: a.otherStep }] : []));
}

export function eventTypes(actions: Action[]): EventType[] {
  return actions.flatMap((a) => (a.type === 'event' ? [a.event.type] : []));
}

export function eventOf(actions: Action[], type: EventType): Record<string, unknown> | undefined {
  for (const action of actions) {
    if (action.type === 'event' && action.event.type === type) return action.event.data;
  }
  return undefined;
}
