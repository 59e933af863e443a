import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../../src/ids.js';
import { InvalidCursorError, type Store } from '../../../src/store/types.js';
import type { NewWebhookDelivery, NewWebhookEndpoint, WebhookEventType } from '../../../src/webhooks/types.js';
import type { UseStore } from '../contract.js';
import { acceptFirstStep, createOne, decision, MINUTE, mustLoad, SECOND, T0 } from '../fixtures.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const CLAIM = { owner: 'sender-1', now: T0, limit: 10, leaseMs: MINUTE, maxPerEndpoint: 10, inFlight: new Map<string, number>() };

function endpoint(spaceId: string, overrides: Partial<NewWebhookEndpoint> = {}): NewWebhookEndpoint {
  return {
    id: uuidv7(T0),
    spaceId,
    url: 'https://receiver.example/hooks',
    events: ['message.sent', 'message.delivered'],
    description: null,
    createdAt: T0,
    secret: SECRET,
    ...overrides,
  };
}

async function addEndpoint(store: Store, spaceId = 'default', overrides: Partial<NewWebhookEndpoint> = {}): Promise<NewWebhookEndpoint> {
  const created = endpoint(spaceId, overrides);
  expect(await store.webhooks.createEndpoint(created, 10)).toEqual({ result: 'created' });
  return created;
}

function delivery(endpointId: string, messageId: string | null, seq: number | null, overrides: Partial<NewWebhookDelivery> = {}): NewWebhookDelivery {
  return {
    id: uuidv7(T0),
    spaceId: 'default',
    endpointId,
    messageId,
    seq,
    type: 'message.sent' as WebhookEventType,
    body: JSON.stringify({ type: 'message.sent', seq }),
    runAt: T0,
    createdAt: T0,
    ...overrides,
  };
}

/** Insert deliveries through the events cursor, as the dispatcher does. */
async function addDeliveries(store: Store, deliveries: NewWebhookDelivery[]): Promise<void> {
  const from = await store.webhooks.outboxPosition('events');
  expect(await store.webhooks.commitFanOut('events', from, from + 1, deliveries)).toBe(true);
}

async function createOtherSpace(store: Store): Promise<void> {
  await store.createSpace({ id: 'other', name: 'Other', createdAt: T0 });
}

