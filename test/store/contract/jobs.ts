import { describe, expect, it } from 'vitest';
import type { UseStore } from '../contract.js';
import { HOUR, MINUTE, SECOND, T0, createOne } from '../fixtures.js';

const LEASE = 30 * SECOND;

export function jobsContract(useStore: UseStore): void {
  describe('jobs', () => {
    it('claimJobs leases due jobs oldest first', async () => {
      const { store } = useStore();
      const later = await createOne(store, { createdAt: T0 + 2 * SECOND });
      const earlier = await createOne(store, { createdAt: T0 + SECOND });
      const future = await createOne(store, { createdAt: T0 + 3 * SECOND, sendAt: T0 + HOUR });

      const jobs = await store.claimJobs('worker-1', T0 + MINUTE, 10, LEASE);

      expect(jobs.map((job) => job.messageId)).toEqual([earlier.id, later.id]);
      expect(jobs.map((job) => job.messageId)).not.toContain(future.id);
      for (const job of jobs) {
        expect(job.leaseOwner).toBe('worker-1');
        expect(job.leaseUntil).toBe(T0 + MINUTE + LEASE);
        expect(job.claims).toBe(0);
      }
    });

    it('claimJobs takes at most limit jobs', async () => {
      const { store } = useStore();
      for (let i = 0; i < 3; i++) await createOne(store, { createdAt: T0 + i });

      const first = await store.claimJobs('worker-1', T0 + MINUTE, 2, LEASE);
      const rest = await store.claimJobs('worker-1', T0 + MINUTE, 2, LEASE);

      expect(first).toHaveLength(2);
      expect(rest).toHaveLength(1);
      expect(await store.claimJobs('worker-1', T0 + MINUTE, 0, LEASE)).toEqual([]);
    });

    it('claimJobs skips a leased job until its lease expires', async () => {
      const { store } = useStore();
      const message = await createOne(store);
      const [claimed] = await store.claimJobs('worker-1', T0, 10, LEASE);

      const whileLeased = await store.claimJobs('worker-2', T0 + LEASE - 1, 10, LEASE);
      const afterExpiry = await store.claimJobs('worker-2', T0 + LEASE, 10, LEASE);

      expect(claimed?.messageId).toBe(message.id);
      expect(whileLeased).toEqual([]);
      expect(afterExpiry).toHaveLength(1);
      expect(afterExpiry[0]?.id).toBe(claimed?.id);
      expect(afterExpiry[0]?.leaseOwner).toBe('worker-2');
      expect(afterExpiry[0]?.leaseUntil).toBe(T0 + 2 * LEASE);
      expect(afterExpiry[0]?.claims).toBe(1);
    });

    it('renewLeases extends only the owner leases', async () => {
      const { store } = useStore();
      await createOne(store, { createdAt: T0 });
      await createOne(store, { createdAt: T0 + 1 });
      const [mine] = await store.claimJobs('worker-1', T0 + MINUTE, 1, LEASE);
      const [theirs] = await store.claimJobs('worker-2', T0 + MINUTE, 1, LEASE);
      if (mine === undefined || theirs === undefined) throw new Error('no job claimed');

      const renewed = await store.renewLeases('worker-1', [mine.id, theirs.id], T0 + MINUTE + 10 * LEASE);

      expect(renewed).toBe(1);
      expect(await store.claimJobs('worker-3', T0 + MINUTE + 2 * LEASE, 10, LEASE)).toEqual([expect.objectContaining({ id: theirs.id })]);
    });

    it('completeJob deletes only for the lease owner', async () => {
      const { store } = useStore();
      await createOne(store);
      const [job] = await store.claimJobs('worker-1', T0, 10, LEASE);
      if (job === undefined) throw new Error('no job claimed');

      await store.completeJob(job.id, 'worker-2');
      const stillThere = await store.claimJobs('worker-3', T0 + LEASE, 10, LEASE);
      expect(stillThere.map((claimed) => claimed.id)).toEqual([job.id]);

      // worker-3 now holds the lease, so worker-1 lost it.
      await store.completeJob(job.id, 'worker-1');
      expect(await store.claimJobs('worker-4', T0 + 2 * LEASE, 10, LEASE)).toHaveLength(1);

      await store.completeJob(job.id, 'worker-4');
      expect(await store.claimJobs('worker-5', T0 + HOUR, 10, LEASE)).toEqual([]);
      expect(await store.nextJobAt()).toBeNull();
    });

    it('rescheduleJob moves only a job the owner leases', async () => {
      const { store } = useStore();
      await createOne(store);
      const [job] = await store.claimJobs('worker-1', T0, 10, LEASE);
      if (job === undefined) throw new Error('no job claimed');

      await store.rescheduleJob(job.id, 'worker-2', T0 + HOUR);
      expect(await store.nextJobAt()).toBeNull();

      await store.rescheduleJob(job.id, 'worker-1', T0 + HOUR);
      expect(await store.nextJobAt()).toBe(T0 + HOUR);
      expect(await store.claimJobs('worker-2', T0 + HOUR - 1, 10, LEASE)).toEqual([]);
      const [again] = await store.claimJobs('worker-2', T0 + HOUR, 10, LEASE);
      expect(again?.id).toBe(job.id);
      expect(again?.runAt).toBe(T0 + HOUR);
      expect(again?.claims).toBe(1);
    });

    it('releaseAllLeases frees every leased job', async () => {
      const { store } = useStore();
      await createOne(store);
      await createOne(store, { createdAt: T0 + 1 });
      await createOne(store, { createdAt: T0 + 2, sendAt: T0 + HOUR });
      await store.claimJobs('worker-1', T0 + MINUTE, 10, HOUR);

      const released = await store.releaseAllLeases();
      const reclaimed = await store.claimJobs('worker-2', T0 + MINUTE, 10, LEASE);

      expect(released).toBe(2);
      expect(reclaimed).toHaveLength(2);
      expect(reclaimed.every((job) => job.leaseOwner === 'worker-2')).toBe(true);
      expect(await store.releaseAllLeases()).toBe(2);
      expect(await store.releaseAllLeases()).toBe(0);
    });

    it('nextJobAt returns the earliest unleased job', async () => {
      const { store } = useStore();
      expect(await store.nextJobAt()).toBeNull();

      await createOne(store, { createdAt: T0 });
      await createOne(store, { createdAt: T0 + 1, sendAt: T0 + HOUR, expiresAt: T0 + 3 * HOUR });
      expect(await store.nextJobAt()).toBe(T0);

      await store.claimJobs('worker-1', T0, 10, LEASE);
      expect(await store.nextJobAt()).toBe(T0 + HOUR);
    });

    it('enqueue adds a job to a message', async () => {
      const { store } = useStore();
      const message = await createOne(store, { sendAt: T0 + HOUR });

      await store.enqueue('default', message.id, { kind: 'cancel', step: null, attempt: null, runAt: T0 + MINUTE });

      const [job] = await store.claimJobs('worker-1', T0 + MINUTE, 10, LEASE);
      expect(job?.kind).toBe('cancel');
      expect(job?.messageId).toBe(message.id);
      expect(job?.spaceId).toBe('default');
      expect(job?.runAt).toBe(T0 + MINUTE);
      expect(job?.claims).toBe(0);
    });

    it('enqueue rejects an unknown message', async () => {
      const { store } = useStore();
      const missing = '01890000-0000-7000-8000-000000000000';
      await expect(store.enqueue('default', missing, { kind: 'cancel', step: null, attempt: null, runAt: T0 })).rejects.toThrow(missing);
      expect(await store.nextJobAt()).toBeNull();
    });
  });
}
