import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { messageIdKeys, parseDeliveryReceipt, parseReceiptDate } from '../src/channels/sms/receipt.js';

const RECEIPT = 0x04;

describe('parseDeliveryReceipt', () => {
  it('parses a standard receipt', () => {
    const receipt = parseDeliveryReceipt({
      esm_class: RECEIPT,
      short_message:
        'id:0123456789 sub:001 dlvrd:001 submit date:2401151230 done date:2401151231 stat:DELIVRD err:000 text:Your parcel arr',
    });

    expect(receipt).toEqual({
      messageId: '0123456789',
      state: 'delivered',
      stat: 'DELIVRD',
      err: '000',
      submitDate: Date.UTC(2024, 0, 15, 12, 30),
      doneDate: Date.UTC(2024, 0, 15, 12, 31),
    });
  });

  it('reads dates with seconds', () => {
    const receipt = parseDeliveryReceipt({
      esm_class: RECEIPT,
      short_message: 'id:9 submit date:991231235958 done date:000101000001 stat:DELIVRD',
    });

    expect(receipt?.submitDate).toBe(Date.UTC(2099, 11, 31, 23, 59, 58));
    expect(receipt?.doneDate).toBe(Date.UTC(2000, 0, 1, 0, 0, 1));
  });

  it('tolerates missing fields', () => {
    const receipt = parseDeliveryReceipt({ esm_class: RECEIPT, short_message: 'id:abc stat:UNDELIV' });

    expect(receipt).toEqual({
      messageId: 'abc',
      state: 'failed',
      stat: 'UNDELIV',
      err: null,
      submitDate: null,
      doneDate: null,
    });
  });

  it('reports unknown without a stat', () => {
    const receipt = parseDeliveryReceipt({ esm_class: RECEIPT, short_message: 'id:abc err:000' });

    expect(receipt?.state).toBe('unknown');
    expect(receipt?.stat).toBeNull();
  });

  it('tolerates odd case, spacing and order', () => {
    const receipt = parseDeliveryReceipt({
      esm_class: RECEIPT,
      short_message: '  STAT:expired   Err: 001 Done_Date: 2312312359  ID:  77   Submit  Date:2312300000 ',
    });

    expect(receipt).toEqual({
      messageId: '77',
      state: 'expired',
      stat: 'EXPIRED',
      err: '001',
      submitDate: Date.UTC(2023, 11, 30, 0, 0),
      doneDate: Date.UTC(2023, 11, 31, 23, 59),
    });
  });

  it('reads a TLV-only receipt', () => {
    const receipt = parseDeliveryReceipt({
      esm_class: RECEIPT,
      short_message: '',
      receipted_message_id: 'X1',
      message_state: 2,
      network_error_code: Buffer.from([0x03, 0x00, 0x22]),
    });

    expect(receipt).toEqual({
      messageId: 'X1',
      state: 'delivered',
      stat: 'DELIVERED',
      err: 'GSM:34',
      submitDate: null,
      doneDate: null,
    });
  });

  it('prefers TLVs over the text', () => {
    const receipt = parseDeliveryReceipt({
      esm_class: RECEIPT,
      short_message: 'id:111 sub:001 dlvrd:001 submit date:2401151230 done date:2401151231 stat:DELIVRD err:000',
      receipted_message_id: '6f',
      message_state: 5,
      network_error_code: Buffer.from([0x03, 0x00, 0x01]),
    });

    expect(receipt?.messageId).toBe('6f');
    expect(receipt?.state).toBe('failed');
    expect(receipt?.stat).toBe('UNDELIVERABLE');
    expect(receipt?.err).toBe('GSM:1');
    expect(receipt?.doneDate).toBe(Date.UTC(2024, 0, 15, 12, 31));
  });

  it('ignores a message_state outside 1-8', () => {
    const receipt = parseDeliveryReceipt({ esm_class: RECEIPT, short_message: 'id:1 stat:REJECTD', message_state: 9 });

    expect(receipt?.state).toBe('failed');
    expect(receipt?.stat).toBe('REJECTD');
  });

  it('ignores an all-zero network_error_code', () => {
    const receipt = parseDeliveryReceipt({
      esm_class: RECEIPT,
      short_message: 'id:1 stat:DELIVRD err:000',
      network_error_code: Buffer.alloc(3),
    });

    expect(receipt?.err).toBe('000');
  });

  it.each([
    ['DELIVRD', 'delivered'],
    ['delivrd', 'delivered'],
    ['UNDELIV', 'failed'],
    ['REJECTD', 'failed'],
    ['DELETED', 'failed'],
    ['EXPIRED', 'expired'],
    ['ACCEPTD', 'accepted'],
    ['ENROUTE', 'accepted'],
    ['UNKNOWN', 'unknown'],
    ['FAILED', 'unknown'],
  ] as const)('maps stat %s to %s', (stat, state) => {
    expect(parseDeliveryReceipt({ esm_class: RECEIPT, short_message: `id:1 stat:${stat}` })?.state).toBe(state);
  });

  it.each([
    [1, 'accepted', 'ENROUTE'],
    [2, 'delivered', 'DELIVERED'],
    [3, 'expired', 'EXPIRED'],
    [4, 'failed', 'DELETED'],
    [5, 'failed', 'UNDELIVERABLE'],
    [6, 'accepted', 'ACCEPTED'],
    [7, 'unknown', 'UNKNOWN'],
    [8, 'failed', 'REJECTED'],
  ] as const)('maps message_state %i to %s', (messageState, state, stat) => {
    const receipt = parseDeliveryReceipt({ esm_class: RECEIPT, receipted_message_id: '1', message_state: messageState });

    expect(receipt?.state).toBe(state);
    expect(receipt?.stat).toBe(stat);
  });

  it('returns null for a mobile-originated message', () => {
    expect(parseDeliveryReceipt({ esm_class: 0x00, short_message: 'Hello, please call me back' })).toBeNull();
    expect(parseDeliveryReceipt({ esm_class: 0x00, short_message: 'My order id: 4471' })).toBeNull();
    expect(parseDeliveryReceipt({ esm_class: 0x00, short_message: undefined })).toBeNull();
  });

  it('accepts receipt text without the esm_class bit', () => {
    const receipt = parseDeliveryReceipt({ esm_class: 0x00, short_message: 'id:55 stat:DELIVRD err:000' });

    expect(receipt?.messageId).toBe('55');
    expect(receipt?.state).toBe('delivered');
  });

  it('returns null for a receipt without an id', () => {
    expect(parseDeliveryReceipt({ esm_class: RECEIPT, short_message: 'stat:DELIVRD err:000' })).toBeNull();
    expect(parseDeliveryReceipt({ esm_class: RECEIPT, short_message: 'id: stat:DELIVRD' })).toBeNull();
  });

  it('reads the text from every short_message shape', () => {
    const text = 'id:7 stat:DELIVRD';

    expect(parseDeliveryReceipt({ esm_class: RECEIPT, short_message: Buffer.from(text) })?.messageId).toBe('7');
    expect(parseDeliveryReceipt({ esm_class: RECEIPT, short_message: { message: text } })?.messageId).toBe('7');
    expect(parseDeliveryReceipt({ esm_class: RECEIPT, short_message: { message: Buffer.from(text) } })?.state).toBe(
      'delivered',
    );
    expect(parseDeliveryReceipt({ esm_class: RECEIPT, message_payload: Buffer.from(text) })?.messageId).toBe('7');
  });

  it('keeps the first id when the text repeats a key', () => {
    const receipt = parseDeliveryReceipt({
      esm_class: RECEIPT,
      short_message: 'id:100 stat:DELIVRD err:000 text:your id: 999 stat:UNDELIV',
    });

    expect(receipt?.messageId).toBe('100');
    expect(receipt?.state).toBe('delivered');
  });
});

