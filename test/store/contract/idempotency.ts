import { describe, expect, it } from 'vitest';
import {
  IdempotencyReservationLostError,
  type IdempotencyClaim,
  type IdempotencyRequest,
  type IdempotencyReservation,
  type Store,
} from '../../../src/store/types.js';
import type { UseStore } from '../contract.js';
import { FAR_FUTURE, HOUR, MINUTE, T0, newMessage } from '../fixtures.js';

const DAY = 24 * HOUR;
const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);

function keyRequest(overrides: Partial<IdempotencyRequest> = {}): IdempotencyRequest {
  const now = overrides.now ?? T0;
  return {
    spaceId: 'default',
    route: 'POST /v1/messages',
    key: 'order-88121',
    requestHash: HASH_A,
    now,
    expiresAt: now + DAY,
    lockedUntil: now + MINUTE,
    ...overrides,
  };
}

function reservationOf(claim: IdempotencyClaim): IdempotencyReservation {
  if (claim.result !== 'reserved') throw new Error(`expected the key to be reserved, got ${JSON.stringify(claim)}`);
  return claim.reservation;
}

async function reserve(store: Store, overrides: Partial<IdempotencyRequest> = {}): Promise<IdempotencyReservation> {
  return reservationOf(await store.reserveIdempotencyKey(keyRequest(overrides)));
}

