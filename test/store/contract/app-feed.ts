import { describe, expect, it } from 'vitest';
import type { FeedEntry } from '../../../src/channels/app/types.js';
import type { UseStore } from '../contract.js';
import { SECOND, T0 } from '../fixtures.js';

type NewEntry = Omit<FeedEntry, 'seq' | 'deliveredAt' | 'readAt'>;

function entry(messageId: string, overrides: Partial<NewEntry> = {}): NewEntry {
  return {
    spaceId: 'default',
    appUserId: 'user-1',
    messageId,
    providerMessageId: `${messageId}_0_1`,
    title: 'Delivery update',
    body: 'Your parcel arrives today',
    data: { orderId: '88121', items: [1, 2] },
    sentOn: T0,
    ...overrides,
  };
}

const PUSH = {
  endpoint: 'https://push.example.net/send/abc',
  keys: { p256dh: 'BKey', auth: 'auth-secret' },
};

export function appFeedContract(useStore: UseStore): void {
  describe('app feed', () => {
    it('appendFeed stores an entry with a seq', async () => {
      const { store } = useStore();

      const stored = await store.appFeed.appendFeed(entry('m-1'));

      expect(stored).toEqual({ ...entry('m-1'), seq: stored.seq, deliveredAt: null, readAt: null });
      expect(stored.seq).toBeGreaterThan(0);
      expect(await store.appFeed.getFeedEntry('default', 'user-1', 'm-1')).toEqual(stored);
    });

    it('appendFeed twice returns the first entry', async () => {
      const { store } = useStore();
      const first = await store.appFeed.appendFeed(entry('m-1'));

      const again = await store.appFeed.appendFeed(entry('m-1', { providerMessageId: 'm-1_0_2', body: 'changed', sentOn: T0 + SECOND }));

      expect(again).toEqual(first);
      expect(await store.appFeed.readFeed('default', 'user-1', 0, 10)).toHaveLength(1);
    });

    it('seq grows within a feed', async () => {
      const { store } = useStore();
      const seqs: number[] = [];
      for (const id of ['m-1', 'm-2', 'm-3']) {
        seqs.push((await store.appFeed.appendFeed(entry(id))).seq);
        // Entries of another user in between must not disturb this user's order.
        await store.appFeed.appendFeed(entry(`${id}-other`, { appUserId: 'user-2' }));
      }

      expect(seqs[1]).toBeGreaterThan(seqs[0]!);
      expect(seqs[2]).toBeGreaterThan(seqs[1]!);
      expect(await store.appFeed.lastFeedSeq('default', 'user-1')).toBe(seqs[2]);
    });

    it('readFeed pages after a seq, oldest first', async () => {
      const { store } = useStore();
      const stored: FeedEntry[] = [];
      for (const id of ['m-1', 'm-2', 'm-3', 'm-4']) stored.push(await store.appFeed.appendFeed(entry(id)));
      await store.appFeed.appendFeed(entry('m-9', { appUserId: 'user-2' }));

      const first = await store.appFeed.readFeed('default', 'user-1', 0, 2);
      const second = await store.appFeed.readFeed('default', 'user-1', first[1]!.seq, 2);
      const rest = await store.appFeed.readFeed('default', 'user-1', second[1]!.seq, 2);

      expect(first.map((item) => item.messageId)).toEqual(['m-1', 'm-2']);
      expect(second.map((item) => item.messageId)).toEqual(['m-3', 'm-4']);
      expect(rest).toEqual([]);
      expect(await store.appFeed.readFeed('default', 'user-1', stored[3]!.seq, 10)).toEqual([]);
    });

    it('entry without title or data reads back as null', async () => {
      const { store } = useStore();

      await store.appFeed.appendFeed(entry('m-1', { title: null, data: null }));

      const read = await store.appFeed.getFeedEntry('default', 'user-1', 'm-1');
      expect(read?.title).toBeNull();
      expect(read?.data).toBeNull();
    });

    it('lastFeedSeq is 0 for an empty feed', async () => {
      const { store } = useStore();

      expect(await store.appFeed.lastFeedSeq('default', 'user-1')).toBe(0);
    });

    it('markFeed delivered changes an entry once', async () => {
      const { store } = useStore();
      await store.appFeed.appendFeed(entry('m-1'));

      expect(await store.appFeed.markFeed('default', 'user-1', 'm-1', 'delivered', T0 + SECOND)).toBe(true);
      expect(await store.appFeed.markFeed('default', 'user-1', 'm-1', 'delivered', T0 + 2 * SECOND)).toBe(false);

      const read = await store.appFeed.getFeedEntry('default', 'user-1', 'm-1');
      expect(read?.deliveredAt).toBe(T0 + SECOND);
      expect(read?.readAt).toBeNull();
    });

    it('markFeed read also sets delivered', async () => {
      const { store } = useStore();
      await store.appFeed.appendFeed(entry('m-1'));

      expect(await store.appFeed.markFeed('default', 'user-1', 'm-1', 'read', T0 + SECOND)).toBe(true);
      expect(await store.appFeed.markFeed('default', 'user-1', 'm-1', 'read', T0 + 2 * SECOND)).toBe(false);
      expect(await store.appFeed.markFeed('default', 'user-1', 'm-1', 'delivered', T0 + 3 * SECOND)).toBe(false);

      const read = await store.appFeed.getFeedEntry('default', 'user-1', 'm-1');
      expect(read?.deliveredAt).toBe(T0 + SECOND);
      expect(read?.readAt).toBe(T0 + SECOND);
    });

    it('markFeed read keeps an earlier delivery time', async () => {
      const { store } = useStore();
      await store.appFeed.appendFeed(entry('m-1'));
      await store.appFeed.markFeed('default', 'user-1', 'm-1', 'delivered', T0 + SECOND);

      expect(await store.appFeed.markFeed('default', 'user-1', 'm-1', 'read', T0 + 5 * SECOND)).toBe(true);

      const read = await store.appFeed.getFeedEntry('default', 'user-1', 'm-1');
      expect(read?.deliveredAt).toBe(T0 + SECOND);
      expect(read?.readAt).toBe(T0 + 5 * SECOND);
    });

    it('markFeed of an unknown message changes nothing', async () => {
      const { store } = useStore();

      expect(await store.appFeed.markFeed('default', 'user-1', 'missing', 'read', T0)).toBe(false);
    });

    it('upsertDevice creates and then updates a device', async () => {
      const { store } = useStore();

      const created = await store.appFeed.upsertDevice({ spaceId: 'default', appUserId: 'user-1', deviceId: 'phone', push: null }, T0);
      const updated = await store.appFeed.upsertDevice({ spaceId: 'default', appUserId: 'user-1', deviceId: 'phone', push: PUSH }, T0 + SECOND);

      expect(created).toEqual({ spaceId: 'default', appUserId: 'user-1', deviceId: 'phone', push: null, createdAt: T0, lastSeenAt: T0 });
      expect(updated).toEqual({ spaceId: 'default', appUserId: 'user-1', deviceId: 'phone', push: PUSH, createdAt: T0, lastSeenAt: T0 + SECOND });
      expect(await store.appFeed.listDevices('default', 'user-1')).toEqual([updated]);
    });

    it('upsertDevice without push removes the subscription', async () => {
      const { store } = useStore();
      await store.appFeed.upsertDevice({ spaceId: 'default', appUserId: 'user-1', deviceId: 'phone', push: PUSH }, T0);

      const updated = await store.appFeed.upsertDevice({ spaceId: 'default', appUserId: 'user-1', deviceId: 'phone', push: null }, T0 + SECOND);

      expect(updated.push).toBeNull();
    });

    it('listDevices returns devices oldest first', async () => {
      const { store } = useStore();
      await store.appFeed.upsertDevice({ spaceId: 'default', appUserId: 'user-1', deviceId: 'tablet', push: null }, T0 + SECOND);
      await store.appFeed.upsertDevice({ spaceId: 'default', appUserId: 'user-1', deviceId: 'phone', push: PUSH }, T0);
      await store.appFeed.upsertDevice({ spaceId: 'default', appUserId: 'user-2', deviceId: 'laptop', push: null }, T0);

      const devices = await store.appFeed.listDevices('default', 'user-1');

      expect(devices.map((device) => device.deviceId)).toEqual(['phone', 'tablet']);
    });

    it('deleteDevice removes one device once', async () => {
      const { store } = useStore();
      await store.appFeed.upsertDevice({ spaceId: 'default', appUserId: 'user-1', deviceId: 'phone', push: PUSH }, T0);

      expect(await store.appFeed.deleteDevice('default', 'user-1', 'phone')).toBe(true);
      expect(await store.appFeed.deleteDevice('default', 'user-1', 'phone')).toBe(false);
      expect(await store.appFeed.listDevices('default', 'user-1')).toEqual([]);
    });

    it('another space or user reads and changes nothing', async () => {
      const { store } = useStore();
      await store.appFeed.appendFeed(entry('m-1'));
      await store.appFeed.upsertDevice({ spaceId: 'default', appUserId: 'user-1', deviceId: 'phone', push: PUSH }, T0);

      for (const [spaceId, appUserId] of [['other', 'user-1'], ['default', 'user-2']] as const) {
        expect(await store.appFeed.readFeed(spaceId, appUserId, 0, 10)).toEqual([]);
        expect(await store.appFeed.getFeedEntry(spaceId, appUserId, 'm-1')).toBeNull();
        expect(await store.appFeed.lastFeedSeq(spaceId, appUserId)).toBe(0);
        expect(await store.appFeed.markFeed(spaceId, appUserId, 'm-1', 'read', T0)).toBe(false);
        expect(await store.appFeed.listDevices(spaceId, appUserId)).toEqual([]);
        expect(await store.appFeed.deleteDevice(spaceId, appUserId, 'phone')).toBe(false);
      }

      const own = await store.appFeed.getFeedEntry('default', 'user-1', 'm-1');
      expect(own?.readAt).toBeNull();
      expect(await store.appFeed.listDevices('default', 'user-1')).toHaveLength(1);
    });

    it('the same message in two spaces is two entries', async () => {
      const { store } = useStore();

      const first = await store.appFeed.appendFeed(entry('m-1'));
      const second = await store.appFeed.appendFeed(entry('m-1', { spaceId: 'other' }));

      expect(second.seq).not.toBe(first.seq);
      expect(second.spaceId).toBe('other');
    });

    it('feed and devices survive a reopen', async () => {
      const context = useStore();
      const stored = await context.store.appFeed.appendFeed(entry('m-1'));
      await context.store.appFeed.markFeed('default', 'user-1', 'm-1', 'delivered', T0 + SECOND);
      await context.store.appFeed.upsertDevice({ spaceId: 'default', appUserId: 'user-1', deviceId: 'phone', push: PUSH }, T0);

      const reopened = await context.reopen();
      const next = await reopened.appFeed.appendFeed(entry('m-2'));

      expect(await reopened.appFeed.getFeedEntry('default', 'user-1', 'm-1')).toEqual({ ...stored, deliveredAt: T0 + SECOND });
      expect(next.seq).toBeGreaterThan(stored.seq);
      expect(await reopened.appFeed.listDevices('default', 'user-1')).toHaveLength(1);
    });
  });
}
