import type { Addresses } from '../channels/types.js';
import type { Profile, ProfileInput } from '../store/types.js';
import { normalizeAddress } from './addresses.js';
import { toDateTime } from './message-view.js';
import { escapePointerSegment, type FieldError } from './schema-errors.js';
import { PROFILE_LIMITS, type ProfileJson, type ProfilePatch, type ProfilePut } from './schemas/profile.js';

export type ProfileInputResult = { ok: true; input: ProfileInput } | { ok: false; errors: FieldError[] };

/**
 * Checks a profile body that matches its schema: addresses are normalised like those of a
 * send request, the time zone must be a known IANA zone, and properties are size-limited.
 * `null` values of a PATCH body are passed through, and the store removes those keys.
 */
export function checkProfileInput(body: ProfilePut | ProfilePatch, defaultRegion: string | null): ProfileInputResult {
  const errors: FieldError[] = [];
  const input: ProfileInput = {};

  if (body.addresses !== undefined) {
    const addresses: Record<string, string | null> = {};
    for (const [key, value] of Object.entries(body.addresses as Record<string, string | null>)) {
      if (value === null) {
        addresses[key] = null;
        continue;
      }
      const normalized = normalizeAddress(key, value, defaultRegion);
      if (normalized.ok) addresses[key] = normalized.value;
      else errors.push({ pointer: `/addresses/${escapePointerSegment(key)}`, detail: normalized.reason });
    }
    // NOTE: `Addresses` has no null values, but `patchProfile` reads a null as "remove this address".
    input.addresses = addresses as unknown as Addresses;
  }

  if (body.properties !== undefined) {
    const bytes = Buffer.byteLength(JSON.stringify(body.properties), 'utf8');
    if (bytes > PROFILE_LIMITS.propertiesBytes) {
      errors.push({ pointer: '/properties', detail: `is ${bytes} bytes as JSON, more than the maximum of ${PROFILE_LIMITS.propertiesBytes}` });
    }
    input.properties = body.properties;
  }

  if (body.optOuts !== undefined) input.optOuts = body.optOuts ?? [];

  if (body.timeZone !== undefined) {
    if (body.timeZone !== null && !isTimeZone(body.timeZone)) {
      errors.push({ pointer: '/timeZone', detail: `must be a known IANA time zone such as Europe/Berlin (got ${JSON.stringify(body.timeZone)})` });
    }
    input.timeZone = body.timeZone;
  }

  return errors.length > 0 ? { ok: false, errors } : { ok: true, input };
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export function toProfileJson(profile: Profile): ProfileJson {
  const addresses: Record<string, string> = {};
  for (const [key, value] of Object.entries(profile.addresses)) {
    if (value !== undefined) addresses[key] = value;
  }
  return {
    profileId: profile.profileId,
    addresses,
    properties: profile.properties,
    optOuts: profile.optOuts,
    timeZone: profile.timeZone,
    createdAt: toDateTime(profile.createdAt),
    updatedAt: toDateTime(profile.updatedAt),
  };
}
