/** When failed tries of a delivery are repeated, and how many tries it gets. */
export interface RetrySchedule {
  /** Delay after the first failed try. Each later failure doubles it. */
  initialDelayMs: number;
  /** Upper bound of the delay before jitter. */
  maxDelayMs: number;
  /** Tries in all, the first included; the delivery is dead after the last one fails. */
  maxAttempts: number;
  /** Random extra delay as a fraction of the delay: 0.25 adds up to 25%. Jitter only lengthens delays. */
  jitter: number;
}

/**
 * 5 s doubling up to 6 h, 17 tries: without jitter the last try comes about 29.4 hours after
 * the first, so a receiver that is down for a day still gets every event.
 */
export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = {
  initialDelayMs: 5_000,
  maxDelayMs: 6 * 60 * 60 * 1000,
  maxAttempts: 17,
  jitter: 0.25,
};

/** Delay before the next try after `failedAttempts` tries failed; `random` is in [0, 1). */
export function retryDelayMs(schedule: RetrySchedule, failedAttempts: number, random: number): number {
  const exponent = Math.max(0, failedAttempts - 1);
  // 2 ** 60 ms is far above any useful cap, and keeps the product finite.
  const base = Math.min(schedule.maxDelayMs, schedule.initialDelayMs * 2 ** Math.min(exponent, 60));
  return Math.round(base * (1 + schedule.jitter * random));
}

/** Returns the shortest time from the first try to the last one, when every try fails at once. */
export function minimumRetrySpanMs(schedule: RetrySchedule): number {
  let total = 0;
  for (let failed = 1; failed < schedule.maxAttempts; failed++) total += retryDelayMs(schedule, failed, 0);
  return total;
}

/** Longest `Retry-After` honoured, so that a receiver cannot park a delivery for days. */
const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * Parse a `Retry-After` header (RFC 9110: seconds, or an HTTP date) into milliseconds from
 * `now`; null when absent or unreadable.
 */
export function parseRetryAfterMs(header: string | undefined, now: number): number | null {
  if (header === undefined) return null;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Math.min(MAX_RETRY_AFTER_MS, Number(value) * 1000);
  const at = Date.parse(value);
  if (Number.isNaN(at)) return null;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, at - now));
}
