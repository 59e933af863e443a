/**
 * The GSM 03.38 (3GPP TS 23.038) default alphabet and its extension table, one septet per
 * octet. This module maps characters to septets and back. `encoding.ts` splits text into parts.
 */

/** Septet that announces a character of the extension table. */
export const GSM7_ESCAPE = 0x1b;

/** The basic table, indexed by septet. Index 0x1B is the escape and has no character. */
const BASIC_TABLE: readonly string[] = [
  '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
  'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '', 'Æ', 'æ', 'ß', 'É',
  ' ', '!', '"', '#', '¤', '%', '&', "'", '(', ')', '*', '+', ',', '-', '.', '/',
  '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
  '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
  'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
  '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
  'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
];

/** The extension table: the septet that follows the escape, for each character. */
const EXTENSION_TABLE: ReadonlyMap<string, number> = new Map([
  ['\f', 0x0a],
  ['^', 0x14],
  ['{', 0x28],
  ['}', 0x29],
  ['\\', 0x2f],
  ['[', 0x3c],
  ['~', 0x3d],
  [']', 0x3e],
  ['|', 0x40],
  ['€', 0x65],
]);

const BASIC_SEPTETS: ReadonlyMap<string, number> = new Map(
  BASIC_TABLE.flatMap((char, septet) => (septet === GSM7_ESCAPE ? [] : [[char, septet] as const])),
);

const EXTENSION_CHARS: ReadonlyMap<number, string> = new Map(
  [...EXTENSION_TABLE].map(([char, septet]) => [septet, char] as const),
);

/**
 * Returns the septets of one character: one for the basic table, the escape and one more for
 * the extension table, or null when GSM 03.38 has no such character.
 */
export function gsm7Septets(char: string): readonly number[] | null {
  const basic = BASIC_SEPTETS.get(char);
  if (basic !== undefined) {
    return [basic];
  }
  const extended = EXTENSION_TABLE.get(char);
  if (extended !== undefined) {
    return [GSM7_ESCAPE, extended];
  }
  return null;
}

/**
 * Decodes unpacked septets (one per octet) into text.
 *
 * An escape followed by a septet the extension table does not define decodes as the basic
 * character of that septet, and two escapes in a row decode as a space, as GSM 03.38
 * requires of receivers. An escape as the last septet decodes to nothing.
 *
 * @throws {RangeError} when an octet has its high bit set, since it cannot be a septet.
 */
export function decodeGsm7(septets: Uint8Array): string {
  let text = '';
  for (let index = 0; index < septets.length; index++) {
    const septet = octetAsSeptet(septets, index);
    if (septet !== GSM7_ESCAPE) {
      text += BASIC_TABLE[septet] ?? '';
      continue;
    }
    index++;
    if (index >= septets.length) {
      break;
    }
    const next = octetAsSeptet(septets, index);
    text += EXTENSION_CHARS.get(next) ?? (next === GSM7_ESCAPE ? ' ' : (BASIC_TABLE[next] ?? ''));
  }
  return text;
}

function octetAsSeptet(octets: Uint8Array, index: number): number {
  const octet = octets[index] ?? 0;
  if (octet > 0x7f) {
    const hex = octet.toString(16).toUpperCase().padStart(2, '0');
    throw new RangeError(
      `Octet 0x${hex} at offset ${index} is not a GSM 03.38 septet: unpacked GSM text uses only 0x00-0x7F.`,
    );
  }
  return octet;
}
