import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/ids.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { WebhookDispatcher } from '../../src/webhooks/dispatcher.js';
import type { WebhookEventType } from '../../src/webhooks/types.js';
import { acceptFirstStep, createOne, MINUTE, T0 } from '../store/fixtures.js';

const silent = pino({ level: 'silent' });

describe('webhook dispatcher', () => {
  let dir = '';
  let file = '';
  let store: Store;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cascade-webhooks-'));
    file = join(dir, 'cascade.sqlite');
    store = await openSqliteStore({ file });
    await store.migrate();
  });

  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  function dispatcher(batchSize = 100): WebhookDispatcher {
    return new WebhookDispatcher(store.webhooks, silent, () => T0, { batchSize, pollMs: 10 }, () => {});
  }

  async function addEndpoint(createdAt: number, events: WebhookEventType[] = ['message.sent']): Promise<string> {
    const id = uuidv7(createdAt);
    const result = await store.webhooks.createEndpoint(
      { id, spaceId: 'default', url: 'https://receiver.example/hooks', events, description: null, createdAt, secret: 'whsec_c2VjcmV0' },
      10,
    );
    expect(result.result).toBe('created');
    return id;
  }

  async function acceptedMessage(at: number): Promise<string> {
    const message = await createOne(store, { createdAt: at });
    await acceptFirstStep(store, message, [[`smsc-${message.id}`]], at);
    return message.id;
  }

  async function deliveriesOf(endpointId: string) {
    return (await store.webhooks.listDeliveries('default', endpointId, { limit: 100 })).items;
  }

  it('skips events before the endpoint existed', async () => {
    await acceptedMessage(T0);
    const endpointId = await addEndpoint(T0 + MINUTE);
    const later = await acceptedMessage(T0 + 2 * MINUTE);

    expect(await dispatcher().dispatchOnce()).toEqual({ created: 1, more: false });

    const deliveries = await deliveriesOf(endpointId);
    expect(deliveries.map((delivery) => [delivery.messageId, delivery.type, delivery.status])).toEqual([[later, 'message.sent', 'pending']]);
    expect(JSON.parse(deliveries[0]!.body)).toMatchObject({ type: 'message.sent', data: { messageId: later, sequence: 1, channel: 'sms' } });
  });

  it('sends each endpoint its subscribed types', async () => {
    const sent = await addEndpoint(T0, ['message.sent']);
    const inbound = await addEndpoint(T0, ['message.inbound']);
    await acceptedMessage(T0);
    await store.recordInbound({
      spaceId: 'default',
      channel: 'whatsApp',
      providerMessageId: 'wamid.1',
      address: '+12025550111',
      text: 'hi',
      providerTimestamp: T0,
      receivedAt: T0,
    });

    await dispatcher().dispatchOnce();

    expect((await deliveriesOf(sent)).map((delivery) => delivery.type)).toEqual(['message.sent']);
    expect((await deliveriesOf(inbound)).map((delivery) => [delivery.type, delivery.messageId, delivery.seq])).toEqual([['message.inbound', null, null]]);
  });

  it('reads in batches until drained', async () => {
    const endpointId = await addEndpoint(T0);
    for (let i = 0; i < 3; i++) await acceptedMessage(T0);
    const batches = dispatcher(2);

    expect(await batches.dispatchOnce()).toEqual({ created: 2, more: true });
    expect(await batches.dispatchOnce()).toEqual({ created: 1, more: false });
    expect(await batches.dispatchOnce()).toEqual({ created: 0, more: false });
    expect(await deliveriesOf(endpointId)).toHaveLength(3);
  });

  it('two dispatchers create each delivery once', async () => {
    const endpointId = await addEndpoint(T0);
    for (let i = 0; i < 5; i++) await acceptedMessage(T0);
    const first = dispatcher(2);
    const second = dispatcher(2);

    for (let round = 0; round < 6; round++) await Promise.all([first.dispatchOnce(), second.dispatchOnce()]);

    const deliveries = await deliveriesOf(endpointId);
    expect(deliveries).toHaveLength(5);
    expect(new Set(deliveries.map((delivery) => delivery.messageId)).size).toBe(5);
  });

  it('resumes from the cursor after a restart', async () => {
    const endpointId = await addEndpoint(T0);
    await acceptedMessage(T0);
    await dispatcher().dispatchOnce();

    await store.close();
    store = await openSqliteStore({ file });
    await store.migrate();
    const restarted = dispatcher();
    expect(await restarted.dispatchOnce()).toEqual({ created: 0, more: false });

    await acceptedMessage(T0 + MINUTE);
    expect(await restarted.dispatchOnce()).toEqual({ created: 1, more: false });
    expect(await deliveriesOf(endpointId)).toHaveLength(2);
  });
});
