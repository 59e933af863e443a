import { describe, expect, it } from 'vitest';
import { MINUTE, Run, SECOND, T0, doubleDeliveries, eventOf, eventTypes, plan, schedules, sends } from './harness.js';

describe('receipt for the current step', () => {
  it('finishes a delivered step as delivered', () => {
    const run = new Run([plan('sms', 'delivered'), plan('email', 'accepted')]);
    run.start();
    run.accept(0);
    run.clock.advance(3 * SECOND);
    const { state, actions } = run.receipt(0, 1, 'delivered');

    expect(state.steps[0]?.attempts[0]?.status).toBe('delivered');
    expect(state.steps[0]?.status).toBe('succeeded');
    expect(state.status).toBe('delivered');
    expect(state.succeededStep).toBe(0);
    expect(state.completedAt).toBe(T0 + 3 * SECOND);
    expect(state.steps[1]?.status).toBe('cancelled');
    expect(eventTypes(actions)).toEqual(['receipt.applied', 'step.succeeded', 'message.finished']);
  });

  it('finishes as read when read meets the condition', () => {
    const run = new Run([plan('whatsApp', 'delivered')]);
    run.start();
    run.accept(0);
    const { state } = run.receipt(0, 1, 'read');

    expect(state.status).toBe('read');
    expect(state.succeededStep).toBe(0);
  });

  it('keeps a read step waiting after delivery', () => {
    const run = new Run([plan('whatsApp', 'read'), plan('sms', 'delivered')]);
    run.start();
    run.accept(0);
    const delivered = run.receipt(0, 1, 'delivered');

    expect(delivered.state.status).toBe('delivered');
    expect(delivered.state.completedAt).toBeNull();
    expect(delivered.state.steps[0]?.status).toBe('waiting');

    run.clock.advance(MINUTE);
    const { state } = run.receipt(0, 1, 'read');
    expect(state.status).toBe('read');
    expect(state.completedAt).toBe(T0 + MINUTE);
    expect(state.steps[1]?.status).toBe('cancelled');
  });

  it('moves on after a failure receipt', () => {
    const run = new Run([plan('sms', 'delivered'), plan('whatsApp', 'delivered')]);
    run.start();
    run.accept(0);
    const { state, actions } = run.feed({ type: 'receipt', step: 0, attempt: 1, state: 'failed', errorCode: 'UNDELIV' });

    expect(state.steps[0]?.attempts[0]?.status).toBe('failed');
    expect(state.steps[0]?.attempts[0]?.errorCode).toBe('UNDELIV');
    expect(state.steps[0]?.status).toBe('failed');
    expect(state.steps[0]?.reason).toBe('receipt-failed');
    expect(state.currentStep).toBe(1);
    expect(sends(actions)).toEqual([{ step: 1, attempt: 1 }]);
    expect(eventOf(actions, 'message.fallback')).toMatchObject({ reason: 'receipt-failed' });
  });

  it('moves on after an expired receipt', () => {
    const run = new Run([plan('sms', 'delivered'), plan('whatsApp', 'delivered')]);
    run.start();
    run.accept(0);
    const { state } = run.receipt(0, 1, 'expired');

    expect(state.steps[0]?.reason).toBe('receipt-expired');
    expect(state.currentStep).toBe(1);
  });
});

