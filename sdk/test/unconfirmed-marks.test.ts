import { describe, expect, it } from 'vitest';
import { MAX_MARK_RETRIES, UnconfirmedMarks } from '../src/unconfirmed-marks.js';

describe('UnconfirmedMarks', () => {
  it('resends the frames of a closed socket', () => {
    const marks = new UnconfirmedMarks();
    marks.sent({ type: 'ack', messageId: 'm1' });
    marks.sent({ type: 'read', messageId: 'm1' });
    marks.sent({ type: 'ack', messageId: 'm1' });
    marks.queue({ type: 'read', messageId: 'm2' });

    expect(marks.takeResend()).toEqual([{ type: 'read', messageId: 'm2' }]);
    marks.socketClosed();
    expect(marks.takeResend()).toEqual([
      { type: 'read', messageId: 'm1' },
      { type: 'ack', messageId: 'm1' },
    ]);
    expect(marks.takeResend()).toEqual([]);
  });

  it('keeps the newest 256 frames', () => {
    const marks = new UnconfirmedMarks();
    for (let index = 0; index < 300; index += 1) marks.sent({ type: 'ack', messageId: `m${index}` });
    marks.socketClosed();
    const resend = marks.takeResend();

    expect(resend).toHaveLength(256);
    expect(resend[0]).toEqual({ type: 'ack', messageId: 'm44' });
    expect(resend.at(-1)).toEqual({ type: 'ack', messageId: 'm299' });
  });

  it('retries ack-failed a bounded number of times', () => {
    const marks = new UnconfirmedMarks();
    const retries: number[] = [];
    for (let round = 0; round <= MAX_MARK_RETRIES; round += 1) {
      marks.sent({ type: 'ack', messageId: 'm1' });
      retries.push(...marks.failed('ack-failed', 'm1').map((entry) => entry.retry));
    }

    expect(retries).toEqual([0, 1, 2, 3, 4]);
  });

  it('drops frames on other error codes', () => {
    const marks = new UnconfirmedMarks();
    marks.sent({ type: 'read', messageId: 'm1' });

    expect(marks.failed('not-found', 'm1')).toEqual([]);
    marks.socketClosed();
    expect(marks.takeResend()).toEqual([]);
  });
});
