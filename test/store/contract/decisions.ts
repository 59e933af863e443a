import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../../src/store/types.js';
import type { UseStore } from '../contract.js';
import { FAR_FUTURE, HOUR, MINUTE, SECOND, T0, acceptFirstStep, attempt, createOne, decision, mustLoad, withStep } from '../fixtures.js';

export function decisionContract(useStore: UseStore): void {
  describe('claimAttempt', () => {
    it('claims an attempt once', async () => {
      const { store } = useStore();
      const message = await createOne(store);

      const first = await store.claimAttempt('default', message.id, 0, 1, `${message.id}/0/1`, T0);
      const second = await store.claimAttempt('default', message.id, 0, 1, `${message.id}/0/1`, T0 + SECOND);

      expect(first).toEqual({ result: 'claimed' });
      expect(second).toEqual({ result: 'exists', status: 'sending' });
      const attempts = (await mustLoad(store, 'default', message.id)).state.steps[0]?.attempts;
      expect(attempts).toEqual([attempt(1, 'sending', T0)]);
    });

    it('reports the stored status of an existing attempt', async () => {
      const { store } = useStore();
      const message = await createOne(store);
      await store.claimAttempt('default', message.id, 0, 1, 'key-1', T0);
      await acceptFirstStep(store, message, [['smsc-1']], T0 + SECOND);

      expect(await store.claimAttempt('default', message.id, 0, 1, 'key-1', T0 + MINUTE)).toEqual({ result: 'exists', status: 'accepted' });
      expect(await store.claimAttempt('default', message.id, 0, 2, 'key-2', T0 + MINUTE)).toEqual({ result: 'claimed' });
    });

    it('rejects a step that does not exist', async () => {
      const { store } = useStore();
      const message = await createOne(store);
      await expect(store.claimAttempt('default', message.id, 5, 1, 'key', T0)).rejects.toThrow(message.id);
    });
  });

  describe('applyDecision', () => {
    it('writes state, attempts, events and jobs', async () => {
      const { store } = useStore();
      const message = await createOne(store);
      const [startJob] = await store.claimJobs('worker-1', T0, 10, MINUTE);
      const loaded = await mustLoad(store, 'default', message.id);
      const state = withStep(loaded.state, 0, { status: 'sending', startedAt: T0 + SECOND });

      await store.applyDecision(
        decision(loaded, state, T0 + SECOND, {
          events: [
            { type: 'message.started', step: null, attempt: null, data: {} },
            { type: 'step.started', step: 0, attempt: 1, data: { channel: 'sms' } },
          ],
          jobs: [{ kind: 'route-step', step: 0, attempt: 1, runAt: T0 + SECOND }],
          doneJobId: startJob?.id,
        }),
      );

      const after = await mustLoad(store, 'default', message.id);
      expect(after.version).toBe(1);
      expect(after.state.steps[0]?.status).toBe('sending');
      expect(after.state.steps[0]?.startedAt).toBe(T0 + SECOND);
      const jobs = await store.claimJobs('worker-2', FAR_FUTURE, 10, MINUTE);
      expect(jobs.map((job) => [job.kind, job.step, job.attempt, job.runAt])).toEqual([['route-step', 0, 1, T0 + SECOND]]);

      const accepted = await acceptFirstStep(store, message, [['smsc-1']], T0 + 2 * SECOND);
      expect(accepted.version).toBe(2);
      const view = await store.getMessage('default', message.id);
      expect(view?.updatedAt).toBe(T0 + 2 * SECOND);
      expect(view?.steps[0]?.status).toBe('waiting');
      expect(view?.steps[0]?.attempts).toEqual([{ ...attempt(1, 'accepted', T0 + 2 * SECOND, 'smsc-1'), receipts: [] }]);
      expect(view?.events.map((event) => [event.seq, event.type, event.step, event.attempt])).toEqual([
        [1, 'message.started', null, null],
        [2, 'step.started', 0, 1],
        [3, 'attempt.accepted', 0, 1],
      ]);
      expect(view?.events[1]?.data).toEqual({ channel: 'sms' });
      expect(view?.events[2]?.createdAt).toBe(T0 + 2 * SECOND);
    });

    it('throws ConflictError on a stale version and writes nothing', async () => {
      const { store } = useStore();
      const message = await createOne(store);
      const stale = await mustLoad(store, 'default', message.id);
      await acceptFirstStep(store, message, [['smsc-1']], T0 + SECOND);
      const before = await store.getMessage('default', message.id);
      const finished = { ...withStep(stale.state, 1, { status: 'succeeded' }), status: 'sent' as const, succeededStep: 1, completedAt: T0 + MINUTE };

      const write = decision(stale, finished, T0 + MINUTE, {
        events: [{ type: 'message.finished', step: null, attempt: null, data: {} }],
        jobs: [{ kind: 'receipt-timeout', step: 1, attempt: 1, runAt: T0 + HOUR }],
        providerKeys: { step: 1, attempt: 1, keys: { channel: 'email', parts: [['mail-1']] } },
      });
      await expect(store.applyDecision(write)).rejects.toBeInstanceOf(ConflictError);

      expect(await store.getMessage('default', message.id)).toEqual(before);
      expect((await mustLoad(store, 'default', message.id)).version).toBe(1);
      expect(await store.findAttemptByKeys('default', 'email', ['mail-1'])).toBeNull();
      const jobs = await store.claimJobs('worker-1', FAR_FUTURE, 10, MINUTE);
      expect(jobs.map((job) => job.kind)).toEqual(['route-step']);
    });

    it('throws a plain error for an unknown message', async () => {
      const { store } = useStore();
      const message = await createOne(store);
      const loaded = await mustLoad(store, 'default', message.id);
      const write = { ...decision(loaded, loaded.state, T0), messageId: '01890000-0000-7000-8000-000000000000' };

      const error = await store.applyDecision(write).catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(ConflictError);
      expect(String(error)).toContain('01890000-0000-7000-8000-000000000000');
    });

    it('completion deletes pending jobs that are not leased', async () => {
      const { store } = useStore();
      const message = await createOne(store, { expiresAt: T0 + HOUR });
      const [leased] = await store.claimJobs('worker-1', T0, 1, HOUR);
      const loaded = await mustLoad(store, 'default', message.id);
      const failed = { ...loaded.state, status: 'failed' as const, currentStep: 2, completedAt: T0 + MINUTE };

      await store.applyDecision(
        decision(loaded, failed, T0 + MINUTE, {
          jobs: [{ kind: 'retry', step: 0, attempt: 2, runAt: T0 + 2 * MINUTE }],
        }),
      );

      const view = await store.getMessage('default', message.id);
      expect(view?.status).toBe('failed');
      expect(view?.completedAt).toBe(T0 + MINUTE);
      // The expire job is gone; the leased start job and the job this decision scheduled stay.
      await store.releaseAllLeases();
      const remaining = await store.claimJobs('worker-2', FAR_FUTURE, 10, MINUTE);
      expect(remaining.map((job) => job.kind).sort()).toEqual(['retry', 'route-step']);
      expect(remaining.find((job) => job.kind === 'route-step')?.id).toBe(leased?.id);
    });

    it('keeps the first attempt of a clashing provider key', async () => {
      const { store } = useStore();
      const first = await createOne(store);
      const second = await createOne(store, { createdAt: T0 + 1 });
      await acceptFirstStep(store, first, [['smsc-1', '1']], T0 + SECOND);

      await acceptFirstStep(store, second, [['smsc-1', '2']], T0 + 2 * SECOND);

      const clashing = await store.findAttemptByKeys('default', 'sms', ['smsc-1']);
      const own = await store.findAttemptByKeys('default', 'sms', ['2']);
      expect(clashing?.messageId).toBe(first.id);
      expect(own?.messageId).toBe(second.id);
    });

    it('marks the applied receipt in the same write', async () => {
      const { store } = useStore();
      const message = await createOne(store);
      const accepted = await acceptFirstStep(store, message, [['smsc-1']], T0 + SECOND);
      const receipt = await store.insertReceipt({
        spaceId: 'default',
        channel: 'sms',
        key: 'smsc-1',
        providerMessageId: 'smsc-1',
        state: 'delivered',
        errorCode: null,
        providerTimestamp: T0 + 2 * SECOND,
        receivedAt: T0 + 3 * SECOND,
      });
      const ref = await store.findAttemptByKeys('default', 'sms', ['smsc-1']);
      if (receipt === null || ref === null) throw new Error('receipt or attempt missing');
      const delivered = {
        ...withStep(accepted.state, 0, { status: 'succeeded', endedAt: T0 + 3 * SECOND, attempts: [attempt(1, 'delivered', T0 + SECOND, 'smsc-1')] }),
        status: 'delivered' as const,
        succeededStep: 0,
        completedAt: T0 + 3 * SECOND,
      };

      await store.applyDecision(decision(accepted, delivered, T0 + 3 * SECOND, { appliedReceipt: { receiptId: receipt.id, ref } }));

      expect(await store.pendingReceipts('default', 'sms', ['smsc-1'])).toEqual([]);
      expect(await store.countPartsWithReceipt(ref, 'delivered')).toBe(1);
      const view = await store.getMessage('default', message.id);
      expect(view?.succeededStep).toBe(0);
      expect(view?.steps[0]?.attempts[0]?.receipts).toEqual([
        { state: 'delivered', errorCode: null, providerMessageId: 'smsc-1', providerTimestamp: T0 + 2 * SECOND, receivedAt: T0 + 3 * SECOND },
      ]);
    });
  });
}
