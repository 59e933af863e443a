/** The `source_addr` of a `submit_sm` with its type of number (TON) and numbering plan (NPI). */
export type SourceAddress =
  | { ok: true; address: string; ton: number; npi: number }
  | { ok: false; reason: string };

const TON_INTERNATIONAL = 1;
const TON_NETWORK_SPECIFIC = 3;
const TON_ALPHANUMERIC = 5;
const NPI_UNKNOWN = 0;
const NPI_E164 = 1;

/** GSM 03.40 carries an alphanumeric originator of at most 11 characters. */
const MAX_ALPHANUMERIC_LENGTH = 11;
/** Digit strings shorter than this, without a `+`, are treated as short codes. */
const MIN_INTERNATIONAL_DIGITS = 10;

/**
 * Chooses TON and NPI for a sender.
 *
 * - `+` and up to 15 digits, or 10 to 15 digits: an international number (TON 1, NPI 1), sent
 *   without the `+`.
 * - Fewer than 10 digits: a short code (TON 3, NPI 0).
 * - Anything else: an alphanumeric sender (TON 5, NPI 0) of at most 11 printable ASCII characters.
 *
 * NOTE: SMSCs differ in the TON/NPI they expect for short codes; TON 3 with NPI 0 is common
 * but some require TON 0 or NPI 1.
 */
export function resolveSourceAddress(from: string): SourceAddress {
  const trimmed = from.trim();
  const international = /^\+(\d{1,15})$/.exec(trimmed);
  if (international?.[1] !== undefined) {
    return { ok: true, address: international[1], ton: TON_INTERNATIONAL, npi: NPI_E164 };
  }
  if (/^\d+$/.test(trimmed)) {
    if (trimmed.length > 15) {
      return { ok: false, reason: `Sender "${trimmed}" has ${trimmed.length} digits; a phone number has at most 15.` };
    }
    return trimmed.length >= MIN_INTERNATIONAL_DIGITS
      ? { ok: true, address: trimmed, ton: TON_INTERNATIONAL, npi: NPI_E164 }
      : { ok: true, address: trimmed, ton: TON_NETWORK_SPECIFIC, npi: NPI_UNKNOWN };
  }
  if (trimmed === '' || trimmed.length > MAX_ALPHANUMERIC_LENGTH || !/^[\x20-\x7e]+$/.test(trimmed)) {
    return {
      ok: false,
      reason:
        `Sender "${trimmed}" is invalid: use 1 to ${MAX_ALPHANUMERIC_LENGTH} printable ASCII characters, ` +
        'a short code, or an international number.',
    };
  }
  return { ok: true, address: trimmed, ton: TON_ALPHANUMERIC, npi: NPI_UNKNOWN };
}
