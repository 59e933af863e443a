import { describe, expect, it } from 'vitest';
import { Run, T0, eventOf, plan, sends } from './harness.js';

describe('skip', () => {
  it('moves on to the next step', () => {
    const run = new Run([plan('whatsApp', 'delivered'), plan('sms', 'delivered')]);
    run.start();
    const { state, actions } = run.feed({ type: 'skip', step: 0, reason: 'no-address' });

    expect(state.steps[0]?.status).toBe('skipped');
    expect(state.steps[0]?.reason).toBe('no-address');
    expect(state.steps[0]?.endedAt).toBe(T0);
    expect(state.currentStep).toBe(1);
    expect(state.steps[1]?.status).toBe('sending');
    expect(sends(actions)).toEqual([{ step: 1, attempt: 1 }]);
    expect(eventOf(actions, 'message.fallback')).toEqual({
      from: 0,
      to: 1,
      fromChannel: 'whatsApp',
      toChannel: 'sms',
      reason: 'no-address',
    });
  });

  it('ignores a skip for a step not sending', () => {
    const run = new Run([plan('whatsApp', 'delivered'), plan('sms', 'delivered')]);
    run.start();
    run.accept(0);
    const before = run.state;
    const { state, actions } = run.feed({ type: 'skip', step: 0, reason: 'opted-out' });

    expect(state).toEqual(before);
    expect(actions).toEqual([]);
  });
});

describe('steps spent', () => {
  it('filters a message every step opted out of', () => {
    const run = new Run([plan('whatsApp', 'delivered'), plan('sms', 'delivered')]);
    run.start();
    run.feed({ type: 'skip', step: 0, reason: 'opted-out' });
    const { state, actions } = run.feed({ type: 'skip', step: 1, reason: 'opted-out' });

    expect(state.status).toBe('filtered');
    expect(state.completedAt).toBe(T0);
    expect(state.currentStep).toBe(2);
    expect(state.succeededStep).toBeNull();
    expect(eventOf(actions, 'message.finished')).toEqual({ status: 'filtered', succeededStep: null });
  });

  it('fails when one skip is not an opt-out', () => {
    const run = new Run([plan('whatsApp', 'delivered'), plan('sms', 'delivered')]);
    run.start();
    run.feed({ type: 'skip', step: 0, reason: 'opted-out' });
    const { state } = run.feed({ type: 'skip', step: 1, reason: 'no-address' });

    expect(state.status).toBe('failed');
    expect(state.steps.map((step) => step.reason)).toEqual(['opted-out', 'no-address']);
  });

  it('fails when the last step fails', () => {
    const run = new Run([plan('whatsApp', 'delivered'), plan('sms', 'delivered')]);
    run.start();
    run.feed({ type: 'skip', step: 0, reason: 'opted-out' });
    const { state, actions } = run.permanent(1);

    expect(state.status).toBe('failed');
    expect(state.completedAt).toBe(T0);
    expect(state.steps[1]?.reason).toBe('permanent-error');
    expect(sends(actions)).toEqual([]);
  });
});
