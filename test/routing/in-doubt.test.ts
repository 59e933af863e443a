import { describe, expect, it } from 'vitest';
import { Run, eventOf, plan, sends } from './harness.js';

describe('in-doubt', () => {
  it('resends on the same step', () => {
    const run = new Run([plan('sms', 'delivered'), plan('email', 'accepted')]);
    run.start();
    const { state, actions } = run.feed({ type: 'in-doubt', step: 0, attempt: 1 });

    expect(state.steps[0]?.attempts[0]?.status).toBe('in-doubt');
    expect(state.steps[0]?.status).toBe('sending');
    expect(state.currentStep).toBe(0);
    expect(sends(actions)).toEqual([{ step: 0, attempt: 2 }]);
    expect(eventOf(actions, 'attempt.in-doubt')).toEqual({ policy: 'resend' });
  });

  it('moves on under next-step', () => {
    const run = new Run([plan('sms', 'delivered'), plan('email', 'accepted')], { policies: { sms: { inDoubt: 'next-step' } } });
    run.start();
    const { state, actions } = run.feed({ type: 'in-doubt', step: 0, attempt: 1 });

    expect(state.steps[0]?.status).toBe('failed');
    expect(state.steps[0]?.reason).toBe('in-doubt');
    expect(state.currentStep).toBe(1);
    expect(sends(actions)).toEqual([{ step: 1, attempt: 1 }]);
    expect(eventOf(actions, 'message.fallback')).toMatchObject({ reason: 'in-doubt' });
  });

  it('fails the message under fail', () => {
    const run = new Run([plan('sms', 'delivered'), plan('email', 'accepted')], { policies: { sms: { inDoubt: 'fail' } } });
    run.start();
    const { state, actions } = run.feed({ type: 'in-doubt', step: 0, attempt: 1 });

    expect(state.status).toBe('failed');
    expect(state.completedAt).not.toBeNull();
    expect(run.stepStatuses()).toEqual(['failed', 'cancelled']);
    expect(state.steps[0]?.reason).toBe('in-doubt');
    expect(sends(actions)).toEqual([]);
  });

  it('ignores an attempt already accepted', () => {
    const run = new Run([plan('sms', 'delivered')]);
    run.start();
    run.accept(0);
    const before = run.state;
    const { state, actions } = run.feed({ type: 'in-doubt', step: 0, attempt: 1 });

    expect(state).toEqual(before);
    expect(actions).toEqual([]);
  });

  it('succeeds when the doubted attempt delivers', () => {
    const run = new Run([plan('sms', 'delivered')]);
    run.start();
    run.feed({ type: 'in-doubt', step: 0, attempt: 1 });
    run.accept(0, 2);
    const { state } = run.receipt(0, 1, 'delivered');

    expect(state.steps[0]?.attempts.map((attempt) => attempt.status)).toEqual(['delivered', 'accepted']);
    expect(state.status).toBe('delivered');
    expect(state.succeededStep).toBe(0);
  });
});
