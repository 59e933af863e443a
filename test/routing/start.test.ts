import { describe, expect, it } from 'vitest';
import { HOUR, MINUTE, Run, T0, eventTypes, plan, schedules, sends } from './harness.js';

describe('start', () => {
  it('sends the first step', () => {
    const run = new Run([plan('sms', 'delivered'), plan('email', 'accepted')]);
    const { state, actions } = run.start();

    expect(state.status).toBe('processing');
    expect(state.currentStep).toBe(0);
    expect(state.completedAt).toBeNull();
    expect(state.steps[0]?.status).toBe('sending');
    expect(state.steps[0]?.startedAt).toBe(T0);
    expect(state.steps[1]?.status).toBe('pending');
    expect(sends(actions)).toEqual([{ step: 0, attempt: 1 }]);
    expect(schedules(actions)).toEqual([]);
    expect(eventTypes(actions)).toEqual(['message.started', 'step.started']);
  });

  it('schedules the expiry', () => {
    const run = new Run([plan('sms', 'delivered')], { expiresAt: T0 + HOUR });
    const { actions } = run.start();

    expect(schedules(actions)).toContainEqual({ job: 'expire', step: null, at: T0 + HOUR });
    expect(sends(actions)).toEqual([{ step: 0, attempt: 1 }]);
  });

  it('expires a message past its expiry', () => {
    const run = new Run([plan('sms', 'delivered'), plan('email', 'accepted')], { expiresAt: T0 - 1 });
    const { state, actions } = run.start();

    expect(state.status).toBe('expired');
    expect(state.completedAt).toBe(T0);
    expect(run.stepStatuses()).toEqual(['cancelled', 'cancelled']);
    expect(sends(actions)).toEqual([]);
    expect(schedules(actions)).toEqual([]);
  });

  it('schedules the fallbackAfter deadline', () => {
    const run = new Run([plan('appMessaging', 'read', 10 * MINUTE), plan('sms', 'delivered')]);
    const { actions } = run.start();

    expect(schedules(actions)).toEqual([{ job: 'receipt-timeout', step: 0, at: T0 + 10 * MINUTE }]);
  });

  it('fails a message without steps', () => {
    const run = new Run([]);
    const { state, actions } = run.start();

    expect(state.status).toBe('failed');
    expect(state.completedAt).toBe(T0);
    expect(state.currentStep).toBe(0);
    expect(sends(actions)).toEqual([]);
    expect(eventTypes(actions)).toEqual(['message.started', 'message.finished']);
  });

  it('ignores a repeated start', () => {
    const run = new Run([plan('sms', 'delivered')]);
    run.start();
    const before = run.state;
    const { state, actions } = run.start();

    expect(state).toEqual(before);
    expect(actions).toEqual([]);
  });
});
