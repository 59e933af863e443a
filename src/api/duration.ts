/**
 * ISO 8601 durations as used by `fallbackAfter`: days, hours, minutes and seconds only.
 * Years and months have no fixed length, so they are rejected rather than guessed.
 */

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** Longest `fallbackAfter` a rule may set. */
export const MAX_FALLBACK_AFTER_MS = 30 * DAY_MS;

const DURATION_PATTERN =
  /^P(?:(?<weeks>\d+)W|(?:(?<days>\d+)D)?(?:T(?:(?<hours>\d+)H)?(?:(?<minutes>\d+)M)?(?:(?<seconds>\d+(?:[.,]\d{1,3})?)S)?)?)$/;

export type DurationResult = { ok: true; ms: number } | { ok: false; reason: string };

/**
 * Parses a duration such as `PT10M`, `PT1H30M`, `P1D`, `P1DT12H` or `P2W` into milliseconds.
 * Seconds may carry up to three decimals (`PT1.5S`).
 */
export function parseDuration(input: string): DurationResult {
  const match = DURATION_PATTERN.exec(input);
  const groups = match?.groups;
  if (!groups || input === 'P' || input.endsWith('T')) {
    const datePart = input.split('T')[0] ?? '';
    if (input.startsWith('-')) {
      return { ok: false, reason: 'must not be negative' };
    }
    if (datePart.startsWith('P') && /[YM]/.test(datePart)) {
      return { ok: false, reason: 'must not use years or months because their length varies, so use days such as P30D' };
    }
    return { ok: false, reason: 'must be an ISO 8601 duration such as PT10M, PT1H30M or P1D' };
  }

  const ms =
    Number(groups.weeks ?? 0) * 7 * DAY_MS +
    Number(groups.days ?? 0) * DAY_MS +
    Number(groups.hours ?? 0) * HOUR_MS +
    Number(groups.minutes ?? 0) * MINUTE_MS +
    Math.round(Number((groups.seconds ?? '0').replace(',', '.')) * SECOND_MS);
  return { ok: true, ms };
}

/** Formats milliseconds as the shortest ISO 8601 duration with days, hours, minutes and seconds. */
export function formatDuration(ms: number): string {
  let rest = Math.max(0, Math.round(ms));
  const days = Math.floor(rest / DAY_MS);
  rest -= days * DAY_MS;
  const hours = Math.floor(rest / HOUR_MS);
  rest -= hours * HOUR_MS;
  const minutes = Math.floor(rest / MINUTE_MS);
  rest -= minutes * MINUTE_MS;
  const seconds = rest / SECOND_MS;

  let time = '';
  if (hours > 0) time += `${hours}H`;
  if (minutes > 0) time += `${minutes}M`;
  if (seconds > 0) time += `${seconds}S`;

  if (days === 0 && time === '') return 'PT0S';
  return `P${days > 0 ? `${days}D` : ''}${time === '' ? '' : `T${time}`}`;
}
