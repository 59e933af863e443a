import { describe, expect, it } from 'vitest';
import type { EventType } from '../../src/routing/types.js';
import { payloadForEvent, payloadForInbound } from '../../src/webhooks/events.js';
import type { OutboxEvent } from '../../src/webhooks/types.js';

const T0 = Date.UTC(2025, 0, 1);

function event(type: EventType, data: Record<string, unknown>, overrides: Partial<OutboxEvent> = {}): OutboxEvent {
  return {
    id: 7,
    spaceId: 'default',
    messageId: 'msg-1',
    seq: 4,
    type,
    step: 0,
    attempt: 1,
    data,
    createdAt: T0,
    metadata: { orderId: '88121' },
    channel: 'sms',
    attemptProviderMessageId: 'A1B2',
    receipt: null,
    ...overrides,
  };
}

describe('webhook payloads', () => {
  it('accepted attempt becomes message.sent', () => {
    expect(payloadForEvent(event('attempt.accepted', { providerMessageId: 'A1B2' }))).toEqual({
      type: 'message.sent',
      timestamp: '2025-01-01T00:00:00.000Z',
      data: { messageId: 'msg-1', sequence: 4, status: 'sent', step: 0, attempt: 1, channel: 'sms', providerMessageId: 'A1B2', metadata: { orderId: '88121' } },
    });
  });

  it('delivered and read receipts', () => {
    const receipt = { providerMessageId: '123456', providerTimestamp: T0 - 5000 };
    const delivered = payloadForEvent(event('receipt.applied', { state: 'delivered' }, { receipt }));
    const read = payloadForEvent(event('receipt.late', { state: 'read' }, { receipt: null }));

    expect(delivered?.type).toBe('message.delivered');
    expect(delivered?.data).toMatchObject({ status: 'delivered', providerMessageId: 'A1B2', providerTimestamp: '2024-12-31T23:59:55.000Z' });
    expect(read?.type).toBe('message.read');
    expect(read?.data).toMatchObject({ status: 'read', providerTimestamp: null });
  });

  it('receipt id stands in for a missing attempt id', () => {
    const payload = payloadForEvent(event('receipt.applied', { state: 'delivered' }, { attemptProviderMessageId: null, receipt: { providerMessageId: 'r-1', providerTimestamp: null } }));
    expect(payload?.data.providerMessageId).toBe('r-1');
  });

  it('failure receipts are not sent', () => {
    expect(payloadForEvent(event('receipt.applied', { state: 'failed' }))).toBeNull();
    expect(payloadForEvent(event('receipt.late', { state: 'expired' }))).toBeNull();
  });

  it('fallback names both steps', () => {
    const payload = payloadForEvent(
      event('message.fallback', { from: 0, to: 1, fromChannel: 'sms', toChannel: 'email', reason: 'receipt-failed' }, { step: 1, attempt: null, channel: 'email' }),
    );
    expect(payload).toMatchObject({
      type: 'message.fallback',
      data: { status: 'processing', step: 1, attempt: null, channel: 'email', fromStep: 0, fromChannel: 'sms', reason: 'receipt-failed' },
    });
  });

  it('finished messages by status', () => {
    const finished = (status: string) => payloadForEvent(event('message.finished', { status, succeededStep: null }, { step: null, attempt: null, channel: null }));
    expect(finished('failed')).toMatchObject({ type: 'message.failed', data: { status: 'failed', step: null, channel: null } });
    expect(finished('filtered')).toMatchObject({ type: 'message.failed', data: { status: 'filtered' } });
    expect(finished('expired')).toMatchObject({ type: 'message.expired', data: { status: 'expired' } });
    for (const status of ['sent', 'delivered', 'read', 'cancelled']) expect(finished(status), status).toBeNull();
  });

  it('other engine events are not sent', () => {
    for (const type of ['message.started', 'step.started', 'step.failed', 'attempt.error', 'receipt.ignored'] as const) {
      expect(payloadForEvent(event(type, {})), type).toBeNull();
    }
  });

  it('inbound message payload', () => {
    const payload = payloadForInbound({
      id: 3,
      spaceId: 'default',
      channel: 'whatsApp',
      providerMessageId: 'wamid.1',
      address: '+12025550111',
      text: 'Where is my parcel?',
      providerTimestamp: T0,
      receivedAt: T0 + 1000,
    });
    expect(payload).toEqual({
      type: 'message.inbound',
      timestamp: '2025-01-01T00:00:01.000Z',
      data: { channel: 'whatsApp', from: '+12025550111', text: 'Where is my parcel?', providerMessageId: 'wamid.1', providerTimestamp: '2025-01-01T00:00:00.000Z' },
    });
  });
});
