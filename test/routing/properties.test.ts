import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide, initialState } from '../../src/routing/engine.js';
import { CHANNEL_IDS, CONDITIONS, RECEIPT_STATES, SKIP_REASONS } from '../../src/routing/types.js';
import type { AttemptStatus, MessageState, SendOutcome, StepPlan, Trigger } from '../../src/routing/types.js';
import { FakeClock, HOUR, T0, insertSentAttempts, makeContext } from './harness.js';

/** Where each attempt status may move; staying put is always allowed. */
const FORWARD: Record<AttemptStatus, readonly AttemptStatus[]> = {
  sending: ['accepted', 'delivered', 'read', 'failed', 'expired', 'error', 'in-doubt'],
  'in-doubt': ['accepted', 'delivered', 'read', 'failed', 'expired'],
  error: ['accepted', 'delivered', 'read', 'failed', 'expired'],
  accepted: ['delivered', 'read', 'failed', 'expired'],
  delivered: ['read'],
  read: [],
  failed: [],
  expired: [],
};

const stepPlan: fc.Arbitrary<StepPlan> = fc.record({
  channel: fc.constantFrom(...CHANNEL_IDS),
  condition: fc.constantFrom(...CONDITIONS),
  fallbackAfterMs: fc.option(fc.integer({ min: 1, max: HOUR }), { nil: null }),
});

const stepIndex = fc.integer({ min: -1, max: 4 });
const attemptNumber = fc.integer({ min: 0, max: 4 });

const accepted = fc.record({ kind: fc.constant('accepted' as const), providerMessageId: fc.string({ maxLength: 4 }) });
const permanent = fc.record({ kind: fc.constant('permanent' as const), code: fc.constant('rejected'), message: fc.constant('Rejected.') });
const transient = fc.record(
  {
    kind: fc.constant('transient' as const),
    code: fc.constant('busy'),
    message: fc.constant('Busy.'),
    retryAfterMs: fc.integer({ min: 0, max: HOUR }),
  },
  { requiredKeys: ['kind', 'code', 'message'] },
);
const outcome: fc.Arbitrary<SendOutcome> = fc.oneof(
  { weight: 4, arbitrary: accepted },
  { weight: 1, arbitrary: permanent },
  { weight: 2, arbitrary: transient },
);

const receiptState = fc.oneof(
  { weight: 3, arbitrary: fc.constant('delivered' as const) },
  { weight: 2, arbitrary: fc.constant('read' as const) },
  { weight: 1, arbitrary: fc.constantFrom(...RECEIPT_STATES) },
);

// Weighted towards send results, receipts and timeouts, so that most runs get past the first step
// before a cancel or an expiry ends them.
const trigger: fc.Arbitrary<Trigger> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ type: 'start' as const }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('skip' as const), step: stepIndex, reason: fc.constantFrom(...SKIP_REASONS) }) },
  { weight: 6, arbitrary: fc.record({ type: fc.constant('send-result' as const), step: stepIndex, attempt: attemptNumber, outcome }) },
  { weight: 8, arbitrary: fc.record({ type: fc.constant('receipt' as const), step: stepIndex, attempt: attemptNumber, state: receiptState }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('retry-due' as const), step: stepIndex }) },
  { weight: 4, arbitrary: fc.record({ type: fc.constant('receipt-timeout' as const), step: stepIndex }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('in-doubt' as const), step: stepIndex, attempt: attemptNumber }) },
  { weight: 1, arbitrary: fc.constant({ type: 'expire' as const }) },
  { weight: 1, arbitrary: fc.constant({ type: 'cancel' as const }) },
);

const scenario = fc.record({
  steps: fc.array(stepPlan, { minLength: 1, maxLength: 4 }),
  expiresIn: fc.option(fc.integer({ min: -HOUR, max: 4 * HOUR }), { nil: null }),
  random: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
  maxAttempts: fc.integer({ min: 1, max: 4 }),
  inDoubt: fc.constantFrom('resend' as const, 'next-step' as const, 'fail' as const),
  insertAttempts: fc.boolean(),
  moves: fc.array(
    fc.record({
      advanceMs: fc.integer({ min: 0, max: HOUR }),
      trigger,
      aim: fc.option(fc.record({ stepPick: fc.nat(), attemptPick: fc.nat() }), { nil: null }),
    }),
    { maxLength: 40 },
  ),
});

