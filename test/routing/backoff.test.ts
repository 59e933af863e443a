import { describe, expect, it } from 'vitest';
import { computeRetryDelayMs } from '../../src/routing/backoff.js';
import type { ChannelPolicy } from '../../src/routing/types.js';

const policy: ChannelPolicy = {
  maxAttempts: 10,
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
  inDoubt: 'resend',
  maxReceiptWaitMs: null,
};

describe('computeRetryDelayMs', () => {
  it('doubles the delay per attempt', () => {
    const delays = [1, 2, 3, 4, 5].map((attempt) => computeRetryDelayMs(policy, attempt, 0));
    expect(delays).toEqual([500, 1_000, 2_000, 4_000, 8_000]);
  });

  it('caps the delay at backoffMaxMs', () => {
    expect(computeRetryDelayMs(policy, 7, 0)).toBe(30_000);
    expect(computeRetryDelayMs(policy, 8, 0)).toBe(30_000);
    expect(computeRetryDelayMs(policy, 5_000, 0)).toBe(30_000);
    expect(computeRetryDelayMs(policy, 8, 0.999_999)).toBeLessThan(60_000);
  });

  it('keeps jitter within half to full ceiling', () => {
    for (const attempt of [1, 3, 6, 9]) {
      const ceiling = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** (attempt - 1));
      const delays = new Set<number>();
      for (let i = 0; i < 100; i++) {
        const delay = computeRetryDelayMs(policy, attempt, i / 100);
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThan(ceiling);
        delays.add(delay);
      }
      expect(delays.size).toBeGreaterThan(50);
    }
  });

  it('uses retryAfterMs as a lower bound', () => {
    expect(computeRetryDelayMs(policy, 1, 0.5, 5_000)).toBe(5_000);
    expect(computeRetryDelayMs(policy, 1, 0.5, 120_000)).toBe(120_000);
    expect(computeRetryDelayMs(policy, 4, 0.5, 10)).toBe(6_000);
  });

  it('clamps random values outside [0, 1)', () => {
    expect(computeRetryDelayMs(policy, 1, -3)).toBe(500);
    expect(computeRetryDelayMs(policy, 1, Number.NaN)).toBe(500);
    expect(computeRetryDelayMs(policy, 1, 7)).toBeLessThan(1_000);
    expect(computeRetryDelayMs(policy, 1, 7)).toBeGreaterThanOrEqual(999);
  });
});
