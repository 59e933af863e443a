import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/api/duration.js';

describe('parseDuration', () => {
  it.each([
    ['PT10M', 600_000],
    ['PT1H30M', 5_400_000],
    ['PT45S', 45_000],
    ['PT1.5S', 1_500],
    ['PT0,25S', 250],
    ['P1D', 86_400_000],
    ['P1DT12H', 129_600_000],
    ['P2W', 1_209_600_000],
    ['PT0S', 0],
  ])('reads %s', (input, ms) => {
    expect(parseDuration(input)).toEqual({ ok: true, ms });
  });

  it.each([
    ['10m', 'ISO 8601'],
    ['P', 'ISO 8601'],
    ['PT', 'ISO 8601'],
    ['P1DT', 'ISO 8601'],
    ['PT1.2345S', 'ISO 8601'],
    ['P1W2D', 'ISO 8601'],
    ['-PT10M', 'negative'],
    ['P1M', 'years or months'],
    ['P1Y', 'years or months'],
  ])('rejects %s', (input, reasonPart) => {
    const result = parseDuration(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reasonPart);
  });

  it('reads PT1M as one minute, not a month', () => {
    expect(parseDuration('PT1M')).toEqual({ ok: true, ms: 60_000 });
  });
});

describe('formatDuration', () => {
  it.each([
    [600_000, 'PT10M'],
    [5_400_000, 'PT1H30M'],
    [86_400_000, 'P1D'],
    [129_600_000, 'P1DT12H'],
    [1_500, 'PT1.5S'],
    [0, 'PT0S'],
  ])('writes %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('round-trips through parseDuration', () => {
    for (const ms of [1_000, 61_000, 3_723_000, 30 * 86_400_000]) {
      const parsed = parseDuration(formatDuration(ms));
      expect(parsed).toEqual({ ok: true, ms });
    }
  });
});