export function idempotencyContract(useStore: UseStore): void {
  describe('idempotency keys', () => {
    it('reserves a new key', async () => {
      const { store } = useStore();

      const claim = await store.reserveIdempotencyKey(keyRequest());

      expect(claim.result).toBe('reserved');
      const reservation = reservationOf(claim);
      expect(reservation).toMatchObject({ spaceId: 'default', route: 'POST /v1/messages', key: 'order-88121' });
      expect(reservation.token).toMatch(/\S/);
    });

    it('reports a held key as in progress', async () => {
      const { store } = useStore();
      await reserve(store);

      const claim = await store.reserveIdempotencyKey(keyRequest({ now: T0 + 30_000 }));

      expect(claim).toEqual({ result: 'in-progress', lockedUntil: T0 + MINUTE });
    });

    it('reports a different body as a mismatch', async () => {
      const { store } = useStore();
      await reserve(store);

      expect(await store.reserveIdempotencyKey(keyRequest({ requestHash: HASH_B }))).toEqual({ result: 'mismatch' });
    });

    it('returns the stored response once completed', async () => {
      const { store } = useStore();
      const reservation = await reserve(store);
      const message = newMessage();
      const response = { status: 201, body: { messageId: message.id, status: 'processing' } };

      await store.createMessages([message], { idempotency: { reservation, response } });

      expect(await store.reserveIdempotencyKey(keyRequest({ now: T0 + HOUR }))).toEqual({ result: 'completed', response });
      expect(await store.reserveIdempotencyKey(keyRequest({ now: T0 + HOUR, requestHash: HASH_B }))).toEqual({ result: 'mismatch' });
      expect((await store.getMessage('default', message.id))?.id).toBe(message.id);
    });

    it('writes messages, jobs and response together', async () => {
      const { store } = useStore();
      const reservation = await reserve(store);
      const messages = [newMessage(), newMessage()];

      await store.createMessages(messages, { idempotency: { reservation, response: { status: 202, body: { accepted: [] } } } });

      const jobs = await store.claimJobs('worker-1', FAR_FUTURE, 10, MINUTE);
      expect(jobs.map((job) => job.messageId).sort()).toEqual(messages.map((message) => message.id).sort());
    });

    it('keeps the key processing when the message write fails', async () => {
      const { store } = useStore();
      const message = newMessage();
      await store.createMessages([message]);
      const reservation = await reserve(store);

      // The same message id again violates the primary key, so the transaction rolls back.
      await expect(
        store.createMessages([message], { idempotency: { reservation, response: { status: 201, body: {} } } }),
      ).rejects.toThrow();

      expect(await store.reserveIdempotencyKey(keyRequest({ now: T0 + 1 }))).toEqual({ result: 'in-progress', lockedUntil: T0 + MINUTE });
    });

    it('lets a later request take over a timed-out reservation', async () => {
      const { store } = useStore();
      const first = await reserve(store);

      const second = await reserve(store, { now: T0 + 2 * MINUTE });

      expect(second.token).not.toBe(first.token);
      const late = newMessage();
      await expect(
        store.createMessages([late], { idempotency: { reservation: first, response: { status: 201, body: { from: 'first' } } } }),
      ).rejects.toBeInstanceOf(IdempotencyReservationLostError);
      expect(await store.getMessage('default', late.id)).toBeNull();
      expect(await store.claimJobs('worker-1', FAR_FUTURE, 10, MINUTE)).toEqual([]);

      const response = { status: 201, body: { from: 'second' } };
      await store.createMessages([newMessage()], { idempotency: { reservation: second, response } });
      expect(await store.reserveIdempotencyKey(keyRequest({ now: T0 + 3 * MINUTE }))).toEqual({ result: 'completed', response });
    });

    it('keeps a timed-out reservation for a different body', async () => {
      const { store } = useStore();
      await reserve(store);

      expect(await store.reserveIdempotencyKey(keyRequest({ now: T0 + 2 * MINUTE, requestHash: HASH_B }))).toEqual({ result: 'mismatch' });
    });

    it('frees a released key', async () => {
      const { store } = useStore();
      const reservation = await reserve(store);

      await store.releaseIdempotencyKey(reservation);

      expect((await store.reserveIdempotencyKey(keyRequest({ requestHash: HASH_B }))).result).toBe('reserved');
    });

    it('release ignores a token that does not hold the key', async () => {
      const { store } = useStore();
      const reservation = await reserve(store);

      await store.releaseIdempotencyKey({ ...reservation, token: 'someone-else' });

      expect((await store.reserveIdempotencyKey(keyRequest())).result).toBe('in-progress');
    });

    it('release leaves a completed key', async () => {
      const { store } = useStore();
      const reservation = await reserve(store);
      const response = { status: 201, body: { ok: true } };
      await store.createMessages([newMessage()], { idempotency: { reservation, response } });

      await store.releaseIdempotencyKey(reservation);

      expect(await store.reserveIdempotencyKey(keyRequest())).toEqual({ result: 'completed', response });
    });

    it('ignores an expired record', async () => {
      const { store } = useStore();
      const reservation = await reserve(store);
      await store.createMessages([newMessage()], { idempotency: { reservation, response: { status: 201, body: {} } } });

      const claim = await store.reserveIdempotencyKey(keyRequest({ now: T0 + DAY, requestHash: HASH_B }));

      expect(claim.result).toBe('reserved');
    });

    it('scopes keys by space and route', async () => {
      const { store } = useStore();
      const first = await reserve(store);

      const otherSpace = await store.reserveIdempotencyKey(keyRequest({ spaceId: 'other', requestHash: HASH_B }));
      const otherRoute = await store.reserveIdempotencyKey(keyRequest({ route: 'POST /v1/messages/batch', requestHash: HASH_B }));
      expect(otherSpace.result).toBe('reserved');
      expect(otherRoute.result).toBe('reserved');

      const response = { status: 201, body: { space: 'default' } };
      await store.createMessages([newMessage()], { idempotency: { reservation: first, response } });
      expect(await store.reserveIdempotencyKey(keyRequest({ spaceId: 'other', requestHash: HASH_B }))).toMatchObject({ result: 'in-progress' });
      expect(await store.reserveIdempotencyKey(keyRequest())).toEqual({ result: 'completed', response });
    });

    it('another space cannot release or complete a key', async () => {
      const { store } = useStore();
      const reservation = await reserve(store);
      const foreign = { ...reservation, spaceId: 'other' };

      await store.releaseIdempotencyKey(foreign);
      await expect(
        store.createMessages([newMessage({ spaceId: 'other' })], { idempotency: { reservation: foreign, response: { status: 201, body: {} } } }),
      ).rejects.toBeInstanceOf(IdempotencyReservationLostError);

      expect((await store.reserveIdempotencyKey(keyRequest())).result).toBe('in-progress');
      expect((await store.listMessages('other', { limit: 10 })).items).toEqual([]);
    });

    it('deletes expired records in batches', async () => {
      const { store } = useStore();
      for (const key of ['k1', 'k2', 'k3']) await reserve(store, { key, expiresAt: T0 + HOUR });
      await reserve(store, { key: 'k4', spaceId: 'other', expiresAt: T0 + HOUR });
      await reserve(store, { key: 'fresh', expiresAt: T0 + DAY });

      expect(await store.deleteExpiredIdempotencyKeys(T0 + HOUR, 3)).toBe(3);
      expect(await store.deleteExpiredIdempotencyKeys(T0 + HOUR, 3)).toBe(1);
      expect(await store.deleteExpiredIdempotencyKeys(T0 + HOUR, 3)).toBe(0);

      expect((await store.reserveIdempotencyKey(keyRequest({ key: 'fresh', now: T0 + 30_000 }))).result).toBe('in-progress');
      expect((await store.reserveIdempotencyKey(keyRequest({ key: 'k1', now: T0 + HOUR, requestHash: HASH_B }))).result).toBe('reserved');
    });

    it('keeps records across a restart', async () => {
      const context = useStore();
      const held = await reserve(context.store, { key: 'held' });
      const done = await reserve(context.store, { key: 'done' });
      const response = { status: 201, body: { messageId: 'm-1' } };
      await context.store.createMessages([newMessage()], { idempotency: { reservation: done, response } });

      const store = await context.reopen();

      expect(await store.reserveIdempotencyKey(keyRequest({ key: 'held' }))).toEqual({ result: 'in-progress', lockedUntil: T0 + MINUTE });
      expect(await store.reserveIdempotencyKey(keyRequest({ key: 'done' }))).toEqual({ result: 'completed', response });
      expect(held.token).not.toBe(done.token);
    });
  });
}
