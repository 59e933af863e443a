import { decodeGsm7, gsm7Septets } from './gsm7.js';
import type { EncodedPart, EncodedSms } from './types.js';

/**
 * SMS text encoding for `submit_sm`: GSM 03.38 septets (unpacked, one per octet) when every
 * character has one, UCS-2 otherwise, and concatenation by a user data header (UDH) when the
 * text does not fit one message.
 */

export type SmsEncoding = EncodedSms['encoding'];

export interface EncodeSmsOptions {
  /**
   * When false, every character outside GSM 03.38 is sent as '?' (one '?' per code point, so
   * an emoji becomes one '?'), and the text always goes as GSM 03.38.
   */
  allowUnicode: boolean;
  /** Concatenation reference shared by the parts of one text. Only its low 8 bits are sent. */
  reference: number;
}

export interface ConcatInfo {
  reference: number;
  total: number;
  /** 1-based position of this part. */
  sequence: number;
}

export interface DecodedSms {
  text: string;
  /** The concatenation header of the part, or null for a text sent whole. */
  concat: ConcatInfo | null;
}

export interface SmsCount {
  encoding: SmsEncoding;
  units: number;
  parts: number;
}

/** Raised for text that cannot be sent as SMS, and for PDUs whose text cannot be decoded. */
export class SmsEncodingError extends Error {
  override name = 'SmsEncodingError';
}

export const DATA_CODING_GSM7 = 0x00;
export const DATA_CODING_IA5 = 0x01;
export const DATA_CODING_LATIN1 = 0x03;
export const DATA_CODING_UCS2 = 0x08;
/** esm_class bit that marks a `short_message` starting with a user data header (UDHI). */
export const ESM_CLASS_UDHI = 0x40;

/** Septets or UTF-16 code units: per message sent whole, and per part of a split text. */
const LIMITS: Record<SmsEncoding, { single: number; part: number }> = {
  gsm7: { single: 160, part: 153 },
  ucs2: { single: 70, part: 67 },
};

/** The 8-bit reference concatenation header counts parts in one octet. */
const MAX_PARTS = 255;

const IEI_CONCAT_8BIT = 0x00;
const IEI_CONCAT_16BIT = 0x08;

/** Septets (GSM 03.38) or UTF-16 code units (UCS-2) of one character, which a split keeps together. */
type Atom = readonly number[];

const QUESTION_MARK: Atom = [0x3f];

/**
 * Encodes text into the parts of one SMS: GSM 03.38 when every character is in its basic or
 * extension table, else UCS-2 when `allowUnicode` is set, else GSM 03.38 with '?' for each
 * character it lacks. A text over 160 septets or 70 UTF-16 units is split into parts of at
 * most 153 septets or 67 units, each behind a 6-octet concatenation header. A part ends early
 * rather than separate an escape from its extension character or a surrogate pair.
 *
 * @example
 * const sms = encodeSms('Parcel today 10-12', { allowUnicode: true, reference: 7 });
 * // sms.encoding === 'gsm7', sms.parts.length === 1, sms.parts[0].dataCoding === 0x00
 *
 * @throws {SmsEncodingError} when the text needs more than 255 parts.
 */
export function encodeSms(text: string, options: EncodeSmsOptions): EncodedSms {
  const { encoding, atoms } = toAtoms(text, options.allowUnicode);
  const chunks = splitAtoms(atoms, LIMITS[encoding]);
  const units = countUnits(atoms);
  if (chunks.length > MAX_PARTS) {
    throw tooManyPartsError(encoding, units, chunks.length);
  }

  const dataCoding = encoding === 'gsm7' ? DATA_CODING_GSM7 : DATA_CODING_UCS2;
  const reference = options.reference & 0xff;
  const parts = chunks.map((chunk, index): EncodedPart => {
    const payload = encoding === 'gsm7' ? Buffer.from(chunk) : encodeUtf16be(chunk);
    if (chunks.length === 1) {
      return { shortMessage: payload, dataCoding, esmClass: 0x00 };
    }
    const header = Buffer.from([0x05, IEI_CONCAT_8BIT, 0x03, reference, chunks.length, index + 1]);
    return { shortMessage: Buffer.concat([header, payload]), dataCoding, esmClass: ESM_CLASS_UDHI };
  });
  return { encoding, parts, units };
}

/**
 * Counts the encoding, units and parts `encodeSms` would produce for the text, by the same
 * rules. A text that would need more than 255 parts is counted, not rejected.
 */
export function countSms(text: string, allowUnicode: boolean): SmsCount {
  const { encoding, atoms } = toAtoms(text, allowUnicode);
  return { encoding, units: countUnits(atoms), parts: splitAtoms(atoms, LIMITS[encoding]).length };
}

/**
 * Decodes the `short_message` of one PDU, and reads its concatenation header when `esmClass`
 * has the UDHI bit. Both the 8-bit (IEI 0x00) and 16-bit (IEI 0x08) reference headers are read.
 * A concatenation header with a zero total, a zero sequence or a sequence past the total is
 * ignored, as GSM 03.40 requires of receivers.
 *
 * Supported data_coding values: 0x00 (GSM 03.38, unpacked), 0x01 (IA5, read as ASCII), 0x03
 * (Latin-1), 0x08 (UCS-2, read as UTF-16BE), and 0xF0-0xF3 (GSM 03.38 with a message class).
 *
 * @throws {SmsEncodingError} for an unsupported data_coding, a header longer than the
 *   message, UCS-2 data of odd length, or GSM data with an octet above 0x7F.
 */
