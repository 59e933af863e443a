import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countSms, decodeSms, encodeSms, SmsEncodingError } from '../src/channels/sms/encoding.js';
import type { EncodedSms } from '../src/channels/sms/types.js';

const BASIC_CHARS =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const EXTENSION_CHARS = '^{}\\[~]|€\f';
const GSM_CHARS = [...BASIC_CHARS, ...EXTENSION_CHARS];

const gsm = { allowUnicode: true, reference: 1 };

function udhOf(part: { shortMessage: Buffer }): number[] {
  return [...part.shortMessage.subarray(0, 6)];
}

function payloadOf(sms: EncodedSms, index: number): Buffer {
  const part = sms.parts[index];
  if (part === undefined) {
    throw new Error(`part ${index} missing`);
  }
  return sms.parts.length === 1 ? part.shortMessage : part.shortMessage.subarray(6);
}

/** Decodes every part, checks the concatenation headers and joins the texts in order. */
function reassemble(sms: EncodedSms, reference = 1): string {
  const texts = sms.parts.map((part, index) => {
    const decoded = decodeSms(part.shortMessage, part.dataCoding, part.esmClass);
    if (sms.parts.length === 1) {
      expect(decoded.concat).toBeNull();
    } else {
      expect(decoded.concat).toEqual({
        reference: reference & 0xff,
        total: sms.parts.length,
        sequence: index + 1,
      });
    }
    return decoded.text;
  });
  return texts.join('');
}

describe('encodeSms table cases', () => {
  it('encodes plain GSM text one septet per octet', () => {
    const sms = encodeSms('Hello @ £5 $', gsm);

    expect(sms.encoding).toBe('gsm7');
    expect(sms.units).toBe(12);
    expect(sms.parts).toHaveLength(1);
    expect(sms.parts[0]?.dataCoding).toBe(0x00);
    expect(sms.parts[0]?.esmClass).toBe(0x00);
    expect([...(sms.parts[0]?.shortMessage ?? [])]).toEqual([
      0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x00, 0x20, 0x01, 0x35, 0x20, 0x02,
    ]);
  });

  it('counts extension characters as two septets', () => {
    const sms = encodeSms(EXTENSION_CHARS, gsm);

    expect(sms.encoding).toBe('gsm7');
    expect(sms.units).toBe(20);
    expect([...(sms.parts[0]?.shortMessage ?? [])]).toEqual([
      0x1b, 0x14, 0x1b, 0x28, 0x1b, 0x29, 0x1b, 0x2f, 0x1b, 0x3c, 0x1b, 0x3d, 0x1b, 0x3e, 0x1b, 0x40, 0x1b,
      0x65, 0x1b, 0x0a,
    ]);
  });

  it('keeps 160 septets in one part', () => {
    const sms = encodeSms('a'.repeat(160), gsm);

    expect(sms.parts).toHaveLength(1);
    expect(sms.parts[0]?.shortMessage).toHaveLength(160);
    expect(sms.parts[0]?.esmClass).toBe(0x00);
  });

  it('splits 161 septets into 153 and 8', () => {
    const sms = encodeSms('a'.repeat(161), gsm);

    expect(sms.units).toBe(161);
    expect(sms.parts).toHaveLength(2);
    expect(payloadOf(sms, 0)).toHaveLength(153);
    expect(payloadOf(sms, 1)).toHaveLength(8);
    expect(sms.parts.every((part) => part.esmClass === 0x40)).toBe(true);
  });

  it('counts an extension character toward the 160 limit', () => {
    expect(encodeSms(`${'a'.repeat(158)}€`, gsm).parts).toHaveLength(1);
    expect(encodeSms(`${'a'.repeat(159)}€`, gsm).parts).toHaveLength(2);
  });

  it('keeps 70 UTF-16 units in one part', () => {
    const sms = encodeSms('ж'.repeat(70), gsm);

    expect(sms.encoding).toBe('ucs2');
    expect(sms.parts).toHaveLength(1);
    expect(sms.parts[0]?.shortMessage).toHaveLength(140);
    expect(sms.parts[0]?.dataCoding).toBe(0x08);
  });

  it('splits 71 UTF-16 units into 67 and 4', () => {
    const sms = encodeSms('ж'.repeat(71), gsm);

    expect(sms.parts).toHaveLength(2);
    expect(payloadOf(sms, 0)).toHaveLength(134);
    expect(payloadOf(sms, 1)).toHaveLength(8);
  });

  it('moves a euro sign at the split point to the next part', () => {
    const text = `${'a'.repeat(152)}€${'b'.repeat(10)}`;
    const sms = encodeSms(text, gsm);

    expect(sms.parts).toHaveLength(2);
    expect(payloadOf(sms, 0)).toEqual(Buffer.from('a'.repeat(152)));
    expect([...payloadOf(sms, 1).subarray(0, 2)]).toEqual([0x1b, 0x65]);
    expect(reassemble(sms)).toBe(text);
  });

  it('moves an emoji at the split point to the next part', () => {
    const text = `${'ж'.repeat(66)}😀${'ж'.repeat(5)}`;
    const sms = encodeSms(text, gsm);

    expect(sms.units).toBe(73);
    expect(sms.parts).toHaveLength(2);
    expect(payloadOf(sms, 0)).toHaveLength(132);
    expect([...payloadOf(sms, 1).subarray(0, 4)]).toEqual([0xd8, 0x3d, 0xde, 0x00]);
    expect(reassemble(sms)).toBe(text);
  });

  it('falls back to UCS-2 for text outside GSM', () => {
    const sms = encodeSms('Привет ç', gsm);

    expect(sms.encoding).toBe('ucs2');
    expect(sms.units).toBe(8);
    expect(sms.parts[0]?.dataCoding).toBe(0x08);
    expect(sms.parts[0]?.shortMessage).toEqual(Buffer.from('041f04400438043204350442002000e7', 'hex'));
  });

  it('replaces non-GSM characters when unicode is off', () => {
    const sms = encodeSms('Hi 😀 ж€', { allowUnicode: false, reference: 1 });

    expect(sms.encoding).toBe('gsm7');
    expect(sms.units).toBe(8);
    expect(sms.parts[0]?.dataCoding).toBe(0x00);
    expect(reassemble(sms)).toBe('Hi ? ?€');
  });

  it('writes the concatenation header bytes', () => {
    const sms = encodeSms('a'.repeat(400), { allowUnicode: true, reference: 0x1234 });

    expect(sms.parts).toHaveLength(3);
    expect(udhOf(sms.parts[0] ?? { shortMessage: Buffer.alloc(0) })).toEqual([0x05, 0x00, 0x03, 0x34, 3, 1]);
    expect(udhOf(sms.parts[1] ?? { shortMessage: Buffer.alloc(0) })).toEqual([0x05, 0x00, 0x03, 0x34, 3, 2]);
    expect(udhOf(sms.parts[2] ?? { shortMessage: Buffer.alloc(0) })).toEqual([0x05, 0x00, 0x03, 0x34, 3, 3]);
  });

  it('encodes empty text as one empty part', () => {
    const sms = encodeSms('', gsm);

    expect(sms.encoding).toBe('gsm7');
    expect(sms.units).toBe(0);
    expect(sms.parts).toHaveLength(1);
    expect(sms.parts[0]?.shortMessage).toHaveLength(0);
  });

  it('accepts 255 parts and rejects 256', () => {
    expect(encodeSms('a'.repeat(153 * 255), gsm).parts).toHaveLength(255);

    expect(() => encodeSms('a'.repeat(153 * 255 + 1), gsm)).toThrow(SmsEncodingError);
    expect(() => encodeSms('a'.repeat(153 * 255 + 1), gsm)).toThrow(/256 SMS parts.*at most 255.*39015/);
  });
});