describe('parseReceiptDate', () => {
  it.each([
    ['2402291200', Date.UTC(2024, 1, 29, 12, 0)],
    ['2402301200', null],
    ['2313011200', null],
    ['2401012400', null],
    ['240101120060', null],
    ['24010112', null],
    ['24O1011200', null],
  ] as const)('reads %s', (text, expected) => {
    expect(parseReceiptDate(text)).toBe(expected);
  });
});

describe('messageIdKeys', () => {
  it.each([
    ['0A1B', ['a1b', '2587']],
    ['2587', ['2587', 'a1b', '9607']],
    ['  000123 ', ['123', '7b', '291']],
    ['000', ['0']],
    ['ff', ['ff', '255']],
    ['msg-42', ['msg-42']],
    ['', []],
    ['ffffffffffffffff', ['ffffffffffffffff', '18446744073709551615']],
    ['10000000000000000', ['10000000000000000', '2386f26fc10000']],
    ['18446744073709551616', ['18446744073709551616']],
  ] as const)('keys of %j', (id, keys) => {
    expect(messageIdKeys(id)).toEqual(keys);
  });

  it('matches decimal and hex forms of one value', () => {
    const zeros = fc.integer({ min: 0, max: 3 }).map((count) => '0'.repeat(count));
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), zeros, fc.boolean(), (value, padding, upper) => {
        const hex = padding + (upper ? value.toString(16).toUpperCase() : value.toString(16));
        const decimal = padding + value.toString(10);
        const hexKeys = messageIdKeys(hex);
        const decimalKeys = messageIdKeys(decimal);

        expect(hexKeys).toContain(decimalKeys[0]);
        expect(decimalKeys).toContain(hexKeys[0]);
        expect(new Set(hexKeys).size).toBe(hexKeys.length);
        expect(new Set(decimalKeys).size).toBe(decimalKeys.length);
      }),
    );
  });

  it('puts the canonical id first', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('0', '1', 'a', 'F', 'x', '-'), minLength: 1, maxLength: 30 }), (id) => {
        const expected = id.toLowerCase().replace(/^0+(?=.)/, '');
        expect(messageIdKeys(id)[0]).toBe(expected);
        expect(messageIdKeys(` ${id} `)).toEqual(messageIdKeys(id));
      }),
    );
  });
});
