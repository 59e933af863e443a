import { describe, expect, it } from 'vitest';
import type { NewReceipt } from '../../../src/store/types.js';
import type { UseStore } from '../contract.js';
import { SECOND, T0, acceptFirstStep, createOne } from '../fixtures.js';

function receipt(key: string, state: NewReceipt['state'], receivedAt: number, spaceId = 'default'): NewReceipt {
  return {
    spaceId,
    channel: 'sms',
    key,
    providerMessageId: key.toUpperCase(),
    state,
    errorCode: state === 'failed' ? '0x0000000B' : null,
    providerTimestamp: receivedAt - SECOND,
    receivedAt,
  };
}

export function receiptsContract(useStore: UseStore): void {
  describe('receipts', () => {
    it('insertReceipt stores a receipt once', async () => {
      const { store } = useStore();

      const stored = await store.insertReceipt(receipt('abc', 'delivered', T0));
      const duplicate = await store.insertReceipt(receipt('abc', 'delivered', T0 + SECOND));
      const otherState = await store.insertReceipt(receipt('abc', 'read', T0 + SECOND));

      expect(stored).toEqual({ ...receipt('abc', 'delivered', T0), id: stored?.id, appliedAt: null });
      expect(typeof stored?.id).toBe('string');
      expect(duplicate).toBeNull();
      expect(otherState?.state).toBe('read');
      expect(otherState?.id).not.toBe(stored?.id);
    });

    it('matchedUnappliedReceipts finds receipts whose attempt came later', async () => {
      const { store } = useStore();
      const message = await createOne(store);
      await store.insertReceipt(receipt('k1', 'delivered', T0 + SECOND, ''));
      await store.insertReceipt(receipt('k1', 'read', T0 + 2 * SECOND, 'other-space'));
      await store.insertReceipt(receipt('k2', 'delivered', T0 + SECOND, ''));
      await acceptFirstStep(store, message, [['k1']], T0 + 3 * SECOND);

      const found = await store.matchedUnappliedReceipts(T0, T0 + 10 * SECOND, 10);
      const window = await store.matchedUnappliedReceipts(T0 + SECOND, T0 + 10 * SECOND, 10);

      // The unscoped receipt matches; the one of another space and the one without an attempt do not.
      expect(found.map((item) => [item.receipt.key, item.receipt.state])).toEqual([['k1', 'delivered']]);
      expect(found[0]?.ref).toEqual({ spaceId: 'default', messageId: message.id, step: 0, attempt: 1, part: 0, parts: 1 });
      expect(window).toEqual([]);
    });

    it('findAttemptByKeys matches an alternative key', async () => {
      const { store } = useStore();
      const message = await createOne(store);
      // An SMSC may report the id in hex in one PDU and in decimal in another.
      await acceptFirstStep(store, message, [['ff', '255']], T0);

      const byHex = await store.findAttemptByKeys('default', 'sms', ['ff']);
      const byDecimal = await store.findAttemptByKeys('default', 'sms', ['0xff', '255']);

      const expected = { spaceId: 'default', messageId: message.id, step: 0, attempt: 1, part: 0, parts: 1 };
      expect(byHex).toEqual(expected);
      expect(byDecimal).toEqual(expected);
      expect(await store.findAttemptByKeys('default', 'sms', ['unknown'])).toBeNull();
      expect(await store.findAttemptByKeys('default', 'sms', [])).toBeNull();
      expect(await store.findAttemptByKeys('default', 'whatsApp', ['ff'])).toBeNull();
    });

    it('findAttemptByKeys prefers earlier keys', async () => {
      const { store } = useStore();
      const first = await createOne(store);
      const second = await createOne(store, { createdAt: T0 + 1 });
      await acceptFirstStep(store, first, [['k-first']], T0);
      await acceptFirstStep(store, second, [['k-second']], T0);

      expect((await store.findAttemptByKeys('default', 'sms', ['k-second', 'k-first']))?.messageId).toBe(second.id);
      expect((await store.findAttemptByKeys('default', 'sms', ['k-first', 'k-second']))?.messageId).toBe(first.id);
    });

    it('findAttemptByKeys returns the part of a multipart attempt', async () => {
      const { store } = useStore();
      const message = await createOne(store);
      await acceptFirstStep(store, message, [['p0'], ['p1'], ['p2']], T0);

      const ref = await store.findAttemptByKeys('default', 'sms', ['p2']);

      expect(ref).toEqual({ spaceId: 'default', messageId: message.id, step: 0, attempt: 1, part: 2, parts: 3 });
    });

    it('pendingReceipts lists unapplied receipts for keys', async () => {
      const { store } = useStore();
      const message = await createOne(store);
      const later = await store.insertReceipt(receipt('early', 'read', T0 + 2 * SECOND));
      const earlier = await store.insertReceipt(receipt('early', 'delivered', T0 + SECOND));
      await store.insertReceipt(receipt('other', 'delivered', T0));

      const pending = await store.pendingReceipts('default', 'sms', ['early', 'alias']);
      expect(pending.map((item) => item.id)).toEqual([earlier?.id, later?.id]);

      await acceptFirstStep(store, message, [['early', 'alias']], T0 + 3 * SECOND);
      const ref = await store.findAttemptByKeys('default', 'sms', ['early']);
      if (ref === null || earlier === null) throw new Error('attempt or receipt missing');
      await store.markReceiptApplied(earlier.id, ref, T0 + 4 * SECOND);

      const stillPending = await store.pendingReceipts('default', 'sms', ['early']);
      expect(stillPending.map((item) => item.id)).toEqual([later?.id]);
      expect(stillPending[0]?.appliedAt).toBeNull();
    });

    it('markReceiptApplied links the receipt to its attempt', async () => {
      const { store } = useStore();
      const message = await createOne(store);
      await acceptFirstStep(store, message, [['smsc-9']], T0);
      const stored = await store.insertReceipt(receipt('smsc-9', 'failed', T0 + SECOND));
      const ref = await store.findAttemptByKeys('default', 'sms', ['smsc-9']);
      if (ref === null || stored === null) throw new Error('attempt or receipt missing');

      await store.markReceiptApplied(stored.id, ref, T0 + 2 * SECOND);

      const view = await store.getMessage('default', message.id);
      expect(view?.steps[0]?.attempts[0]?.receipts).toEqual([
        { state: 'failed', errorCode: '0x0000000B', providerMessageId: 'SMSC-9', providerTimestamp: T0, receivedAt: T0 + SECOND },
      ]);
      expect(view?.steps[1]?.attempts).toEqual([]);
    });

    it('markReceiptApplied rejects an unknown receipt', async () => {
      const { store } = useStore();
      const ref = { spaceId: 'default', messageId: 'm', step: 0, attempt: 1, part: 0, parts: 1 };
      await expect(store.markReceiptApplied('no-such-receipt', ref, T0)).rejects.toThrow('no-such-receipt');
    });

    it('countPartsWithReceipt counts distinct parts', async () => {
      const { store } = useStore();
      const message = await createOne(store);
      await acceptFirstStep(store, message, [['p0', 'alt0'], ['p1'], ['p2']], T0);
      const ref = { spaceId: 'default', messageId: message.id, step: 0, attempt: 1 };
      expect(await store.countPartsWithReceipt(ref, 'delivered')).toBe(0);

      // Part 0 reports twice under two forms of its id; part 2 fails.
      const cases: Array<[string, NewReceipt['state']]> = [
        ['p0', 'delivered'],
        ['alt0', 'delivered'],
        ['p1', 'delivered'],
        ['p2', 'failed'],
      ];
      for (const [key, state] of cases) {
        const stored = await store.insertReceipt(receipt(key, state, T0 + SECOND));
        const found = await store.findAttemptByKeys('default', 'sms', [key]);
        if (stored === null || found === null) throw new Error(`receipt or attempt missing for ${key}`);
        await store.markReceiptApplied(stored.id, found, T0 + 2 * SECOND);
      }

      expect(await store.countPartsWithReceipt(ref, 'delivered')).toBe(2);
      expect(await store.countPartsWithReceipt(ref, 'failed')).toBe(1);
      expect(await store.countPartsWithReceipt(ref, 'read')).toBe(0);
      expect(await store.countPartsWithReceipt({ ...ref, attempt: 2 }, 'delivered')).toBe(0);
    });
  });
}