describe('decodeSms table cases', () => {
  it('reads a 16-bit reference header', () => {
    const message = Buffer.concat([Buffer.from([0x06, 0x08, 0x04, 0xbe, 0xef, 0x02, 0x01]), Buffer.from('Hi')]);

    expect(decodeSms(message, 0x00, 0x40)).toEqual({
      text: 'Hi',
      concat: { reference: 0xbeef, total: 2, sequence: 1 },
    });
  });

  it('skips other header elements', () => {
    const message = Buffer.from([0x08, 0x70, 0x01, 0xaa, 0x00, 0x03, 0x09, 0x02, 0x02, 0x41]);

    expect(decodeSms(message, 0x00, 0x40)).toEqual({ text: 'A', concat: { reference: 9, total: 2, sequence: 2 } });
  });

  it('ignores a sequence past the total', () => {
    const message = Buffer.from([0x05, 0x00, 0x03, 0x01, 0x02, 0x03, 0x41]);

    expect(decodeSms(message, 0x00, 0x40)).toEqual({ text: 'A', concat: null });
  });

  it('reads the header only with the UDHI bit', () => {
    const message = Buffer.from([0x05, 0x00, 0x03, 0x01, 0x02, 0x01]);

    expect(decodeSms(message, 0x08, 0x00).concat).toBeNull();
    expect(decodeSms(message, 0x08, 0x00).text).toBe('\u0500\u0301\u0201');
  });

  it('decodes Latin-1 and IA5', () => {
    expect(decodeSms(Buffer.from([0x63, 0x61, 0x66, 0xe9]), 0x03, 0).text).toBe('café');
    expect(decodeSms(Buffer.from('a@b_c$', 'ascii'), 0x01, 0).text).toBe('a@b_c$');
  });

  it('decodes an unknown escape as the basic character', () => {
    expect(decodeSms(Buffer.from([0x1b, 0x41, 0x1b, 0x1b, 0x42]), 0x00, 0).text).toBe('A B');
  });

  it('rejects malformed input', () => {
    expect(() => decodeSms(Buffer.from([0x41, 0x42, 0x43]), 0x08, 0)).toThrow(/odd length of 3 octets/);
    expect(() => decodeSms(Buffer.from([0x80]), 0x00, 0)).toThrow(SmsEncodingError);
    expect(() => decodeSms(Buffer.from([0x05, 0x00, 0x03]), 0x00, 0x40)).toThrow(/does not fit/);
    expect(() => decodeSms(Buffer.from([0x03, 0x00, 0x03, 0x01]), 0x00, 0x40)).toThrow(/declares 3 octets/);
    expect(() => decodeSms(Buffer.from('x'), 0x04, 0)).toThrow(/data_coding 0x04 is not supported/);
  });
});

