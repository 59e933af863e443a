import {
  isSupportedCountry,
  parsePhoneNumberFromString,
  validatePhoneNumberLength,
  type CountryCode,
  type PhoneNumber,
} from 'libphonenumber-js/max';

/** Phone numbers in E.164 (`+` and up to 15 digits), validated with libphonenumber-js full metadata. */

export type PhoneNumberResult = { ok: true; e164: string } | { ok: false; reason: string };

/** Characters a caller may use to format a number, besides digits and a leading `+`. */
const FORMATTING = /[\s\-.()/]/g;
const MAX_INPUT_LENGTH = 64;
const EXAMPLE = 'such as +12025550123';

/**
 * Normalizes a phone number to E.164.
 *
 * International numbers may start with `+`, `00` or nothing: digits without a prefix are read
 * as international first, and as a national number of `defaultRegion` only when that fails.
 * National numbers without `defaultRegion` are rejected. A trunk `0` written after the country
 * code (`+44 (0)20 7946 0018`) is dropped when the number is only valid without it.
 *
 * NOTE: digits without `+` that form a valid international number are read as international
 * even when `defaultRegion` is set, so a national number that happens to match another
 * country's numbering plan is taken as that country's.
 *
 * @example
 * normalizePhoneNumber('+44 (0)20 7946 0018'); // { ok: true, e164: '+442079460018' }
 * normalizePhoneNumber('020 7946 0018', 'GB'); // { ok: true, e164: '+442079460018' }
 */
export function normalizePhoneNumber(input: string, defaultRegion?: string | null): PhoneNumberResult {
  const trimmed = input.trim();
  if (trimmed === '') {
    return reject(`The phone number is empty. Give it in international format, ${EXAMPLE}.`);
  }
  if (trimmed.length > MAX_INPUT_LENGTH) {
    return reject(
      `The phone number is longer than ${MAX_INPUT_LENGTH} characters. Give only the number, in international format, ${EXAMPLE}.`,
    );
  }
  const hasPlus = trimmed.startsWith('+');
  const body = hasPlus ? trimmed.slice(1) : trimmed;
  if (/[^0-9]/.test(body.replace(FORMATTING, ''))) {
    return reject(
      'The phone number contains characters other than digits, spaces and the separators - . ( ) /, ' +
        `or a + that is not at its start. Give only the number, ${EXAMPLE}.`,
    );
  }
  const digits = body.replace(FORMATTING, '');
  if (digits === '') {
    return reject(`The phone number has no digits. Give it in international format, ${EXAMPLE}.`);
  }

  if (hasPlus) {
    return parseInternational(digits);
  }
  if (digits.startsWith('00')) {
    return parseInternational(digits.slice(2));
  }
  const international = parseInternational(digits);
  if (international.ok) {
    return international;
  }
  return parseNational(digits, defaultRegion);
}

function parseInternational(digits: string): PhoneNumberResult {
  const parsed = parsePhoneNumberFromString(`+${digits}`);
  if (parsed?.isValid()) {
    return accept(parsed);
  }
  if (parsed !== undefined && parsed.nationalNumber.startsWith('0')) {
    const withoutTrunkZero = parsePhoneNumberFromString(`+${parsed.countryCallingCode}${parsed.nationalNumber.slice(1)}`);
    if (withoutTrunkZero?.isValid()) {
      return accept(withoutTrunkZero);
    }
  }
  return reject(describeInvalid(`+${digits}`, undefined, parsed));
}

function parseNational(digits: string, defaultRegion: string | null | undefined): PhoneNumberResult {
  const region = defaultRegion?.trim().toUpperCase() ?? '';
  if (region === '') {
    const hint = digits.startsWith('0') ? ' It looks like a national number because it starts with 0.' : '';
    return reject(
      `The phone number is not valid in international format.${hint} Give it with its country code, ` +
        `${EXAMPLE}, or set DEFAULT_REGION to the country whose national numbers you send.`,
    );
  }
  if (!isSupportedCountry(region)) {
    return reject(
      `The default region "${region}" is not a supported ISO 3166-1 alpha-2 country code. ` +
        `Set DEFAULT_REGION to one such as US or GB, or give the number in international format, ${EXAMPLE}.`,
    );
  }
  const parsed = parsePhoneNumberFromString(digits, region);
  if (parsed?.isValid()) {
    return accept(parsed);
  }
  return reject(describeInvalid(digits, region, parsed));
}

/** Builds the reason for a number that libphonenumber-js does not accept as valid. */
function describeInvalid(text: string, region: CountryCode | undefined, parsed: PhoneNumber | undefined): string {
  const lengthProblem = validatePhoneNumberLength(text, region);
  if (region !== undefined) {
    const detail =
      lengthProblem === 'TOO_SHORT'
        ? ` (it is too short for ${region})`
        : lengthProblem === 'TOO_LONG'
          ? ` (it is too long for ${region})`
          : '';
    return (
      `The phone number is valid neither as an international number nor as a national number of ${region}${detail}. ` +
      `Check the digits, or give it in international format, ${EXAMPLE}.`
    );
  }
  if (lengthProblem === 'INVALID_COUNTRY' || parsed === undefined) {
    return `The phone number does not start with a known country calling code. Give it in international format, ${EXAMPLE}.`;
  }
  const country = `country calling code +${parsed.countryCallingCode}${parsed.country ? ` (${parsed.country})` : ''}`;
  switch (lengthProblem) {
    case 'TOO_SHORT':
      return `The phone number is too short for ${country}. Check that no digit is missing.`;
    case 'TOO_LONG':
      return `The phone number is too long for ${country}. Check for extra digits.`;
    default:
      return `The phone number is not a valid number for ${country}. Check the digits and the country code.`;
  }
}

function accept(parsed: PhoneNumber): PhoneNumberResult {
  return { ok: true, e164: parsed.number };
}

function reject(reason: string): PhoneNumberResult {
  return { ok: false, reason };
}
