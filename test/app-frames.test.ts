import { describe, expect, it } from 'vitest';
import { parseClientFrame, toFeedMessage } from '../src/channels/app/frames.js';

describe('app client frames', () => {
  it.each([
    ['{"type":"pong"}', { type: 'pong' }],
    ['{"type":"ack","messageId":"msg-1"}', { type: 'ack', messageId: 'msg-1' }],
    ['{"type":"read","messageId":"msg-1","extra":true}', { type: 'read', messageId: 'msg-1' }],
  ])('%s parses', (text, frame) => {
    expect(parseClientFrame(text)).toEqual({ ok: true, frame });
  });

  it.each([
    ['not JSON', 'ack msg-1', 'invalid-frame'],
    ['an array', '[]', 'invalid-frame'],
    ['null', 'null', 'invalid-frame'],
    ['an ack without messageId', '{"type":"ack"}', 'invalid-frame'],
    ['a read with a numeric messageId', '{"type":"read","messageId":7}', 'invalid-frame'],
    ['an ack with an empty messageId', '{"type":"ack","messageId":""}', 'invalid-frame'],
    ['an ack with a 129-character messageId', JSON.stringify({ type: 'ack', messageId: 'm'.repeat(129) }), 'invalid-frame'],
    ['an unknown type', '{"type":"subscribe"}', 'unknown-frame-type'],
    ['no type', '{"messageId":"msg-1"}', 'unknown-frame-type'],
  ])('%s is rejected', (_name, text, code) => {
    expect(parseClientFrame(text)).toMatchObject({ ok: false, code });
  });

  it('unknown type detail shows at most 32 characters of it', () => {
    const result = parseClientFrame(JSON.stringify({ type: 'x'.repeat(100) }));

    expect(result).toHaveProperty('detail', `The frame type is "${'x'.repeat(32)}", but only ack, read and pong are accepted.`);
  });
});

describe('feed messages', () => {
  it('times are RFC 3339 and missing ones null', () => {
    const message = toFeedMessage({
      spaceId: 'default',
      appUserId: 'user-1',
      messageId: 'msg-1',
      seq: 7,
      providerMessageId: 'msg-1_0_1',
      title: null,
      body: 'hello',
      data: { a: 1 },
      sentOn: Date.parse('2025-06-01T12:00:00Z'),
      deliveredAt: Date.parse('2025-06-01T12:00:01Z'),
      readAt: null,
    });

    expect(message).toEqual({
      messageId: 'msg-1',
      seq: 7,
      title: null,
      body: 'hello',
      sentOn: '2025-06-01T12:00:00.000Z',
      data: { a: 1 },
      deliveredAt: '2025-06-01T12:00:01.000Z',
      readAt: null,
    });
  });
});