describe('countSms', () => {
  it.each([
    ['plain', 'Hello', true, { encoding: 'gsm7', units: 5, parts: 1 }],
    ['extension', '{€}', true, { encoding: 'gsm7', units: 6, parts: 1 }],
    ['161 septets', 'a'.repeat(161), true, { encoding: 'gsm7', units: 161, parts: 2 }],
    ['emoji', '😀', true, { encoding: 'ucs2', units: 2, parts: 1 }],
    ['emoji replaced', '😀', false, { encoding: 'gsm7', units: 1, parts: 1 }],
    ['306 septets', 'a'.repeat(306), true, { encoding: 'gsm7', units: 306, parts: 2 }],
    ['307 septets', 'a'.repeat(307), true, { encoding: 'gsm7', units: 307, parts: 3 }],
  ] as const)('counts %s', (_name, text, allowUnicode, expected) => {
    expect(countSms(text, allowUnicode)).toEqual(expected);
  });
});

describe('encodeSms properties', () => {
  const gsmText = fc.string({ unit: fc.constantFrom(...GSM_CHARS), maxLength: 700, size: 'large' });
  const anyText = fc.string({ unit: 'binary', maxLength: 400, size: 'large' });
  const boundaryText = fc.string({ unit: fc.constantFrom('a', '€', '{', '😀', 'ж', '\f'), maxLength: 500, size: 'large' });
  const reference = fc.integer({ min: 0, max: 0xffff });

  it('round-trips GSM text as GSM', () => {
    fc.assert(
      fc.property(gsmText, reference, (text, ref) => {
        const sms = encodeSms(text, { allowUnicode: false, reference: ref });
        expect(sms.encoding).toBe('gsm7');
        expect(reassemble(sms, ref)).toBe(text);
      }),
    );
  });

  it('round-trips any unicode text', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, boundaryText), reference, (text, ref) => {
        const sms = encodeSms(text, { allowUnicode: true, reference: ref });
        expect(reassemble(sms, ref)).toBe(text);
      }),
    );
  });

  it('keeps every part within its limit', () => {
    fc.assert(
      fc.property(fc.oneof(gsmText, anyText, boundaryText), (text) => {
        const sms = encodeSms(text, gsm);
        const octetsPerUnit = sms.encoding === 'gsm7' ? 1 : 2;
        const single = sms.encoding === 'gsm7' ? 160 : 70;
        const part = sms.encoding === 'gsm7' ? 153 : 67;
        sms.parts.forEach((_part, index) => {
          const units = payloadOf(sms, index).length / octetsPerUnit;
          expect(units).toBeLessThanOrEqual(sms.parts.length === 1 ? single : part);
        });
      }),
    );
  });

  it('never ends a part inside a pair', () => {
    fc.assert(
      fc.property(fc.oneof(gsmText, boundaryText), (text) => {
        const sms = encodeSms(text, gsm);
        sms.parts.forEach((_part, index) => {
          const payload = payloadOf(sms, index);
          if (payload.length === 0) {
            return;
          }
          if (sms.encoding === 'gsm7') {
            // No extension character has 0x1B as its second septet, so a final 0x1B is a lone escape.
            expect(payload[payload.length - 1]).not.toBe(0x1b);
          } else {
            const last = payload.readUInt16BE(payload.length - 2);
            expect(last >= 0xd800 && last <= 0xdbff).toBe(false);
          }
        });
      }),
    );
  });

  it('agrees with countSms', () => {
    fc.assert(
      fc.property(fc.oneof(gsmText, anyText, boundaryText), fc.boolean(), (text, allowUnicode) => {
        const sms = encodeSms(text, { allowUnicode, reference: 0 });
        expect(countSms(text, allowUnicode)).toEqual({
          encoding: sms.encoding,
          units: sms.units,
          parts: sms.parts.length,
        });
      }),
    );
  });
});
