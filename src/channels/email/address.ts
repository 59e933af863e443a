import { domainToASCII } from 'node:url';

export type NormalizedEmailAddress = { ok: true; address: string } | { ok: false; reason: string };

/** RFC 5321 section 4.5.3.1: local part, domain and whole path limits, in octets. */
export const MAX_LOCAL_PART_OCTETS = 64;
export const MAX_DOMAIN_OCTETS = 255;
/** The 256-octet forward path less its angle brackets. */
export const MAX_ADDRESS_OCTETS = 254;

/** Longer input is rejected before any parsing, so a huge string costs nothing. */
const MAX_INPUT_LENGTH = 1024;

/** RFC 5322 atext, the characters of a dot-atom other than the dot. */
const ASCII_ATEXT = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]$/;
/** Controls, format characters, unassigned code points and separators, ASCII space included. */
const FORBIDDEN_UNICODE = /[\p{C}\p{Z}]/u;
/** ASCII characters allowed in a domain before conversion: letters, digits, hyphen, dot. */
const ASCII_DOMAIN_CHAR = /^[A-Za-z0-9.-]$/;
/** One LDH label of an ASCII (or punycode) domain name. */
const DOMAIN_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Checks the syntax of an email address and returns it in the form the channel sends to.
 *
 * Surrounding whitespace is trimmed. The domain is lower-cased and an internationalised
 * domain is converted to punycode (`user@bücher.example` becomes `user@xn--bcher-kva.example`).
 * The local part keeps its case, because RFC 5321 leaves its meaning to the receiving host.
 *
 * A non-ASCII local part (`josé@example.com`) is accepted in Unicode NFC form. Sending to it
 * needs a relay that advertises SMTPUTF8 (RFC 6531): nodemailer then adds the SMTPUTF8
 * parameter to MAIL FROM.
 *
 * Quoted local parts (`"a b"@example.com`), address literals (`user@[192.0.2.1]`) and
 * single-label domains (`user@localhost`) are rejected, because public mail systems do not
 * deliver to them.
 */
export function normalizeEmailAddress(input: string): NormalizedEmailAddress {
  if (input.length > MAX_INPUT_LENGTH) {
    return { ok: false, reason: `is longer than ${MAX_ADDRESS_OCTETS} octets` };
  }
  const trimmed = input.trim();
  if (trimmed === '') {
    return { ok: false, reason: 'is empty' };
  }

  const at = trimmed.indexOf('@');
  if (at < 0) {
    return { ok: false, reason: 'is missing the @ between local part and domain' };
  }
  if (trimmed.indexOf('@', at + 1) >= 0) {
    return { ok: false, reason: 'contains more than one @ (quoted local parts are not supported)' };
  }

  const localPart = checkLocalPart(trimmed.slice(0, at).normalize('NFC'));
  if (!localPart.ok) {
    return { ok: false, reason: localPart.reason };
  }
  const domain = normalizeDomain(trimmed.slice(at + 1));
  if (!domain.ok) {
    return { ok: false, reason: domain.reason };
  }

  const address = `${localPart.value}@${domain.value}`;
  if (Buffer.byteLength(address, 'utf8') > MAX_ADDRESS_OCTETS) {
    return { ok: false, reason: `is longer than ${MAX_ADDRESS_OCTETS} octets` };
  }
  return { ok: true, address };
}

type Checked = { ok: true; value: string } | { ok: false; reason: string };

function checkLocalPart(localPart: string): Checked {
  if (localPart === '') {
    return { ok: false, reason: 'has an empty local part before the @' };
  }
  if (Buffer.byteLength(localPart, 'utf8') > MAX_LOCAL_PART_OCTETS) {
    return { ok: false, reason: `has a local part longer than ${MAX_LOCAL_PART_OCTETS} octets` };
  }
  if (localPart.startsWith('"')) {
    return { ok: false, reason: 'has a quoted local part, which is not supported' };
  }
  if (localPart.startsWith('.') || localPart.endsWith('.') || localPart.includes('..')) {
    return { ok: false, reason: 'has a local part that starts or ends with a dot or contains two dots in a row' };
  }

  for (const char of localPart) {
    if (char === '.') {
      continue;
    }
    const isAscii = char.codePointAt(0)! < 0x80;
    if (isAscii ? !ASCII_ATEXT.test(char) : FORBIDDEN_UNICODE.test(char)) {
      return { ok: false, reason: `has a local part containing the character ${describeChar(char)}, which is not allowed` };
    }
  }
  return { ok: true, value: localPart };
}

function normalizeDomain(domain: string): Checked {
  if (domain === '') {
    return { ok: false, reason: 'has an empty domain after the @' };
  }
  if (domain.startsWith('[')) {
    return { ok: false, reason: 'has an address literal as domain, which is not supported' };
  }
  // domainToASCII percent-decodes and drops anything after a '/', '?' or '#', so every
  // ASCII character is checked here first: 'ex%41.com' must not turn into 'exa.com'.
  for (const char of domain) {
    const isAscii = char.codePointAt(0)! < 0x80;
    if (isAscii ? !ASCII_DOMAIN_CHAR.test(char) : FORBIDDEN_UNICODE.test(char)) {
      return { ok: false, reason: `has a domain containing the character ${describeChar(char)}, which is not allowed` };
    }
  }

  // NOTE: domainToASCII applies WHATWG host parsing: it lower-cases, maps IDNA compatibility
  // characters, converts to punycode, and returns '' for a name it cannot convert.
  const ascii = domainToASCII(domain.toLowerCase());
  if (ascii === '') {
    return { ok: false, reason: 'has a domain that is not a valid (internationalised) domain name' };
  }
  if (ascii.length > MAX_DOMAIN_OCTETS) {
    return { ok: false, reason: `has a domain longer than ${MAX_DOMAIN_OCTETS} octets` };
  }

  const labels = ascii.split('.');
  if (labels.length < 2) {
    return { ok: false, reason: 'has a domain with a single label, but a domain like example.com is expected' };
  }
  for (const label of labels) {
    if (!DOMAIN_LABEL.test(label)) {
      return {
        ok: false,
        reason: `has an invalid domain label "${label}", but labels are 1 to 63 letters, digits or inner hyphens`,
      };
    }
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) {
    return { ok: false, reason: 'has a numeric top-level domain, and IP addresses are not supported' };
  }
  return { ok: true, value: ascii };
}

function describeChar(char: string): string {
  const hex = char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  return /[\x21-\x7e]/.test(char) ? `"${char}"` : `U+${hex}`;
}
