import { describe, expect, it } from 'vitest';
import type { NewMessage } from '../../../src/store/types.js';
import type { UseStore } from '../contract.js';
import { FAR_FUTURE, HOUR, MINUTE, SECOND, T0, acceptFirstStep, createOne, newMessage } from '../fixtures.js';

const BATCH_SIZE = 5_000;

export function durabilityContract(useStore: UseStore): void {
  describe('durability', () => {
    it('a reopened database keeps everything', async () => {
      const context = useStore();
      const message = await createOne(context.store, { profileId: 'cust-1', expiresAt: T0 + HOUR });
      await context.store.putProfile('default', 'cust-2', { properties: { firstName: 'Ada' }, optOuts: ['sms'] }, T0);
      await acceptFirstStep(context.store, message, [['smsc-1']], T0 + SECOND);
      await context.store.insertReceipt({
        spaceId: 'default',
        channel: 'sms',
        key: 'early',
        providerMessageId: 'early',
        state: 'delivered',
        errorCode: null,
        providerTimestamp: null,
        receivedAt: T0,
      });
      await context.store.claimJobs('worker-1', T0, 1, HOUR);
      const view = await context.store.getMessage('default', message.id);
      const loaded = await context.store.loadMessage('default', message.id);
      const profile = await context.store.getProfile('default', 'cust-2');

      const store = await context.reopen();

      expect(await store.getMessage('default', message.id)).toEqual(view);
      expect(await store.loadMessage('default', message.id)).toEqual(loaded);
      expect(await store.getProfile('default', 'cust-2')).toEqual(profile);
      expect(await store.findAttemptByKeys('default', 'sms', ['smsc-1'])).not.toBeNull();
      expect(await store.pendingReceipts('default', 'sms', ['early'])).toHaveLength(1);
      expect(await store.claimAttempt('default', message.id, 0, 1, 'key', T0)).toEqual({ result: 'exists', status: 'accepted' });
      // The start job is still leased and the expire job is still waiting.
      expect(await store.nextJobAt()).toBe(T0 + HOUR);
      expect(await store.releaseAllLeases()).toBe(1);
    });

    it(`createMessages commits ${BATCH_SIZE} messages in one call`, async () => {
      const { store } = useStore();
      const messages: NewMessage[] = [];
      for (let i = 0; i < BATCH_SIZE; i++) {
        messages.push(
          newMessage({
            createdAt: T0 + i,
            // Every fourth message addresses one of 100 profiles; every tenth expires.
            profileId: i % 4 === 0 ? `cust-${i % 100}` : null,
            to: { phoneNumber: `+1202555${String(i % 10_000).padStart(4, '0')}` },
            expiresAt: i % 10 === 0 ? T0 + HOUR : null,
          }),
        );
      }

      await store.createMessages(messages);

      let listed = 0;
      let cursor: string | undefined;
      do {
        const page = await store.listMessages('default', { limit: 1_000, cursor });
        listed += page.items.length;
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      expect(listed).toBe(BATCH_SIZE);

      const jobs = await store.claimJobs('worker-1', FAR_FUTURE, 2 * BATCH_SIZE, MINUTE);
      expect(jobs.filter((job) => job.kind === 'route-step')).toHaveLength(BATCH_SIZE);
      expect(jobs.filter((job) => job.kind === 'expire')).toHaveLength(BATCH_SIZE / 10);

      const last = messages[BATCH_SIZE - 1];
      if (last === undefined) throw new Error('batch is empty');
      const loaded = await store.loadMessage('default', last.id);
      expect(loaded?.state.steps).toHaveLength(2);
      // cust-96 is last addressed by message 4996.
      expect((await store.getProfile('default', 'cust-96'))?.addresses).toEqual({ phoneNumber: '+12025554996' });
      expect(await store.getProfile('default', 'cust-1')).toBeNull();
    });
  });
}
