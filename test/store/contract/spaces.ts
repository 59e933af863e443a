import { describe, expect, it } from 'vitest';
import type { UseStore } from '../contract.js';
import { FAR_FUTURE, MINUTE, SECOND, T0, acceptFirstStep, createOne, decision, mustLoad, newMessage } from '../fixtures.js';

export function spacesContract(useStore: UseStore): void {
  describe('space scoping', () => {
    it('a second space reads nothing of the first', async () => {
      const { store } = useStore();
      const message = await createOne(store, { profileId: 'cust-1' });
      await acceptFirstStep(store, message, [['smsc-1']], T0);
      const receipt = await store.insertReceipt({
        spaceId: 'default',
        channel: 'sms',
        key: 'smsc-1',
        providerMessageId: 'smsc-1',
        state: 'delivered',
        errorCode: null,
        providerTimestamp: null,
        receivedAt: T0 + SECOND,
      });
      const ref = await store.findAttemptByKeys('default', 'sms', ['smsc-1']);
      if (receipt === null || ref === null) throw new Error('receipt or attempt missing');

      expect(await store.getMessage('other', message.id)).toBeNull();
      expect(await store.loadMessage('other', message.id)).toBeNull();
      expect(await store.listMessages('other', { limit: 10 })).toEqual({ items: [], nextCursor: null });
      expect(await store.listMessages('other', { limit: 10, profileId: 'cust-1' })).toEqual({ items: [], nextCursor: null });
      expect(await store.getProfile('other', 'cust-1')).toBeNull();
      expect(await store.patchProfile('other', 'cust-1', { properties: { a: 1 } }, T0)).toBeNull();
      expect(await store.deleteProfile('other', 'cust-1')).toBe(false);
      expect(await store.findAttemptByKeys('other', 'sms', ['smsc-1'])).toBeNull();
      expect(await store.pendingReceipts('other', 'sms', ['smsc-1'])).toEqual([]);
      expect(await store.countPartsWithReceipt({ ...ref, spaceId: 'other' }, 'delivered')).toBe(0);
    });

    it('a second space cannot write to the first', async () => {
      const { store } = useStore();
      const message = await createOne(store, { profileId: 'cust-1' });
      const loaded = await mustLoad(store, 'default', message.id);
      const receipt = await store.insertReceipt({
        spaceId: 'default',
        channel: 'sms',
        key: 'smsc-1',
        providerMessageId: 'smsc-1',
        state: 'delivered',
        errorCode: null,
        providerTimestamp: null,
        receivedAt: T0,
      });
      if (receipt === null) throw new Error('receipt not stored');

      await expect(store.claimAttempt('other', message.id, 0, 1, 'key', T0)).rejects.toThrow(message.id);
      await expect(store.applyDecision({ ...decision(loaded, loaded.state, T0), spaceId: 'other' })).rejects.toThrow(message.id);
      await expect(store.enqueue('other', message.id, { kind: 'cancel', step: null, attempt: null, runAt: T0 })).rejects.toThrow(message.id);
      const foreignRef = { spaceId: 'other', messageId: message.id, step: 0, attempt: 1, part: 0, parts: 1 };
      await expect(store.markReceiptApplied(receipt.id, foreignRef, T0)).rejects.toThrow(receipt.id);

      const after = await mustLoad(store, 'default', message.id);
      expect(after.version).toBe(0);
      expect(after.state.steps[0]?.attempts).toEqual([]);
      expect(await store.pendingReceipts('default', 'sms', ['smsc-1'])).toHaveLength(1);
      const jobs = await store.claimJobs('worker-1', FAR_FUTURE, 10, MINUTE);
      expect(jobs.map((job) => job.kind)).toEqual(['route-step']);
    });

    it('profiles and receipts with equal keys stay apart', async () => {
      const { store } = useStore();
      await store.putProfile('default', 'cust-1', { properties: { firstName: 'Ada' } }, T0);

      const other = await store.putProfile('other', 'cust-1', { properties: { firstName: 'Grace' } }, T0);
      await store.createMessages([newMessage({ spaceId: 'other', profileId: 'cust-1', to: { email: 'grace@example.com' } })]);
      const first = { spaceId: 'default', channel: 'sms' as const, key: 'k', providerMessageId: 'k', state: 'delivered' as const, errorCode: null, providerTimestamp: null, receivedAt: T0 };

      expect(other.created).toBe(true);
      expect((await store.getProfile('default', 'cust-1'))?.properties).toEqual({ firstName: 'Ada' });
      expect((await store.getProfile('default', 'cust-1'))?.addresses).toEqual({});
      expect((await store.getProfile('other', 'cust-1'))?.addresses).toEqual({ email: 'grace@example.com' });
      expect(await store.insertReceipt(first)).not.toBeNull();
      expect(await store.insertReceipt({ ...first, spaceId: 'other' })).not.toBeNull();
      expect((await store.listMessages('default', { limit: 10 })).items).toEqual([]);
      expect((await store.listMessages('other', { limit: 10 })).items).toHaveLength(1);
    });
  });
}