export function decodeSms(shortMessage: Buffer, dataCoding: number, esmClass: number): DecodedSms {
  let payload = shortMessage;
  let concat: ConcatInfo | null = null;
  if ((esmClass & ESM_CLASS_UDHI) !== 0) {
    const headerLength = shortMessage[0];
    if (headerLength === undefined || shortMessage.length < headerLength + 1) {
      throw new SmsEncodingError(
        `User data header length ${headerLength ?? 'missing'} does not fit a short_message of ${shortMessage.length} octets.`,
      );
    }
    concat = readConcatHeader(shortMessage.subarray(1, headerLength + 1));
    payload = shortMessage.subarray(headerLength + 1);
  }
  return { text: decodePayload(payload, dataCoding), concat };
}

function toAtoms(text: string, allowUnicode: boolean): { encoding: SmsEncoding; atoms: Atom[] } {
  const gsmAtoms: Atom[] = [];
  let allGsm = true;
  for (const char of text) {
    const septets = gsm7Septets(char);
    if (septets === null) {
      allGsm = false;
      if (allowUnicode) {
        break;
      }
      gsmAtoms.push(QUESTION_MARK);
    } else {
      gsmAtoms.push(septets);
    }
  }
  if (allGsm || !allowUnicode) {
    return { encoding: 'gsm7', atoms: gsmAtoms };
  }

  // Iterating a string yields code points, so a surrogate pair stays one atom of two units,
  // and a lone surrogate is one atom of one unit.
  const ucs2Atoms: Atom[] = [];
  for (const char of text) {
    ucs2Atoms.push(char.length === 1 ? [char.charCodeAt(0)] : [char.charCodeAt(0), char.charCodeAt(1)]);
  }
  return { encoding: 'ucs2', atoms: ucs2Atoms };
}

function countUnits(atoms: readonly Atom[]): number {
  let units = 0;
  for (const atom of atoms) {
    units += atom.length;
  }
  return units;
}

/** Splits atoms into parts of units. An empty text is one empty part. */
function splitAtoms(atoms: readonly Atom[], limits: { single: number; part: number }): number[][] {
  if (countUnits(atoms) <= limits.single) {
    return [atoms.flat()];
  }
  const chunks: number[][] = [];
  let current: number[] = [];
  for (const atom of atoms) {
    if (current.length + atom.length > limits.part) {
      chunks.push(current);
      current = [];
    }
    current.push(...atom);
  }
  chunks.push(current);
  return chunks;
}

function encodeUtf16be(codeUnits: readonly number[]): Buffer {
  const buffer = Buffer.alloc(codeUnits.length * 2);
  codeUnits.forEach((unit, index) => buffer.writeUInt16BE(unit, index * 2));
  return buffer;
}

function tooManyPartsError(encoding: SmsEncoding, units: number, parts: number): SmsEncodingError {
  const maxUnits = LIMITS[encoding].part * MAX_PARTS;
  const unitName = encoding === 'gsm7' ? 'GSM 03.38 septets' : 'UTF-16 code units';
  return new SmsEncodingError(
    `Text of ${units} ${unitName} needs ${parts} SMS parts, but a concatenated SMS has at most ${MAX_PARTS}. ` +
      `Shorten it to at most ${maxUnits} ${unitName}.`,
  );
}

/** Reads the concatenation element of a user data header (without its length octet). */
function readConcatHeader(header: Buffer): ConcatInfo | null {
  let offset = 0;
  let concat: ConcatInfo | null = null;
  while (offset + 2 <= header.length) {
    const identifier = header[offset] ?? 0;
    const length = header[offset + 1] ?? 0;
    const data = header.subarray(offset + 2, offset + 2 + length);
    if (data.length < length) {
      throw new SmsEncodingError(
        `User data header element 0x${hex(identifier)} declares ${length} octets but only ${data.length} remain.`,
      );
    }
    if (identifier === IEI_CONCAT_8BIT && length === 3) {
      concat = validConcat(data.readUInt8(0), data.readUInt8(1), data.readUInt8(2));
    } else if (identifier === IEI_CONCAT_16BIT && length === 4) {
      concat = validConcat(data.readUInt16BE(0), data.readUInt8(2), data.readUInt8(3));
    }
    offset += 2 + length;
  }
  return concat;
}

function validConcat(reference: number, total: number, sequence: number): ConcatInfo | null {
  if (total === 0 || sequence === 0 || sequence > total) {
    return null;
  }
  return { reference, total, sequence };
}

function decodePayload(payload: Buffer, dataCoding: number): string {
  if (dataCoding === DATA_CODING_GSM7 || (dataCoding >= 0xf0 && dataCoding <= 0xf3)) {
    try {
      return decodeGsm7(payload);
    } catch (error) {
      throw new SmsEncodingError(error instanceof Error ? error.message : String(error), { cause: error });
    }
  }
  switch (dataCoding) {
    case DATA_CODING_IA5:
      return payload.toString('ascii');
    case DATA_CODING_LATIN1:
      return payload.toString('latin1');
    case DATA_CODING_UCS2:
      return decodeUtf16be(payload);
    default:
      throw new SmsEncodingError(
        `data_coding 0x${hex(dataCoding)} is not supported. Use 0x00 (GSM 03.38), 0x01 (IA5), 0x03 (Latin-1) or 0x08 (UCS-2).`,
      );
  }
}

function decodeUtf16be(payload: Buffer): string {
  if (payload.length % 2 !== 0) {
    throw new SmsEncodingError(`UCS-2 text has an odd length of ${payload.length} octets, but each UCS-2 character takes two.`);
  }
  let text = '';
  for (let offset = 0; offset < payload.length; offset += 2) {
    text += String.fromCharCode(payload.readUInt16BE(offset));
  }
  return text;
}

function hex(value: number): string {
  return value.toString(16).toUpperCase().padStart(2, '0');
}