describe('receipt ordering', () => {
  it('applies an early receipt', () => {
    const run = new Run([plan('sms', 'delivered'), plan('email', 'accepted')]);
    run.start();
    const early = run.receipt(0, 1, 'delivered');

    expect(early.state.steps[0]?.attempts[0]?.status).toBe('delivered');
    expect(early.state.status).toBe('delivered');
    expect(early.state.succeededStep).toBe(0);

    const { state, actions } = run.accept(0, 1, 'smsc-7');
    expect(state.steps[0]?.attempts[0]?.status).toBe('delivered');
    expect(state.steps[0]?.attempts[0]?.providerMessageId).toBe('smsc-7');
    expect(state.status).toBe('delivered');
    expect(sends(actions)).toEqual([]);
  });

  it('moves a read step to waiting on an early delivery', () => {
    const run = new Run([plan('whatsApp', 'read')]);
    run.start();
    const { state, actions } = run.receipt(0, 1, 'delivered');

    expect(state.steps[0]?.status).toBe('waiting');
    expect(state.status).toBe('delivered');
    expect(schedules(actions)).toHaveLength(1);

    const accepted = run.accept(0);
    expect(accepted.state.steps[0]?.status).toBe('waiting');
    expect(schedules(accepted.actions)).toEqual([]);
  });

  it('applies read before delivered', () => {
    const run = new Run([plan('whatsApp', 'read')]);
    run.start();
    run.accept(0);
    const read = run.receipt(0, 1, 'read');
    expect(read.state.status).toBe('read');

    const { state, actions } = run.receipt(0, 1, 'delivered');
    expect(state).toEqual(read.state);
    expect(actions).toEqual([]);
  });

  it('applies a duplicate receipt once', () => {
    const run = new Run([plan('whatsApp', 'read')]);
    run.start();
    run.accept(0);
    const first = run.receipt(0, 1, 'delivered');
    const { state, actions } = run.receipt(0, 1, 'delivered');

    expect(state).toEqual(first.state);
    expect(actions).toEqual([]);
  });

  it('records failed after delivered without regress', () => {
    const run = new Run([plan('whatsApp', 'read'), plan('sms', 'delivered')]);
    run.start();
    run.accept(0);
    run.receipt(0, 1, 'delivered');
    const { state, actions } = run.receipt(0, 1, 'failed');

    expect(state.steps[0]?.attempts[0]?.status).toBe('delivered');
    expect(state.steps[0]?.status).toBe('waiting');
    expect(state.status).toBe('delivered');
    expect(state.currentStep).toBe(0);
    expect(eventTypes(actions)).toEqual(['receipt.ignored']);
    expect(eventOf(actions, 'receipt.ignored')).toEqual({ state: 'failed', attemptStatus: 'delivered' });
  });
});

/** Step 0 timed out waiting for delivery, so routing is on step 1. */
function runPastFirstStep(): Run {
  const run = new Run([plan('sms', 'delivered', MINUTE), plan('whatsApp', 'delivered'), plan('email', 'accepted')]);
  run.start();
  run.accept(0);
  run.clock.advance(MINUTE);
  run.feed({ type: 'receipt-timeout', step: 0 });
  return run;
}

describe('late receipt', () => {
  it('cancels a later step not yet sent', () => {
    const run = runPastFirstStep();
    run.transient(1, 1);
    expect(run.state.steps[1]?.status).toBe('retrying');

    run.clock.advance(SECOND);
    const { state, actions } = run.receipt(0, 1, 'delivered');

    expect(state.status).toBe('delivered');
    expect(state.succeededStep).toBe(0);
    expect(state.completedAt).toBe(T0 + MINUTE + SECOND);
    expect(state.currentStep).toBe(1);
    expect(run.stepStatuses()).toEqual(['succeeded', 'cancelled', 'cancelled']);
    expect(doubleDeliveries(actions)).toEqual([]);
    expect(eventOf(actions, 'receipt.late')).toMatchObject({ state: 'delivered', stepStatus: 'timed-out' });
  });

  it('cancels a later step awaiting its first send', () => {
    const run = new Run([plan('sms', 'delivered', MINUTE), plan('whatsApp', 'delivered')], { insertAttempts: false });
    run.start();
    run.accept(0);
    run.clock.advance(MINUTE);
    run.feed({ type: 'receipt-timeout', step: 0 });
    const { state, actions } = run.receipt(0, 1, 'delivered');

    expect(state.steps[1]?.status).toBe('cancelled');
    expect(doubleDeliveries(actions)).toEqual([]);
  });

  it('reports a later step already sent', () => {
    const run = runPastFirstStep();
    run.accept(1);
    const { state, actions } = run.receipt(0, 1, 'delivered');

    expect(state.status).toBe('delivered');
    expect(state.succeededStep).toBe(0);
    expect(run.stepStatuses()).toEqual(['succeeded', 'waiting', 'cancelled']);
    expect(doubleDeliveries(actions)).toEqual([{ step: 0, otherStep: 1 }]);
  });

  it('reports a later step still in its send call', () => {
    const run = runPastFirstStep();
    const { state, actions } = run.receipt(0, 1, 'read');

    expect(state.status).toBe('read');
    expect(state.steps[1]?.status).toBe('sending');
    expect(doubleDeliveries(actions)).toEqual([{ step: 0, otherStep: 1 }]);
  });

  it('records a late failure without routing', () => {
    const run = runPastFirstStep();
    const before = run.state;
    const { state, actions } = run.receipt(0, 1, 'failed');

    expect(state.steps[0]?.attempts[0]?.status).toBe('failed');
    expect(state.steps[0]?.status).toBe('timed-out');
    expect(state.currentStep).toBe(before.currentStep);
    expect(state.status).toBe(before.status);
    expect(eventTypes(actions)).toEqual(['receipt.late']);
  });

  it('records a late delivery short of a read condition', () => {
    const run = new Run([plan('whatsApp', 'read', MINUTE), plan('sms', 'delivered')]);
    run.start();
    run.accept(0);
    run.clock.advance(MINUTE);
    run.feed({ type: 'receipt-timeout', step: 0 });
    const { state, actions } = run.receipt(0, 1, 'delivered');

    expect(state.steps[0]?.attempts[0]?.status).toBe('delivered');
    expect(state.steps[0]?.status).toBe('timed-out');
    expect(state.status).toBe('processing');
    expect(state.completedAt).toBeNull();
    expect(eventTypes(actions)).toEqual(['receipt.late']);
  });
});