export function webhooksContract(useStore: UseStore): void {
  describe('webhook endpoints', () => {
    it('createEndpoint stores without returning the secret', async () => {
      const { store } = useStore();
      const created = await addEndpoint(store, 'default', { description: 'orders' });

      const read = await store.webhooks.getEndpoint('default', created.id);
      expect(read).toEqual({ id: created.id, spaceId: 'default', url: created.url, events: created.events, description: 'orders', createdAt: T0 });
      expect(JSON.stringify(read)).not.toContain(SECRET);
      expect(await store.webhooks.listEndpoints('default')).toEqual([read]);
    });

    it('endpoints are scoped by space', async () => {
      const { store } = useStore();
      await createOtherSpace(store);
      const mine = await addEndpoint(store, 'default');
      const theirs = await addEndpoint(store, 'other');

      expect(await store.webhooks.getEndpoint('other', mine.id)).toBeNull();
      expect((await store.webhooks.listEndpoints('other')).map((item) => item.id)).toEqual([theirs.id]);
      expect(await store.webhooks.deleteEndpoint('other', mine.id)).toBe(false);
      expect(await store.webhooks.getEndpoint('default', mine.id)).not.toBeNull();
      expect(await store.webhooks.deleteEndpoint('default', mine.id)).toBe(true);
      expect(await store.webhooks.listEndpoints('default')).toEqual([]);
    });

    it('createEndpoint stops at the limit', async () => {
      const { store } = useStore();
      await addEndpoint(store);
      await addEndpoint(store);

      expect(await store.webhooks.createEndpoint(endpoint('default'), 2)).toEqual({ result: 'limit-reached' });
      expect(await store.webhooks.listEndpoints('default')).toHaveLength(2);
    });

    it('deleteEndpoint removes its deliveries', async () => {
      const { store } = useStore();
      const message = await createOne(store);
      const first = await addEndpoint(store);
      const second = await addEndpoint(store);
      await addDeliveries(store, [delivery(first.id, message.id, 1), delivery(second.id, message.id, 1)]);

      await store.webhooks.deleteEndpoint('default', first.id);

      const claimed = await store.webhooks.claimDeliveries(CLAIM);
      expect(claimed.map((item) => item.endpointId)).toEqual([second.id]);
    });
  });

  describe('webhook outbox', () => {
    it('cursors start at zero on a new database', async () => {
      const { store } = useStore();
      expect(await store.webhooks.outboxPosition('events')).toBe(0);
      expect(await store.webhooks.outboxPosition('inbound')).toBe(0);
      expect(await store.webhooks.outboxHead('events')).toBe(0);
    });

    it('readOutboxEvents joins metadata, channel and receipt', async () => {
      const { store } = useStore();
      const message = await createOne(store, { metadata: { orderId: '88121' } });
      await acceptFirstStep(store, message, [['smsc-1']], T0 + SECOND);
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
      const loaded = await mustLoad(store, 'default', message.id);
      await store.applyDecision(
        decision(loaded, loaded.state, T0 + 3 * SECOND, {
          events: [
            { type: 'receipt.applied', step: 0, attempt: 1, data: { state: 'delivered', previousStatus: 'accepted', errorCode: null } },
            { type: 'step.succeeded', step: 0, attempt: null, data: {} },
          ],
          appliedReceipt: { receiptId: receipt.id, ref },
        }),
      );

      const head = await store.webhooks.outboxHead('events');
      const page = await store.webhooks.readOutboxEvents(0, head, ['default'], ['attempt.accepted', 'receipt.applied'], 10);

      expect(page.nextPosition).toBe(head);
      expect(page.items.map((item) => [item.type, item.seq, item.step, item.attempt])).toEqual([
        ['attempt.accepted', 1, 0, 1],
        ['receipt.applied', 2, 0, 1],
      ]);
      const [accepted, applied] = page.items;
      expect(accepted).toMatchObject({ messageId: message.id, spaceId: 'default', channel: 'sms', metadata: { orderId: '88121' }, createdAt: T0 + SECOND });
      expect(accepted!.data).toEqual({ providerMessageId: 'smsc-1' });
      expect(applied).toMatchObject({ attemptProviderMessageId: 'smsc-1', receipt: { providerMessageId: 'smsc-1', providerTimestamp: T0 + 2 * SECOND } });
    });

    it('readOutboxEvents pages and filters by space', async () => {
      const { store } = useStore();
      for (let i = 0; i < 3; i++) {
        await acceptFirstStep(store, await createOne(store), [[`smsc-${i}`]], T0);
      }
      const head = await store.webhooks.outboxHead('events');

      const first = await store.webhooks.readOutboxEvents(0, head, ['default'], ['attempt.accepted'], 2);
      expect(first.items).toHaveLength(2);
      expect(first.nextPosition).toBe(first.items[1]!.id);
      const rest = await store.webhooks.readOutboxEvents(first.nextPosition, head, ['default'], ['attempt.accepted'], 2);
      expect(rest.items).toHaveLength(1);
      expect(rest.nextPosition).toBe(head);

      const elsewhere = await store.webhooks.readOutboxEvents(0, head, ['other'], ['attempt.accepted'], 10);
      expect(elsewhere).toEqual({ items: [], nextPosition: head });
    });

    it('readOutboxInbound reads in arrival order', async () => {
      const { store } = useStore();
      const base = { spaceId: 'default', channel: 'whatsApp' as const, address: '+12025550111', text: 'hi' };
      await store.recordInbound({ ...base, providerMessageId: 'wamid.2', providerTimestamp: T0 + MINUTE, receivedAt: T0 + MINUTE });
      await store.recordInbound({ ...base, providerMessageId: 'wamid.1', providerTimestamp: T0, receivedAt: T0 + 2 * MINUTE });

      const head = await store.webhooks.outboxHead('inbound');
      const page = await store.webhooks.readOutboxInbound(0, head, ['default'], 10);

      expect(page.items.map((item) => item.providerMessageId)).toEqual(['wamid.2', 'wamid.1']);
      expect(page.items[0]).toMatchObject({ spaceId: 'default', channel: 'whatsApp', address: '+12025550111', text: 'hi', providerTimestamp: T0 + MINUTE });
      expect(page.nextPosition).toBe(head);
    });

    it('commitFanOut moves the cursor once', async () => {
      const { store } = useStore();
      const message = await createOne(store);
      const target = await addEndpoint(store);

      expect(await store.webhooks.commitFanOut('events', 0, 5, [delivery(target.id, message.id, 1)])).toBe(true);
      expect(await store.webhooks.outboxPosition('events')).toBe(5);

      // A second dispatcher that read from 0 writes nothing.
      expect(await store.webhooks.commitFanOut('events', 0, 5, [delivery(target.id, message.id, 2)])).toBe(false);
      expect(await store.webhooks.outboxPosition('events')).toBe(5);
      const claimed = await store.webhooks.claimDeliveries(CLAIM);
      expect(claimed.map((item) => item.seq)).toEqual([1]);
    });
  });

  describe('webhook deliveries', () => {
    it('claimDeliveries leases with url and secret', async () => {
      const { store } = useStore();
      const message = await createOne(store);
      const target = await addEndpoint(store);
      const added = delivery(target.id, message.id, 1);
      await addDeliveries(store, [added]);

      const [claimed] = await store.webhooks.claimDeliveries(CLAIM);
      expect(claimed).toMatchObject({ id: added.id, url: target.url, secret: SECRET, body: added.body, status: 'pending', attempts: 0 });

      expect(await store.webhooks.claimDeliveries({ ...CLAIM, owner: 'sender-2', now: T0 + SECOND })).toEqual([]);
      const reclaimed = await store.webhooks.claimDeliveries({ ...CLAIM, owner: 'sender-2', now: T0 + MINUTE });
      expect(reclaimed.map((item) => item.id)).toEqual([added.id]);
      expect(await store.webhooks.finishDelivery(added.id, 'sender-1', { status: 'succeeded', responseStatus: 200, now: T0 + MINUTE })).toBe(false);
    });

    it('events of a message go one at a time', async () => {
      const { store } = useStore();
      const message = await createOne(store);
      const other = await createOne(store);
      const target = await addEndpoint(store);
      const second = await addEndpoint(store);
      await addDeliveries(store, [
        delivery(target.id, message.id, 2),
        delivery(target.id, message.id, 3),
        delivery(target.id, other.id, 1),
        delivery(second.id, message.id, 3),
        delivery(target.id, null, null, { type: 'message.inbound' }),
      ]);

      const first = await store.webhooks.claimDeliveries(CLAIM);
      expect(first.map((item) => [item.endpointId, item.messageId, item.seq]).sort()).toEqual(
        [
          [target.id, message.id, 2],
          [target.id, other.id, 1],
          [second.id, message.id, 3],
          [target.id, null, null],
        ].sort(),
      );

      // Seq 3 waits while seq 2 is pending, also when seq 2 failed and waits for its retry.
      const seq2 = first.find((item) => item.endpointId === target.id && item.seq === 2)!;
      for (const item of first.filter((candidate) => candidate.id !== seq2.id)) {
        await store.webhooks.finishDelivery(item.id, 'sender-1', { status: 'succeeded', responseStatus: 200, now: T0 });
      }
      await store.webhooks.finishDelivery(seq2.id, 'sender-1', { status: 'pending', responseStatus: 500, error: 'HTTP 500', runAt: T0 + MINUTE, now: T0 });
      expect(await store.webhooks.claimDeliveries({ ...CLAIM, now: T0 + SECOND })).toEqual([]);
      // Seq 3 is due already but waits, so the next time to claim is seq 2's retry.
      expect(await store.webhooks.nextDeliveryAt()).toBe(T0 + MINUTE);

      // Once seq 2 is dead, seq 3 may go.
      const retry = await store.webhooks.claimDeliveries({ ...CLAIM, now: T0 + MINUTE });
      expect(retry.map((item) => item.id)).toEqual([seq2.id]);
      await store.webhooks.finishDelivery(seq2.id, 'sender-1', { status: 'dead', responseStatus: 500, error: 'HTTP 500', now: T0 + MINUTE });
      const next = await store.webhooks.claimDeliveries({ ...CLAIM, now: T0 + MINUTE });
      expect(next.map((item) => [item.messageId, item.seq])).toEqual([[message.id, 3]]);
    });

    it('claimDeliveries caps each endpoint', async () => {
      const { store } = useStore();
      const busy = await addEndpoint(store);
      const quiet = await addEndpoint(store);
      const messages = await Promise.all([1, 2, 3, 4].map(() => createOne(store)));
      await addDeliveries(store, [...messages.map((message) => delivery(busy.id, message.id, 1)), delivery(quiet.id, messages[0]!.id, 1)]);

      const claimed = await store.webhooks.claimDeliveries({ ...CLAIM, maxPerEndpoint: 2, inFlight: new Map([[busy.id, 1]]) });

      expect(claimed.filter((item) => item.endpointId === busy.id)).toHaveLength(1);
      expect(claimed.filter((item) => item.endpointId === quiet.id)).toHaveLength(1);
    });

    it('finishDelivery records each outcome', async () => {
      const { store } = useStore();
      const message = await createOne(store);
      const target = await addEndpoint(store);
      const added = delivery(target.id, message.id, 1);
      await addDeliveries(store, [added]);

      await store.webhooks.claimDeliveries(CLAIM);
      expect(await store.webhooks.finishDelivery(added.id, 'sender-1', { status: 'pending', responseStatus: null, error: 'timed out', runAt: T0 + MINUTE, now: T0 })).toBe(true);
      expect(await store.webhooks.nextDeliveryAt()).toBe(T0 + MINUTE);

      await store.webhooks.claimDeliveries({ ...CLAIM, now: T0 + MINUTE });
      expect(await store.webhooks.finishDelivery(added.id, 'sender-1', { status: 'succeeded', responseStatus: 204, now: T0 + MINUTE })).toBe(true);

      const page = await store.webhooks.listDeliveries('default', target.id, { limit: 10 });
      expect(page.items).toEqual([
        expect.objectContaining({ id: added.id, status: 'succeeded', attempts: 2, lastStatus: 204, lastError: null, updatedAt: T0 + MINUTE }),
      ]);
      expect(await store.webhooks.nextDeliveryAt()).toBeNull();
      expect(await store.webhooks.finishDelivery(added.id, 'sender-1', { status: 'succeeded', responseStatus: 204, now: T0 + MINUTE })).toBe(false);
    });

    it('releaseDelivery counts no try', async () => {
      const { store } = useStore();
      const message = await createOne(store);
      const target = await addEndpoint(store);
      const added = delivery(target.id, message.id, 1);
      await addDeliveries(store, [added]);
      await store.webhooks.claimDeliveries(CLAIM);

      await store.webhooks.releaseDelivery(added.id, 'sender-1');

      const [again] = await store.webhooks.claimDeliveries({ ...CLAIM, owner: 'sender-2' });
      expect(again).toMatchObject({ id: added.id, attempts: 0 });
      expect(await store.webhooks.releaseAllDeliveryLeases()).toBe(1);
    });

    it('dead letters page and replay', async () => {
      const { store } = useStore();
      const target = await addEndpoint(store);
      const messages = await Promise.all([1, 2, 3].map(() => createOne(store)));
      const added = messages.map((message) => delivery(target.id, message.id, 1));
      await addDeliveries(store, added);
      for (const item of await store.webhooks.claimDeliveries(CLAIM)) {
        await store.webhooks.finishDelivery(item.id, 'sender-1', { status: 'dead', responseStatus: 503, error: 'HTTP 503', now: T0 + SECOND });
      }

      // Newest first by id; these ids share a millisecond, so their order is the ids' order.
      const newestFirst = added.map((item) => item.id).sort().reverse();
      const first = await store.webhooks.listDeliveries('default', target.id, { status: 'dead', limit: 2 });
      expect(first.items.map((item) => item.id)).toEqual(newestFirst.slice(0, 2));
      expect(first.nextCursor).not.toBeNull();
      const second = await store.webhooks.listDeliveries('default', target.id, { status: 'dead', limit: 2, cursor: first.nextCursor! });
      expect(second).toEqual({ items: [expect.objectContaining({ id: newestFirst[2], lastStatus: 503, lastError: 'HTTP 503' })], nextCursor: null });
      await expect(store.webhooks.listDeliveries('default', target.id, { status: 'dead', limit: 2, cursor: '!!' })).rejects.toBeInstanceOf(InvalidCursorError);

      const replayed = await store.webhooks.replayDelivery('default', target.id, added[0]!.id, T0 + MINUTE);
      expect(replayed).toEqual({
        result: 'replayed',
        delivery: expect.objectContaining({ id: added[0]!.id, status: 'pending', attempts: 0, runAt: T0 + MINUTE, lastStatus: 503 }),
      });
      expect(await store.webhooks.replayDelivery('default', target.id, added[0]!.id, T0 + MINUTE)).toEqual({ result: 'not-dead', status: 'pending' });
      const claimed = await store.webhooks.claimDeliveries({ ...CLAIM, now: T0 + MINUTE });
      expect(claimed.map((item) => item.id)).toEqual([added[0]!.id]);
    });

    it('dead letters are scoped by space', async () => {
      const { store } = useStore();
      await createOtherSpace(store);
      const message = await createOne(store);
      const target = await addEndpoint(store);
      const added = delivery(target.id, message.id, 1);
      await addDeliveries(store, [added]);
      await store.webhooks.claimDeliveries(CLAIM);
      await store.webhooks.finishDelivery(added.id, 'sender-1', { status: 'dead', responseStatus: 500, error: 'HTTP 500', now: T0 });

      expect(await store.webhooks.listDeliveries('other', target.id, { status: 'dead', limit: 10 })).toEqual({ items: [], nextCursor: null });
      expect(await store.webhooks.replayDelivery('other', target.id, added.id, T0)).toEqual({ result: 'not-found' });
      const otherEndpoint = await addEndpoint(store, 'other');
      expect(await store.webhooks.replayDelivery('other', otherEndpoint.id, added.id, T0)).toEqual({ result: 'not-found' });
      expect((await store.webhooks.listDeliveries('default', target.id, { status: 'dead', limit: 10 })).items).toHaveLength(1);
    });

    it('pruneSucceeded deletes old successes only', async () => {
      const { store } = useStore();
      const target = await addEndpoint(store);
      const [done, failing] = await Promise.all([createOne(store), createOne(store)]);
      const succeeded = delivery(target.id, done!.id, 1);
      const dead = delivery(target.id, failing!.id, 1);
      await addDeliveries(store, [succeeded, dead]);
      await store.webhooks.claimDeliveries(CLAIM);
      await store.webhooks.finishDelivery(succeeded.id, 'sender-1', { status: 'succeeded', responseStatus: 200, now: T0 });
      await store.webhooks.finishDelivery(dead.id, 'sender-1', { status: 'dead', responseStatus: 500, error: 'HTTP 500', now: T0 });

      expect(await store.webhooks.pruneSucceeded(T0, 10)).toBe(0);
      expect(await store.webhooks.pruneSucceeded(T0 + 1, 10)).toBe(1);

      const left = await store.webhooks.listDeliveries('default', target.id, { limit: 10 });
      expect(left.items.map((item) => item.id)).toEqual([dead.id]);
    });
  });
}
