import { describe, expect, it } from 'vitest';
import { decide, initialState } from '../../src/routing/engine.js';
import type { MessageState } from '../../src/routing/types.js';
import { FakeClock, MINUTE, T0, makeContext, plan } from './harness.js';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

describe('initialState', () => {
  it('builds pending steps', () => {
    const state = initialState([plan('sms', 'delivered', MINUTE), plan('email', 'accepted')], T0 + MINUTE);

    expect(state).toEqual({
      status: 'processing',
      currentStep: 0,
      succeededStep: null,
      expiresAt: T0 + MINUTE,
      completedAt: null,
      steps: [
        { channel: 'sms', condition: 'delivered', fallbackAfterMs: MINUTE, index: 0, status: 'pending', reason: null, startedAt: null, endedAt: null, attempts: [] },
        { channel: 'email', condition: 'accepted', fallbackAfterMs: null, index: 1, status: 'pending', reason: null, startedAt: null, endedAt: null, attempts: [] },
      ],
    });
  });
});

describe('decide', () => {
  it('never mutates its input', () => {
    const clock = new FakeClock();
    const context = makeContext(clock);
    let state: MessageState = deepFreeze(initialState([plan('sms', 'delivered', MINUTE), plan('whatsApp', 'read')], T0 + 60 * MINUTE));

    const triggers = [
      { type: 'start' },
      { type: 'send-result', step: 0, attempt: 1, outcome: { kind: 'transient', code: 'busy', message: 'Busy.' } },
      { type: 'retry-due', step: 0 },
      { type: 'send-result', step: 0, attempt: 2, outcome: { kind: 'accepted', providerMessageId: 'a' } },
      { type: 'receipt-timeout', step: 0 },
      { type: 'in-doubt', step: 1, attempt: 1 },
      { type: 'send-result', step: 1, attempt: 2, outcome: { kind: 'accepted', providerMessageId: 'b' } },
      { type: 'receipt', step: 1, attempt: 2, state: 'delivered' },
      { type: 'receipt', step: 0, attempt: 2, state: 'delivered' },
      { type: 'receipt', step: 1, attempt: 2, state: 'read' },
      { type: 'cancel' },
    ] as const;

    for (const trigger of triggers) {
      clock.advance(MINUTE);
      const decision = decide(state, trigger, context);
      expect(decision.state).not.toBe(state);
      state = deepFreeze(decision.state);
    }
    expect(state.succeededStep).toBe(0);
  });

  it('takes every timestamp from the clock', () => {
    const clock = new FakeClock(T0 + 12_345);
    const { state } = decide(initialState([plan('sms', 'delivered')], null), { type: 'start' }, makeContext(clock));

    expect(state.steps[0]?.startedAt).toBe(T0 + 12_345);
  });
});
