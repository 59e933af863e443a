import type { ChannelPolicy } from './types.js';

/**
 * Computes the delay in milliseconds before the attempt after `failedAttempt` (1-based).
 *
 * The ceiling doubles with each attempt: `min(backoffMaxMs, backoffBaseMs * 2^(failedAttempt - 1))`.
 * The delay is the ceiling scaled by a jitter factor `0.5 + 0.5 * random`, so it lies in
 * [ceiling / 2, ceiling) and retries of many messages that failed together spread out.
 * A `retryAfterMs` sent by the provider is a lower bound, even where it exceeds `backoffMaxMs`.
 *
 * @param random uniform in [0, 1); values outside are clamped into that range.
 */
export function computeRetryDelayMs(
  policy: ChannelPolicy,
  failedAttempt: number,
  random: number,
  retryAfterMs?: number,
): number {
  const exponent = Math.max(0, Math.floor(failedAttempt) - 1);
  // 2 ** exponent becomes Infinity for very large exponents, which Math.min caps.
  const ceiling = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** exponent);
  const jitter = 0.5 + 0.5 * clampUnit(random);
  const delay = Math.floor(ceiling * jitter);

  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs > delay) {
    return Math.ceil(retryAfterMs);
  }
  return delay;
}

function clampUnit(value: number): number {
  if (!Number.isFinite(value) || value < 0) return 0;
  if (value >= 1) return 1 - Number.EPSILON;
  return value;
}
