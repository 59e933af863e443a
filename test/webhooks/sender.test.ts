import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { uuidv7 } from '../../src/ids.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { WebhookSender, type SenderOptions } from '../../src/webhooks/sender.js';
import { sealWebhookSecret } from '../../src/webhooks/secret-storage.js';
import { generateSecret } from '../../src/webhooks/signature.js';
import { createOne } from '../store/fixtures.js';
import { testSecretBox } from '../support/secret-box.js';
import { TestReceiver } from './receiver.js';

const silent = pino({ level: 'silent' });
const box = testSecretBox();
const WAIT = { timeout: 10_000, interval: 20 };
const OPTIONS: SenderOptions = {
  concurrency: 4,
  maxPerEndpoint: 1,
  timeoutMs: 200,
  leaseMs: 5_000,
  idleMs: 20,
  retry: { initialDelayMs: 10, maxDelayMs: 20, maxAttempts: 2, jitter: 0 },
  retainSucceededMs: 60_000,
};

/** A receiver that accepts connections and never responds, until it is closed. */
async function startHangingReceiver(): Promise<{ url: string; requests: number; close(): Promise<void> }> {
  const state = { requests: 0 };
  const server: Server = createServer(() => {
    state.requests += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/slow`,
    get requests() {
      return state.requests;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('webhook sender', () => {
  const cleanups: Array<() => Promise<void>> = [];
  let dir = '';
  let store: Store;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cascade-sender-'));
    store = await openSqliteStore({ file: join(dir, 'cascade.sqlite') });
    await store.migrate();
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  function startSender(options: Partial<SenderOptions> = {}): WebhookSender {
    const sender = new WebhookSender(store.webhooks, 'sqlite', silent, Date.now, () => 0, { ...OPTIONS, ...options }, box);
    cleanups.push(() => sender.stop());
    return sender;
  }

  /** Registers an endpoint for `url` and queues one delivery to it; returns both ids and the secret. */
  async function queue(url: string): Promise<{ endpointId: string; deliveryId: string; secret: string }> {
    const endpointId = uuidv7();
    const secret = generateSecret();
    await store.webhooks.createEndpoint(
      { id: endpointId, spaceId: 'default', url, events: ['message.sent'], description: null, createdAt: Date.now(), secret: sealWebhookSecret(box, secret, 'default', endpointId) },
      10,
    );
    const message = await createOne(store);
    const deliveryId = uuidv7();
    const body = JSON.stringify({ type: 'message.sent', timestamp: new Date().toISOString(), data: { messageId: message.id } });
    const from = await store.webhooks.outboxPosition('events');
    const now = Date.now();
    await store.webhooks.commitFanOut('events', from, from + 1, [
      { id: deliveryId, spaceId: 'default', endpointId, messageId: message.id, seq: 1, type: 'message.sent', body, runAt: now, createdAt: now },
    ]);
    return { endpointId, deliveryId, secret };
  }

  async function deliveryOf(endpointId: string) {
    const [delivery] = (await store.webhooks.listDeliveries('default', endpointId, { limit: 1 })).items;
    if (delivery === undefined) throw new Error(`endpoint ${endpointId} has no delivery`);
    return delivery;
  }

  it('slow receiver does not hold others', async () => {
    const slow = await startHangingReceiver();
    cleanups.push(() => slow.close());
    const fast = await TestReceiver.start();
    cleanups.push(() => fast.close());
    const slowDelivery = await queue(slow.url);
    const fastDelivery = await queue(fast.url);
    fast.secret = fastDelivery.secret;

    await startSender({ concurrency: 2, timeoutMs: 5_000 }).start();

    await vi.waitFor(async () => expect((await deliveryOf(fastDelivery.endpointId)).status).toBe('succeeded'), WAIT);
    expect(fast.accepted()).toHaveLength(1);
    // The slow receiver's first try is still waiting for its response.
    await vi.waitFor(() => expect(slow.requests).toBe(1), WAIT);
    expect(await deliveryOf(slowDelivery.endpointId)).toMatchObject({ status: 'pending', attempts: 0 });
  });

  it('secret that cannot be decrypted ends dead', async () => {
    const slow = await startHangingReceiver();
    cleanups.push(() => slow.close());
    const { endpointId } = await queue(slow.url);
    // The server restarted with another key: the stored secret no longer opens.
    const sender = new WebhookSender(store.webhooks, 'sqlite', silent, Date.now, () => 0, OPTIONS, testSecretBox('other'));
    cleanups.push(() => sender.stop());

    await sender.start();

    await vi.waitFor(async () => expect((await deliveryOf(endpointId)).status).toBe('dead'), WAIT);
    expect((await deliveryOf(endpointId)).attempts).toBe(2);
    expect((await deliveryOf(endpointId)).lastError).toContain('cannot be decrypted');
    expect(slow.requests).toBe(0);
  });

  it('timeout fails a try', async () => {
    const slow = await startHangingReceiver();
    cleanups.push(() => slow.close());
    const { endpointId } = await queue(slow.url);

    await startSender().start();

    await vi.waitFor(async () => expect((await deliveryOf(endpointId)).status).toBe('dead'), WAIT);
    expect(await deliveryOf(endpointId)).toMatchObject({ attempts: 2, lastStatus: null, lastError: 'timed out after 200 ms' });
    expect(slow.requests).toBe(2);
  });

  it('stop releases a try in flight', async () => {
    const slow = await startHangingReceiver();
    cleanups.push(() => slow.close());
    const { endpointId } = await queue(slow.url);
    const sender = startSender({ timeoutMs: 5_000, leaseMs: 60_000 });
    await sender.start();
    await vi.waitFor(() => expect(slow.requests).toBe(1), WAIT);

    await sender.stop();

    const delivery = await deliveryOf(endpointId);
    expect(delivery).toMatchObject({ status: 'pending', attempts: 0, lastError: null });
    const claimed = await store.webhooks.claimDeliveries({ owner: 'other', now: Date.now(), limit: 1, leaseMs: 1000, maxPerEndpoint: 1, inFlight: new Map() });
    expect(claimed.map((item) => item.id)).toEqual([delivery.id]);
  });

  it('honours Retry-After on 429', async () => {
    const receiver = await TestReceiver.start({ respond: () => ({ status: 429, headers: { 'retry-after': '120' } }) });
    cleanups.push(() => receiver.close());
    const queued = await queue(receiver.url);
    receiver.secret = queued.secret;
    const sender = startSender({ retry: { initialDelayMs: 10, maxDelayMs: 600_000, maxAttempts: 3, jitter: 0 } });
    await sender.start();

    await vi.waitFor(async () => expect((await deliveryOf(queued.endpointId)).attempts).toBe(1), WAIT);
    const delivery = await deliveryOf(queued.endpointId);
    expect(delivery).toMatchObject({ status: 'pending', lastStatus: 429, lastError: 'HTTP 429' });
    // Without Retry-After the next try would be due 10 ms after the first.
    expect(delivery.runAt - delivery.updatedAt).toBe(120_000);
  });
});
