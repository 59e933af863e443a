/**
 * Longest page-scoped id accepted, in characters. Meta's PSIDs are decimal strings of about
 * 16 digits; the bound matches the API's limit on any address and keeps room for test ids.
 */
export const MAX_PSID_LENGTH = 256;

/** Whitespace, controls, format characters and unassigned code points. */
const FORBIDDEN = /[\s\p{C}]/u;

/**
 * Returns the trimmed page-scoped id (PSID), or null when it is empty, longer than
 * `MAX_PSID_LENGTH`, or contains whitespace or control characters. The form of the id is
 * not checked further, so the sandbox's test ids such as `psid-delivered` pass.
 */
export function normalizePsid(input: string | undefined): string | null {
  if (input === undefined) {
    return null;
  }
  const psid = input.trim();
  if (psid === '' || psid.length > MAX_PSID_LENGTH || FORBIDDEN.test(psid)) {
    return null;
  }
  return psid;
}
