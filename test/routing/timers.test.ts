import { describe, expect, it } from 'vitest';
import { HOUR, MINUTE, Run, SECOND, T0, eventOf, plan, schedules, sends } from './harness.js';

describe('receipt-timeout', () => {
  it('times out after the receipt wait', () => {
    const run = new Run([plan('sms', 'delivered'), plan('email', 'accepted')]);
    run.start();
    run.accept(0);
    run.clock.advance(48 * HOUR);
    const { state, actions } = run.feed({ type: 'receipt-timeout', step: 0 });

    expect(state.steps[0]?.status).toBe('timed-out');
    expect(state.steps[0]?.reason).toBe('timed-out');
    expect(state.steps[0]?.endedAt).toBe(T0 + 48 * HOUR);
    expect(state.currentStep).toBe(1);
    expect(sends(actions)).toEqual([{ step: 1, attempt: 1 }]);
  });

  it('times out an accepted step before acceptance', () => {
    const run = new Run([plan('appMessaging', 'accepted', 30 * SECOND), plan('sms', 'delivered')]);
    run.start();
    run.transient(0, 1, 60 * SECOND);
    run.clock.advance(30 * SECOND);
    const { state, actions } = run.feed({ type: 'receipt-timeout', step: 0 });

    expect(state.steps[0]?.status).toBe('timed-out');
    expect(state.status).toBe('processing');
    expect(state.currentStep).toBe(1);
    expect(eventOf(actions, 'message.fallback')).toMatchObject({ from: 0, to: 1, reason: 'timed-out' });
  });

  it('times out a delivered step without receipt', () => {
    const run = new Run([plan('fbMessenger', 'delivered', 10 * MINUTE), plan('sms', 'delivered', 5 * MINUTE)]);
    run.start();
    run.accept(0);
    run.clock.advance(10 * MINUTE);
    const { state, actions } = run.feed({ type: 'receipt-timeout', step: 0 });

    expect(state.steps[0]?.status).toBe('timed-out');
    expect(state.steps[1]?.startedAt).toBe(T0 + 10 * MINUTE);
    expect(eventOf(actions, 'message.fallback')).toMatchObject({ reason: 'timed-out' });
    expect(schedules(actions)).toEqual([{ job: 'receipt-timeout', step: 1, at: T0 + 15 * MINUTE }]);
  });

  it('times out a read step that was only delivered', () => {
    const run = new Run([plan('appMessaging', 'read', 10 * MINUTE), plan('sms', 'delivered')]);
    run.start();
    run.accept(0);
    run.receipt(0, 1, 'delivered');
    expect(run.state.status).toBe('delivered');

    run.clock.advance(10 * MINUTE);
    const { state, actions } = run.feed({ type: 'receipt-timeout', step: 0 });
    expect(state.steps[0]?.status).toBe('timed-out');
    expect(state.status).toBe('processing');
    expect(state.completedAt).toBeNull();
    expect(sends(actions)).toEqual([{ step: 1, attempt: 1 }]);
  });
});

describe('stale timers', () => {
  it('ignores a retry for a step routing left', () => {
    const run = new Run([plan('sms', 'delivered', MINUTE), plan('email', 'accepted')]);
    run.start();
    run.transient(0, 1, 2 * MINUTE);
    run.clock.advance(MINUTE);
    run.feed({ type: 'receipt-timeout', step: 0 });
    const before = run.state;

    run.clock.advance(MINUTE);
    const { state, actions } = run.feed({ type: 'retry-due', step: 0 });
    expect(state).toEqual(before);
    expect(actions).toEqual([]);
  });

  it('ignores a receipt-timeout for an earlier step', () => {
    const run = new Run([plan('sms', 'delivered'), plan('whatsApp', 'delivered')]);
    run.start();
    run.permanent(0);
    const before = run.state;
    const { state, actions } = run.feed({ type: 'receipt-timeout', step: 0 });

    expect(state).toEqual(before);
    expect(actions).toEqual([]);
  });

  it('ignores a receipt-timeout after finish', () => {
    const run = new Run([plan('sms', 'delivered', MINUTE)]);
    run.start();
    run.accept(0);
    run.receipt(0, 1, 'delivered');
    const before = run.state;

    run.clock.advance(MINUTE);
    const { state, actions } = run.feed({ type: 'receipt-timeout', step: 0 });
    expect(state).toEqual(before);
    expect(actions).toEqual([]);
  });

  it('ignores a retry for a step not retrying', () => {
    const run = new Run([plan('sms', 'delivered')]);
    run.start();
    run.accept(0);
    const before = run.state;
    const { state, actions } = run.feed({ type: 'retry-due', step: 0 });

    expect(state).toEqual(before);
    expect(actions).toEqual([]);
  });

  it('ignores a timer for a step that does not exist', () => {
    const run = new Run([plan('sms', 'delivered')]);
    run.start();
    const before = run.state;

    for (const step of [-1, 1, 0.5]) {
      const { state, actions } = run.feed({ type: 'receipt-timeout', step });
      expect(state).toEqual(before);
      expect(actions).toEqual([]);
    }
  });
});