interface Aim {
  stepPick: number;
  attemptPick: number;
}

/**
 * Points a trigger at a step that has started and at one of its attempts, or at the next one.
 * Aimed triggers reach receipts for accepted attempts and late receipts far more often than
 * uniformly random indexes do.
 */
function aimTrigger(trigger: Trigger, aim: Aim | null, state: MessageState): Trigger {
  if (aim === null || !('step' in trigger)) return trigger;
  const started = state.steps.filter((step) => step.startedAt !== null);
  const step = started[aim.stepPick % Math.max(1, started.length)];
  if (step === undefined) return trigger;
  if (!('attempt' in trigger)) return { ...trigger, step: step.index };

  const numbers = step.attempts.map((attempt) => attempt.number);
  numbers.push(Math.max(0, ...numbers) + 1);
  const attempt = numbers[aim.attemptPick % numbers.length] ?? 1;
  return { ...trigger, step: step.index, attempt };
}

function checkTransition(before: MessageState, after: MessageState): void {
  expect(after.currentStep).toBeGreaterThanOrEqual(before.currentStep);
  expect(after.currentStep).toBeLessThanOrEqual(after.steps.length);
  expect(after.steps).toHaveLength(before.steps.length);

  for (const [index, oldStep] of before.steps.entries()) {
    for (const oldAttempt of oldStep.attempts) {
      const newAttempt = after.steps[index]?.attempts.find((attempt) => attempt.number === oldAttempt.number);
      expect(newAttempt).toBeDefined();
      if (newAttempt === undefined || newAttempt.status === oldAttempt.status) continue;
      expect(FORWARD[oldAttempt.status]).toContain(newAttempt.status);
    }
  }

  if (before.completedAt !== null) {
    expect(after.completedAt).toBe(before.completedAt);
    expect(after.succeededStep).toBe(before.succeededStep);
    const readUpgrade = before.status === 'delivered' && after.status === 'read';
    if (!readUpgrade) expect(after.status).toBe(before.status);
  }
}

/** Checks that an unfinished message that has started has a current step that routing works on. */
function checkRoutingConsistent(state: MessageState): void {
  const started = state.steps.some((step) => step.status !== 'pending');
  if (state.completedAt !== null || !started) return;

  expect(['processing', 'retrying', 'sent', 'delivered']).toContain(state.status);
  expect(['sending', 'retrying', 'waiting']).toContain(state.steps[state.currentStep]?.status);
}

describe('routing properties', () => {
  it('holds invariants for any trigger sequence', () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const clock = new FakeClock();
        const override = { maxAttempts: input.maxAttempts, inDoubt: input.inDoubt, maxReceiptWaitMs: HOUR };
        const policies = Object.fromEntries(CHANNEL_IDS.map((channel) => [channel, override]));
        const context = makeContext(clock, { random: input.random, policies });
        const expiresAt = input.expiresIn === null ? null : T0 + input.expiresIn;
        let state = initialState(input.steps, expiresAt);

        for (const move of [{ advanceMs: 0, trigger: { type: 'start' } as Trigger, aim: null }, ...input.moves]) {
          clock.advance(move.advanceMs);
          const snapshot = structuredClone(state);
          const decision = decide(state, aimTrigger(move.trigger, move.aim, state), context);

          expect(state).toEqual(snapshot);
          checkTransition(state, decision.state);
          checkRoutingConsistent(decision.state);
          if (state.completedAt !== null) {
            expect(decision.actions.filter((action) => action.type === 'send' || action.type === 'schedule')).toEqual([]);
          }

          state = decision.state;
          if (input.insertAttempts) insertSentAttempts(state, decision.actions, clock.now());
        }
      }),
      { numRuns: 500 },
    );
  });
});
