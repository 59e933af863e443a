import { describe, expect, it } from 'vitest';
import { reconnectDelay, validateReconnectOptions } from '../src/backoff.js';

const bounds = { minMs: 500, maxMs: 30_000 };

describe('reconnectDelay', () => {
  it('doubles the range with each attempt', () => {
    expect(reconnectDelay(0, bounds, () => 0)).toBe(500);
    expect(reconnectDelay(0, bounds, () => 1)).toBe(1_000);
    expect(reconnectDelay(1, bounds, () => 0)).toBe(1_000);
    expect(reconnectDelay(1, bounds, () => 1)).toBe(2_000);
    expect(reconnectDelay(4, bounds, () => 0)).toBe(8_000);
    expect(reconnectDelay(4, bounds, () => 1)).toBe(16_000);
  });

  it('caps at maxMs', () => {
    expect(reconnectDelay(6, bounds, () => 1)).toBe(30_000);
    expect(reconnectDelay(6, bounds, () => 0)).toBe(15_000);
    expect(reconnectDelay(1_000, bounds, () => 1)).toBe(30_000);
  });

  it('never goes below minMs', () => {
    const narrow = { minMs: 1_000, maxMs: 1_200 };
    for (const attempt of [0, 1, 5]) {
      expect(reconnectDelay(attempt, narrow, () => 0)).toBe(1_000);
      expect(reconnectDelay(attempt, narrow, () => 1)).toBe(1_200);
    }
  });

  it('spreads delays with jitter', () => {
    const delays = new Set(Array.from({ length: 50 }, () => reconnectDelay(3, bounds)));
    expect(delays.size).toBeGreaterThan(10);
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(4_000);
      expect(delay).toBeLessThanOrEqual(8_000);
    }
  });
});

describe('validateReconnectOptions', () => {
  it('rejects unusable bounds', () => {
    expect(() => validateReconnectOptions({ minMs: 0, maxMs: 10 })).toThrow(/reconnect\.minMs must be a positive number/);
    expect(() => validateReconnectOptions({ minMs: 100, maxMs: 50 })).toThrow(/reconnect\.maxMs must be .* at least reconnect\.minMs \(100\); received 50/);
    expect(() => validateReconnectOptions({ minMs: Number.NaN, maxMs: 50 })).toThrow(/received NaN/);
  });

  it('accepts equal bounds', () => {
    expect(() => validateReconnectOptions({ minMs: 100, maxMs: 100 })).not.toThrow();
  });
});
