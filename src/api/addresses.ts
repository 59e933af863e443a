import { normalizeEmailAddress } from '../channels/email/address.js';
import { normalizePhoneNumber } from '../channels/sms/phone.js';
import type { Addresses } from '../channels/types.js';
import { escapePointerSegment, type FieldError } from './schema-errors.js';

/**
 * Normalises the address fields of a send request's `to` or a profile's `addresses`:
 * `phoneNumber` to E.164, `email` to its canonical form. Other keys are kept as given.
 * Every invalid field is reported under `basePointer` (for example `/to`).
 */
export function normalizeAddresses(
  input: Record<string, string>,
  basePointer: string,
  defaultRegion: string | null,
): { addresses: Addresses; errors: FieldError[] } {
  const addresses: Addresses = {};
  const errors: FieldError[] = [];

  for (const [key, value] of Object.entries(input)) {
    const pointer = `${basePointer}/${escapePointerSegment(key)}`;
    const normalized = normalizeAddress(key, value, defaultRegion);
    if (normalized.ok) addresses[key] = normalized.value;
    else errors.push({ pointer, detail: normalized.reason });
  }
  return { addresses, errors };
}

/** Normalises one address field; keys other than `phoneNumber` and `email` pass through. */
export function normalizeAddress(
  key: string,
  value: string,
  defaultRegion: string | null,
): { ok: true; value: string } | { ok: false; reason: string } {
  if (key === 'phoneNumber') {
    const phone = normalizePhoneNumber(value, defaultRegion);
    return phone.ok ? { ok: true, value: phone.e164 } : phone;
  }
  if (key === 'email') {
    const email = normalizeEmailAddress(value);
    return email.ok ? { ok: true, value: email.address } : { ok: false, reason: `The email address ${email.reason}.` };
  }
  return { ok: true, value };
}
