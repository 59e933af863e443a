import { describe, expect, it } from 'vitest';
import { normalizePhoneNumber } from '../src/channels/sms/phone.js';

function reasonOf(input: string, region?: string | null): string {
  const result = normalizePhoneNumber(input, region);
  if (result.ok) {
    throw new Error(`expected ${input} to be rejected, got ${result.e164}`);
  }
  return result.reason;
}

describe('normalizePhoneNumber accepts', () => {
  it.each([
    ['+12025550101', undefined, '+12025550101'],
    ['+12025550104', undefined, '+12025550104'],
    ['12025550101', undefined, '+12025550101'],
    ['+1 (202) 555-0101', undefined, '+12025550101'],
    ['  +1 202.555.0101  ', undefined, '+12025550101'],
    ['0012025550101', undefined, '+12025550101'],
    ['00 44 20 7946 0018', undefined, '+442079460018'],
    ['+44 20 7946 0018', undefined, '+442079460018'],
    ['+49 30 12345678', null, '+493012345678'],
    ['+39 06 1234 5678', undefined, '+390612345678'],
  ] as const)('%s', (input, region, e164) => {
    expect(normalizePhoneNumber(input, region)).toEqual({ ok: true, e164 });
  });
});

describe('normalizePhoneNumber trunk zero', () => {
  it.each([
    ['+44 (0)20 7946 0018', '+442079460018'],
    ['+440207946 0018', '+442079460018'],
    ['0044 (0)20 7946 0018', '+442079460018'],
    ['440207946 0018', '+442079460018'],
    ['+49 (0)30 12345678', '+493012345678'],
    ['+34 (0)612 345 678', '+34612345678'],
    ['+45 0 32 12 34 56', '+4532123456'],
  ] as const)('drops it from %s', (input, e164) => {
    expect(normalizePhoneNumber(input)).toEqual({ ok: true, e164 });
  });
});

describe('normalizePhoneNumber national numbers', () => {
  it('reads them with a default region', () => {
    expect(normalizePhoneNumber('020 7946 0018', 'GB')).toEqual({ ok: true, e164: '+442079460018' });
    expect(normalizePhoneNumber('(202) 555-0101', 'US')).toEqual({ ok: true, e164: '+12025550101' });
    expect(normalizePhoneNumber('030 12345678', 'de')).toEqual({ ok: true, e164: '+493012345678' });
  });

  it('prefers the international reading', () => {
    expect(normalizePhoneNumber('442079460018', 'US')).toEqual({ ok: true, e164: '+442079460018' });
  });

  it('rejects them without a default region', () => {
    const reason = reasonOf('020 7946 0018');

    expect(reason).toMatch(/international format/);
    expect(reason).toMatch(/DEFAULT_REGION/);
    expect(reason).toMatch(/starts with 0/);
    expect(reasonOf('2025550101', null)).toMatch(/DEFAULT_REGION/);
    expect(reasonOf('2025550101', '  ')).toMatch(/DEFAULT_REGION/);
  });

  it('rejects an unsupported default region', () => {
    expect(reasonOf('020 7946 0018', 'XX')).toMatch(/"XX" is not a supported ISO 3166-1 alpha-2 country code/);
  });

  it('rejects a number invalid in the region', () => {
    expect(reasonOf('12 34', 'US')).toMatch(/valid neither as an international number nor as a national number of US.*too short/);
    expect(reasonOf('1234567890123456789', 'GB')).toMatch(/national number of GB.*too long/);
  });
});

describe('normalizePhoneNumber rejects', () => {
  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['+', /no digits/],
    ['+ ( ) -', /no digits/],
    ['1-800-FLOWERS', /characters other than digits/],
    ['+1 202 555 0101 ext. 5', /characters other than digits/],
    ['1+2025550101', /\+ that is not at its start/],
    ['+999 1234 5678', /known country calling code/],
    ['+1202555010', /too short for country calling code \+1/],
    ['+120255501011', /too long for country calling code \+1/],
    ['+1 202 123 4567', /not a valid number for country calling code \+1/],
    ['+44 20 7946 001', /not a valid number for country calling code \+44/],
    [`+1${'2'.repeat(80)}`, /longer than 64 characters/],
  ] as const)('%j', (input, reason) => {
    expect(reasonOf(input)).toMatch(reason);
  });
});
