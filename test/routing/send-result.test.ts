import { describe, expect, it } from 'vitest';
import { HOUR, MINUTE, Run, SECOND, T0, eventOf, eventTypes, plan, schedules, sends } from './harness.js';

describe('send-result accepted', () => {
  it('finishes an accepted step as sent', () => {
    const run = new Run([plan('email', 'accepted'), plan('sms', 'delivered')]);
    run.start();
    run.clock.advance(2 * SECOND);
    const { state, actions } = run.accept(0, 1, 'smtp-1');

    expect(state.steps[0]?.attempts[0]?.status).toBe('accepted');
    expect(state.steps[0]?.attempts[0]?.providerMessageId).toBe('smtp-1');
    expect(state.steps[0]?.status).toBe('succeeded');
    expect(state.status).toBe('sent');
    expect(state.succeededStep).toBe(0);
    expect(state.completedAt).toBe(T0 + 2 * SECOND);
    expect(state.steps[1]?.status).toBe('cancelled');
    expect(sends(actions)).toEqual([]);
  });

  it('waits for a receipt on a delivered step', () => {
    const run = new Run([plan('sms', 'delivered'), plan('email', 'accepted')]);
    run.start();
    const { state, actions } = run.accept(0);

    expect(state.steps[0]?.status).toBe('waiting');
    expect(state.status).toBe('sent');
    expect(state.completedAt).toBeNull();
    expect(schedules(actions)).toEqual([{ job: 'receipt-timeout', step: 0, at: T0 + 48 * HOUR }]);
  });

  it('leaves the wait to fallbackAfter when set', () => {
    const run = new Run([plan('sms', 'delivered', 5 * MINUTE)]);
    run.start();
    const { actions } = run.accept(0);

    expect(schedules(actions)).toEqual([]);
  });

  it('schedules no wait without maxReceiptWaitMs', () => {
    const run = new Run([plan('whatsApp', 'delivered')], { policies: { whatsApp: { maxReceiptWaitMs: null } } });
    run.start();
    const { state, actions } = run.accept(0);

    expect(state.steps[0]?.status).toBe('waiting');
    expect(schedules(actions)).toEqual([]);
  });

  it('records a second result once', () => {
    const run = new Run([plan('sms', 'delivered')]);
    run.start();
    run.accept(0);
    const before = run.state;
    const { state, actions } = run.accept(0);

    expect(state).toEqual(before);
    expect(actions).toEqual([]);
  });

  it('adds an attempt missing from the state', () => {
    const run = new Run([plan('sms', 'delivered')], { insertAttempts: false });
    run.start();
    const { state } = run.accept(0, 1, 'smsc-9');

    expect(state.steps[0]?.attempts).toEqual([
      {
        number: 1,
        status: 'accepted',
        providerMessageId: 'smsc-9',
        errorCode: null,
        errorMessage: null,
        startedAt: T0,
        updatedAt: T0,
      },
    ]);
    expect(state.steps[0]?.status).toBe('waiting');
  });

  it('records acceptance for a step routing left', () => {
    const run = new Run([plan('sms', 'delivered', MINUTE), plan('email', 'accepted')]);
    run.start();
    run.clock.advance(MINUTE);
    run.feed({ type: 'receipt-timeout', step: 0 });
    const { state, actions } = run.accept(0, 1, 'late-id');

    expect(state.steps[0]?.attempts[0]?.status).toBe('accepted');
    expect(state.steps[0]?.attempts[0]?.providerMessageId).toBe('late-id');
    expect(state.steps[0]?.status).toBe('timed-out');
    expect(state.currentStep).toBe(1);
    expect(state.status).toBe('processing');
    expect(eventTypes(actions)).toEqual(['attempt.accepted']);
  });
});

describe('send-result permanent', () => {
  it('fails the step and moves on at once', () => {
    const run = new Run([plan('sms', 'delivered'), plan('email', 'accepted')]);
    run.start();
    const { state, actions } = run.permanent(0);

    const attempt = state.steps[0]?.attempts[0];
    expect(attempt?.status).toBe('failed');
    expect(attempt?.errorCode).toBe('invalid-recipient');
    expect(attempt?.errorMessage).toBe('The recipient is invalid.');
    expect(state.steps[0]?.status).toBe('failed');
    expect(state.steps[0]?.reason).toBe('permanent-error');
    expect(state.currentStep).toBe(1);
    expect(sends(actions)).toEqual([{ step: 1, attempt: 1 }]);
    expect(eventOf(actions, 'message.fallback')).toMatchObject({ from: 0, to: 1, reason: 'permanent-error' });
  });
});

describe('send-result transient', () => {
  it('schedules a retry with backoff', () => {
    const run = new Run([plan('sms', 'delivered')], { random: 0.5 });
    run.start();
    const { state, actions } = run.transient(0, 1);

    expect(state.steps[0]?.attempts[0]?.status).toBe('error');
    expect(state.steps[0]?.attempts[0]?.errorCode).toBe('throttled');
    expect(state.steps[0]?.status).toBe('retrying');
    expect(state.status).toBe('retrying');
    // sms: base 1 s, first retry ceiling 1 s, jitter factor 0.5 + 0.5 * 0.5 = 0.75.
    expect(schedules(actions)).toEqual([{ job: 'retry', step: 0, at: T0 + 750 }]);
    expect(sends(actions)).toEqual([]);
  });

  it('sends the next attempt when the retry is due', () => {
    const run = new Run([plan('sms', 'delivered')]);
    run.start();
    run.transient(0, 1);
    run.clock.advance(SECOND);
    const { state, actions } = run.feed({ type: 'retry-due', step: 0 });

    expect(state.steps[0]?.status).toBe('sending');
    expect(state.status).toBe('processing');
    expect(sends(actions)).toEqual([{ step: 0, attempt: 2 }]);
  });

  it('honours retryAfterMs', () => {
    const run = new Run([plan('whatsApp', 'delivered')], { random: 0.99 });
    run.start();
    const { actions } = run.transient(0, 1, 90 * SECOND);

    expect(schedules(actions)).toEqual([{ job: 'retry', step: 0, at: T0 + 90 * SECOND }]);
  });

  it('moves on when retries are exhausted', () => {
    const run = new Run([plan('sms', 'delivered'), plan('email', 'accepted')], { policies: { sms: { maxAttempts: 3 } } });
    run.start();
    for (const attempt of [1, 2]) {
      run.transient(0, attempt);
      run.clock.advance(10 * SECOND);
      run.feed({ type: 'retry-due', step: 0 });
    }
    const { state, actions } = run.transient(0, 3);

    expect(state.steps[0]?.attempts.map((attempt) => attempt.status)).toEqual(['error', 'error', 'error']);
    expect(state.steps[0]?.status).toBe('failed');
    expect(state.steps[0]?.reason).toBe('retries-exhausted');
    expect(state.currentStep).toBe(1);
    expect(sends(actions)).toEqual([{ step: 1, attempt: 1 }]);
    expect(schedules(actions)).toEqual([]);
  });
});
