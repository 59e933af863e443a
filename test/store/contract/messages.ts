import { describe, expect, it } from 'vitest';
import { InvalidCursorError } from '../../../src/store/types.js';
import type { UseStore } from '../contract.js';
import { FAR_FUTURE, HOUR, MINUTE, T0, createOne, decision, mustLoad, newMessage } from '../fixtures.js';

export function messagesContract(useStore: UseStore): void {
  describe('messages', () => {
    it('getMessage returns a created message', async () => {
      const { store } = useStore();
      const message = await createOne(store, { sendAt: T0 + HOUR, expiresAt: T0 + 2 * HOUR, conversationId: 'conv-1' });

      const view = await store.getMessage('default', message.id);

      expect(view).not.toBeNull();
      expect(view?.id).toBe(message.id);
      expect(view?.spaceId).toBe('default');
      expect(view?.profileId).toBeNull();
      expect(view?.status).toBe('processing');
      expect(view?.succeededStep).toBeNull();
      expect(view?.createdAt).toBe(T0);
      expect(view?.updatedAt).toBe(T0);
      expect(view?.completedAt).toBeNull();
      expect(view?.sendAt).toBe(T0 + HOUR);
      expect(view?.expiresAt).toBe(T0 + 2 * HOUR);
      expect(view?.metadata).toEqual({ orderId: '88121' });
      expect(view?.request).toEqual(message.request);
      expect(view?.events).toEqual([]);
      expect(view?.steps).toEqual([
        { index: 0, channel: 'sms', condition: 'delivered', fallbackAfterMs: 10 * MINUTE, status: 'pending', reason: null, startedAt: null, endedAt: null, attempts: [] },
        { index: 1, channel: 'email', condition: 'accepted', fallbackAfterMs: null, status: 'pending', reason: null, startedAt: null, endedAt: null, attempts: [] },
      ]);
    });

    it('getMessage returns null for an unknown id', async () => {
      const { store } = useStore();
      expect(await store.getMessage('default', '01890000-0000-7000-8000-000000000000')).toBeNull();
    });

    it('loadMessage returns state, content and version', async () => {
      const { store } = useStore();
      const message = await createOne(store, { expiresAt: T0 + HOUR, metadata: null });

      const loaded = await mustLoad(store, 'default', message.id);

      expect(loaded.version).toBe(0);
      expect(loaded.profileId).toBeNull();
      expect(loaded.profile).toBeNull();
      expect(loaded.to).toEqual(message.to);
      expect(loaded.content).toEqual(message.content);
      expect(loaded.metadata).toBeNull();
      expect(loaded.state.status).toBe('processing');
      expect(loaded.state.currentStep).toBe(0);
      expect(loaded.state.succeededStep).toBeNull();
      expect(loaded.state.expiresAt).toBe(T0 + HOUR);
      expect(loaded.state.completedAt).toBeNull();
      expect(loaded.state.steps.map((step) => [step.index, step.channel, step.status])).toEqual([
        [0, 'sms', 'pending'],
        [1, 'email', 'pending'],
      ]);
    });

    it('createMessages enqueues start and expire jobs', async () => {
      const { store } = useStore();
      const now = await createOne(store);
      const scheduled = await createOne(store, { createdAt: T0 + 1, sendAt: T0 + HOUR, expiresAt: T0 + 2 * HOUR });

      const jobs = await store.claimJobs('worker-1', FAR_FUTURE, 10, MINUTE);

      const summary = jobs.map((job) => ({ messageId: job.messageId, kind: job.kind, step: job.step, attempt: job.attempt, runAt: job.runAt }));
      expect(summary).toEqual([
        { messageId: now.id, kind: 'route-step', step: null, attempt: null, runAt: T0 },
        { messageId: scheduled.id, kind: 'route-step', step: null, attempt: null, runAt: T0 + HOUR },
        { messageId: scheduled.id, kind: 'expire', step: null, attempt: null, runAt: T0 + 2 * HOUR },
      ]);
      expect(jobs.every((job) => job.spaceId === 'default')).toBe(true);
    });

    it('createMessages with an empty list writes nothing', async () => {
      const { store } = useStore();
      await store.createMessages([]);
      expect((await store.listMessages('default', { limit: 10 })).items).toEqual([]);
    });

    it('createMessages writes nothing when one message fails', async () => {
      const { store } = useStore();
      const existing = await createOne(store);
      const fresh = newMessage({ createdAt: T0 + 1, profileId: 'cust-1' });
      const duplicate = newMessage({ id: existing.id, createdAt: T0 + 2 });

      await expect(store.createMessages([fresh, duplicate])).rejects.toThrow();

      expect(await store.getMessage('default', fresh.id)).toBeNull();
      expect(await store.getProfile('default', 'cust-1')).toBeNull();
      const jobs = await store.claimJobs('worker-1', FAR_FUTURE, 10, MINUTE);
      expect(jobs.map((job) => job.messageId)).toEqual([existing.id]);
    });

    it('listMessages pages newest first with a cursor', async () => {
      const { store } = useStore();
      const messages = [0, 1, 2, 3, 4].map((offset) => newMessage({ createdAt: T0 + offset * MINUTE }));
      await store.createMessages(messages);
      const newestFirst = messages.map((message) => message.id).reverse();

      const first = await store.listMessages('default', { limit: 2 });
      expect(first.items.map((item) => item.id)).toEqual(newestFirst.slice(0, 2));
      expect(first.nextCursor).not.toBeNull();

      const second = await store.listMessages('default', { limit: 2, cursor: first.nextCursor ?? undefined });
      expect(second.items.map((item) => item.id)).toEqual(newestFirst.slice(2, 4));
      expect(second.nextCursor).not.toBeNull();

      const third = await store.listMessages('default', { limit: 2, cursor: second.nextCursor ?? undefined });
      expect(third.items.map((item) => item.id)).toEqual(newestFirst.slice(4));
      expect(third.nextCursor).toBeNull();
    });

    it('listMessages returns no cursor on an exact last page', async () => {
      const { store } = useStore();
      await store.createMessages([newMessage(), newMessage({ createdAt: T0 + 1 })]);

      const page = await store.listMessages('default', { limit: 2 });

      expect(page.items).toHaveLength(2);
      expect(page.nextCursor).toBeNull();
    });

    it('listMessages includes steps in each item', async () => {
      const { store } = useStore();
      await createOne(store);

      const page = await store.listMessages('default', { limit: 10 });

      expect(page.items[0]?.steps.map((step) => step.channel)).toEqual(['sms', 'email']);
    });

    it('listMessages filters by profile, status and since', async () => {
      const { store } = useStore();
      const early = newMessage({ createdAt: T0, profileId: 'cust-1' });
      const middle = newMessage({ createdAt: T0 + HOUR, profileId: 'cust-2' });
      const late = newMessage({ createdAt: T0 + 2 * HOUR, profileId: 'cust-1' });
      await store.createMessages([early, middle, late]);
      const loaded = await mustLoad(store, 'default', middle.id);
      const finished = { ...loaded.state, status: 'failed' as const, completedAt: T0 + HOUR + 1 };
      await store.applyDecision(decision(loaded, finished, T0 + HOUR + 1));

      const byProfile = await store.listMessages('default', { limit: 10, profileId: 'cust-1' });
      expect(byProfile.items.map((item) => item.id)).toEqual([late.id, early.id]);

      const byStatus = await store.listMessages('default', { limit: 10, status: 'failed' });
      expect(byStatus.items.map((item) => item.id)).toEqual([middle.id]);

      const bySince = await store.listMessages('default', { limit: 10, since: T0 + HOUR });
      expect(bySince.items.map((item) => item.id)).toEqual([late.id, middle.id]);

      const combined = await store.listMessages('default', { limit: 10, profileId: 'cust-1', since: T0 + 1 });
      expect(combined.items.map((item) => item.id)).toEqual([late.id]);
    });

    it('listMessages rejects a cursor it did not issue', async () => {
      const { store } = useStore();
      await expect(store.listMessages('default', { limit: 10, cursor: 'not a cursor!' })).rejects.toBeInstanceOf(InvalidCursorError);
      await expect(store.listMessages('default', { limit: 10, cursor: '' })).rejects.toBeInstanceOf(InvalidCursorError);
    });

    it('listMessages rejects a limit below one', async () => {
      const { store } = useStore();
      await expect(store.listMessages('default', { limit: 0 })).rejects.toThrow(RangeError);
    });
  });
}
