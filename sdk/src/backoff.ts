/** Bounds of the delay between reconnection attempts, in milliseconds. */
export interface ReconnectOptions {
  minMs: number;
  maxMs: number;
}

export const DEFAULT_RECONNECT: ReconnectOptions = { minMs: 500, maxMs: 30_000 };

/**
 * Returns the delay before reconnection attempt `attempt` (0 for the first retry after a
 * drop). The ceiling doubles with each attempt, `min(maxMs, minMs * 2^(attempt + 1))`, and the
 * delay is drawn uniformly from the upper half of it, but never below `minMs`. The jitter keeps
 * many clients that lost the same server from reconnecting in step.
 */
export function reconnectDelay(attempt: number, options: ReconnectOptions, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt, 0) + 1, 30);
  const ceiling = Math.min(options.maxMs, options.minMs * 2 ** exponent);
  const delay = ceiling / 2 + random() * (ceiling / 2);
  return Math.round(Math.max(options.minMs, delay));
}

/** Throws a `RangeError` naming the option unless `minMs` and `maxMs` are usable bounds. */
export function validateReconnectOptions(options: ReconnectOptions): void {
  if (!Number.isFinite(options.minMs) || options.minMs <= 0) {
    throw new RangeError(`reconnect.minMs must be a positive number of milliseconds; received ${String(options.minMs)}.`);
  }
  if (!Number.isFinite(options.maxMs) || options.maxMs < options.minMs) {
    throw new RangeError(`reconnect.maxMs must be a number of milliseconds at least reconnect.minMs (${options.minMs}); received ${String(options.maxMs)}.`);
  }
}
