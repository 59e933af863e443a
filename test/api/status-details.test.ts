import { describe, expect, it } from 'vitest';
import { describeStatus } from '../../src/api/status-details.js';
import type { MessageStatus, StepStatus } from '../../src/routing/types.js';
import type { AttemptView, MessageView } from '../../src/store/types.js';

const T0 = Date.parse('2025-06-01T12:00:00Z');

type StepInput = { status: StepStatus; reason?: string | null; attempts?: AttemptView[]; fallbackAfterMs?: number | null };

function view(status: MessageStatus, steps: StepInput[], extra: Partial<MessageView> = {}): MessageView {
  const channels = ['sms', 'email', 'whatsApp'] as const;
  return {
    id: 'm-1',
    spaceId: 'default',
    profileId: null,
    status,
    succeededStep: null,
    createdAt: T0,
    updatedAt: T0,
    completedAt: null,
    expiresAt: null,
    sendAt: null,
    metadata: null,
    request: {},
    events: [],
    steps: steps.map((step, index) => ({
      index,
      channel: channels[index] ?? 'sms',
      condition: index === 1 ? 'accepted' : 'delivered',
      fallbackAfterMs: step.fallbackAfterMs ?? null,
      status: step.status,
      reason: step.reason ?? null,
      startedAt: null,
      endedAt: null,
      attempts: step.attempts ?? [],
    })),
    ...extra,
  };
}

function attempt(status: AttemptView['status'], errorMessage: string | null = null): AttemptView {
  return { number: 1, status, providerMessageId: null, errorCode: null, errorMessage, startedAt: T0, updatedAt: T0, receipts: [] };
}

describe('describeStatus', () => {
  it('names the channel that delivered', () => {
    const text = describeStatus(view('delivered', [{ status: 'failed', reason: 'receipt-failed' }, { status: 'succeeded' }], { succeededStep: 1 }));
    expect(text).toBe('Delivered on email (step 2 of 2).');
  });

  it('names the channel that was read', () => {
    expect(describeStatus(view('read', [{ status: 'succeeded' }], { succeededStep: 0 }))).toBe('Read on sms (step 1 of 1).');
  });

  it('describes a step waiting for its receipt', () => {
    const text = describeStatus(view('processing', [{ status: 'waiting', fallbackAfterMs: 600_000, attempts: [attempt('accepted')] }, { status: 'pending' }]));
    expect(text).toBe('Step 1 of 2 (sms) was accepted by the provider and waits for up to PT10M until it is delivered.');
  });

  it('describes a step waiting to retry', () => {
    const text = describeStatus(view('retrying', [{ status: 'retrying', attempts: [attempt('error', 'SMSC throttled the request')] }]));
    expect(text).toBe('Step 1 of 1 (sms) is waiting to retry after a temporary error: SMSC throttled the request.');
  });

  it('describes a scheduled message', () => {
    const text = describeStatus(view('processing', [{ status: 'pending' }], { sendAt: T0 + 3_600_000 }));
    expect(text).toBe('Scheduled. Routing starts at 2025-06-01T13:00:00.000Z.');
  });

  it('lists the reason of every step of a failed message', () => {
    const text = describeStatus(
      view('failed', [
        { status: 'skipped', reason: 'no-address' },
        { status: 'failed', reason: 'permanent-error', attempts: [attempt('failed', '550 mailbox unavailable')] },
        { status: 'timed-out' },
      ]),
    );
    expect(text).toBe(
      'No step succeeded. Step 1 (sms) was skipped: no address for the channel. ' +
        'Step 2 (email) failed: the provider rejected it (550 mailbox unavailable). ' +
        'Step 3 (whatsApp) timed out before it was delivered.',
    );
  });

  it('explains a filtered message by its opt-outs', () => {
    const text = describeStatus(view('filtered', [{ status: 'skipped', reason: 'opted-out' }]));
    expect(text).toBe('Not sent because every step was skipped. Step 1 (sms) was skipped: the profile opted out of the channel.');
  });

  it('gives the expiry time of an expired message', () => {
    const text = describeStatus(view('expired', [{ status: 'cancelled' }], { expiresAt: T0 + 60_000 }));
    expect(text).toBe('Expired at 2025-06-01T12:01:00.000Z before any step succeeded.');
  });
});