describe('receipt after finish', () => {
  it('records a delivery of another step', () => {
    const run = runPastFirstStep();
    run.accept(1);
    run.receipt(1, 1, 'delivered');
    expect(run.state.succeededStep).toBe(1);
    const finished = run.state;

    run.clock.advance(MINUTE);
    const { state, actions } = run.receipt(0, 1, 'delivered');
    expect(state.steps[0]?.attempts[0]?.status).toBe('delivered');
    expect(state.steps[0]?.attempts[0]?.updatedAt).toBe(T0 + 2 * MINUTE);
    expect(state.status).toBe('delivered');
    expect(state.succeededStep).toBe(1);
    expect(state.completedAt).toBe(finished.completedAt);
    expect(state.steps[0]?.status).toBe('timed-out');
    expect(doubleDeliveries(actions)).toEqual([{ step: 0, otherStep: 1 }]);
    expect(eventTypes(actions)).toEqual(['receipt.late']);
  });

  it('does not report a later step twice', () => {
    const run = runPastFirstStep();
    run.accept(1);
    run.receipt(0, 1, 'delivered');
    const { state, actions } = run.receipt(1, 1, 'delivered');

    expect(state.steps[1]?.attempts[0]?.status).toBe('delivered');
    expect(state.succeededStep).toBe(0);
    expect(doubleDeliveries(actions)).toEqual([]);
  });

  it('upgrades a delivered message to read', () => {
    const run = new Run([plan('whatsApp', 'delivered')]);
    run.start();
    run.accept(0);
    const delivered = run.receipt(0, 1, 'delivered');
    run.clock.advance(SECOND);
    const { state, actions } = run.receipt(0, 1, 'read');

    expect(state.status).toBe('read');
    expect(state.completedAt).toBe(delivered.state.completedAt);
    expect(eventOf(actions, 'receipt.applied')).toMatchObject({ state: 'read', messageStatus: 'read' });
  });

  it('keeps a sent message sent', () => {
    const run = new Run([plan('sms', 'accepted')]);
    run.start();
    run.accept(0);
    const { state, actions } = run.receipt(0, 1, 'delivered');

    expect(state.status).toBe('sent');
    expect(state.steps[0]?.attempts[0]?.status).toBe('delivered');
    expect(eventTypes(actions)).toEqual(['receipt.applied']);
  });

  it('keeps a failed message failed', () => {
    const run = new Run([plan('sms', 'delivered', MINUTE)]);
    run.start();
    run.accept(0);
    run.clock.advance(MINUTE);
    run.feed({ type: 'receipt-timeout', step: 0 });
    expect(run.state.status).toBe('failed');

    const { state, actions } = run.receipt(0, 1, 'delivered');
    expect(state.status).toBe('failed');
    expect(state.succeededStep).toBeNull();
    expect(state.steps[0]?.attempts[0]?.status).toBe('delivered');
    expect(doubleDeliveries(actions)).toEqual([]);
  });

  it('ignores read of another step after finish', () => {
    const run = runPastFirstStep();
    run.accept(1);
    run.receipt(1, 1, 'delivered');
    const { state } = run.receipt(0, 1, 'read');

    expect(state.status).toBe('delivered');
  });
});
