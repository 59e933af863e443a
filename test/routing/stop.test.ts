import { describe, expect, it } from 'vitest';
import { HOUR, Run, SECOND, T0, eventOf, plan, sends } from './harness.js';

describe('expire', () => {
  it('expires a message during a retry', () => {
    const run = new Run([plan('sms', 'delivered'), plan('email', 'accepted')], { expiresAt: T0 + HOUR });
    run.start();
    run.transient(0, 1);
    run.clock.advance(HOUR);
    const { state, actions } = run.feed({ type: 'expire' });

    expect(state.status).toBe('expired');
    expect(state.completedAt).toBe(T0 + HOUR);
    expect(run.stepStatuses()).toEqual(['cancelled', 'cancelled']);
    expect(state.steps[0]?.attempts[0]?.status).toBe('error');
    expect(eventOf(actions, 'message.finished')).toEqual({ status: 'expired', succeededStep: null });

    const retry = run.feed({ type: 'retry-due', step: 0 });
    expect(retry.state).toEqual(state);
    expect(retry.actions).toEqual([]);
  });

  it('keeps earlier step outcomes on expiry', () => {
    const run = new Run([plan('sms', 'delivered'), plan('whatsApp', 'delivered')], { expiresAt: T0 + HOUR });
    run.start();
    run.permanent(0);
    run.accept(1);
    run.clock.advance(HOUR);
    const { state } = run.feed({ type: 'expire' });

    expect(run.stepStatuses()).toEqual(['failed', 'cancelled']);
    expect(state.steps[0]?.reason).toBe('permanent-error');
  });

  it('leaves a finished message as it is', () => {
    const run = new Run([plan('sms', 'delivered')], { expiresAt: T0 + HOUR });
    run.start();
    run.accept(0);
    run.receipt(0, 1, 'delivered');
    const before = run.state;
    run.clock.advance(HOUR);
    const { state, actions } = run.feed({ type: 'expire' });

    expect(state).toEqual(before);
    expect(actions).toEqual([]);
  });
});

describe('cancel', () => {
  it('cancels an unfinished message', () => {
    const run = new Run([plan('sms', 'delivered'), plan('email', 'accepted')]);
    run.start();
    run.accept(0);
    run.clock.advance(SECOND);
    const { state, actions } = run.feed({ type: 'cancel' });

    expect(state.status).toBe('cancelled');
    expect(state.completedAt).toBe(T0 + SECOND);
    expect(run.stepStatuses()).toEqual(['cancelled', 'cancelled']);
    expect(sends(actions)).toEqual([]);
  });

  it('leaves a finished message as it is', () => {
    const run = new Run([plan('email', 'accepted')]);
    run.start();
    run.accept(0);
    const before = run.state;
    const { state, actions } = run.feed({ type: 'cancel' });

    expect(state).toEqual(before);
    expect(actions).toEqual([]);
  });

  it('cancels a message before it starts', () => {
    const run = new Run([plan('sms', 'delivered')]);
    const { state } = run.feed({ type: 'cancel' });
    expect(state.status).toBe('cancelled');

    const start = run.start();
    expect(start.state).toEqual(state);
    expect(start.actions).toEqual([]);
  });
});
