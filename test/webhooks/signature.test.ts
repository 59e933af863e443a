import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_SCHEDULE, minimumRetrySpanMs, parseRetryAfterMs, retryDelayMs } from '../../src/webhooks/retry.js';
import { generateSecret, signPayload } from '../../src/webhooks/signature.js';

const HOUR = 60 * 60 * 1000;

describe('webhook signature', () => {
  it('generateSecret is whsec_ and 32 bytes', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(generateSecret()).not.toBe(secret);
  });

  it('standardwebhooks verifies signPayload', () => {
    const secret = generateSecret();
    const body = JSON.stringify({ type: 'message.sent', timestamp: '2025-01-01T00:00:00.000Z', data: { messageId: 'm1' } });
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = { 'webhook-id': 'delivery-1', 'webhook-timestamp': String(timestamp), 'webhook-signature': signPayload(secret, 'delivery-1', timestamp, body) };

    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('standardwebhooks rejects a changed body', () => {
    const secret = generateSecret();
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = { 'webhook-id': 'delivery-1', 'webhook-timestamp': String(timestamp), 'webhook-signature': signPayload(secret, 'delivery-1', timestamp, '{"a":1}') };

    expect(() => new Webhook(secret).verify('{"a":2}', headers)).toThrow();
    expect(() => new Webhook(generateSecret()).verify('{"a":1}', headers)).toThrow();
  });

  it('signPayload rejects a secret without prefix', () => {
    expect(() => signPayload('c2VjcmV0', 'id', 1, '{}')).toThrow('whsec_');
  });
});

describe('webhook retry schedule', () => {
  it('default schedule spans at least 24 hours', () => {
    expect(minimumRetrySpanMs(DEFAULT_RETRY_SCHEDULE)).toBeGreaterThanOrEqual(24 * HOUR);
  });

  it('delays double up to the cap', () => {
    const schedule = { initialDelayMs: 100, maxDelayMs: 1000, maxAttempts: 10, jitter: 0 };
    expect([1, 2, 3, 4, 5, 6].map((failed) => retryDelayMs(schedule, failed, 0.5))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('jitter only lengthens delays', () => {
    const schedule = { initialDelayMs: 1000, maxDelayMs: 10_000, maxAttempts: 5, jitter: 0.25 };
    expect(retryDelayMs(schedule, 1, 0)).toBe(1000);
    expect(retryDelayMs(schedule, 1, 0.999)).toBe(1250);
    expect(retryDelayMs(schedule, 100, 0)).toBe(10_000);
  });

  it('parseRetryAfterMs reads seconds and dates', () => {
    const now = Date.UTC(2025, 0, 1);
    expect(parseRetryAfterMs('120', now)).toBe(120_000);
    expect(parseRetryAfterMs(new Date(now + 30_000).toUTCString(), now)).toBe(30_000);
    expect(parseRetryAfterMs(new Date(now - 30_000).toUTCString(), now)).toBe(0);
    expect(parseRetryAfterMs('9999999', now)).toBe(24 * HOUR);
    expect(parseRetryAfterMs('soon', now)).toBeNull();
    expect(parseRetryAfterMs(undefined, now)).toBeNull();
  });
});
