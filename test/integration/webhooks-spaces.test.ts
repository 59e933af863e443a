import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ADMIN_KEY, capturingLogger, createSpace, http, issueKey } from '../api/admin-client.js';
import { startTestServer, TEST_API_KEY, type TestServer } from '../helpers/server.js';
import { TestReceiver } from '../webhooks/receiver.js';

interface Endpoint { id: string; secret?: string }
interface Delivery { id: string; messageId: string | null; status: string }

const WAIT = { timeout: 15_000, interval: 50 };
const EVENTS = ['message.sent', 'message.delivered', 'message.failed'];

describe('webhooks of two spaces', () => {
  const logs = capturingLogger();
  let server: TestServer;
  let receiverA: TestReceiver;
  let receiverB: TestReceiver;
  let keyB = '';
  let endpointA: Endpoint;
  let endpointB: Endpoint;

  beforeAll(async () => {
    server = await startTestServer(
      { ADMIN_KEY },
      { logger: logs.logger, webhooks: { retry: { initialDelayMs: 20, maxDelayMs: 50, maxAttempts: 2, jitter: 0 }, pollMs: 20, idleMs: 50 } },
    );
    const spaceB = await createSpace(server, 'Space B');
    keyB = (await issueKey(server, spaceB)).key;
    receiverA = await TestReceiver.start();
    // B's receiver fails every request, so B's deliveries end as dead letters.
    receiverB = await TestReceiver.start({ respond: () => 500 });

    const createdA = await http<Endpoint>(server, 'POST', '/v1/webhooks', { key: TEST_API_KEY, body: { url: receiverA.url, events: EVENTS } });
    const createdB = await http<Endpoint>(server, 'POST', '/v1/webhooks', { key: keyB, body: { url: receiverB.url, events: EVENTS } });
    expect(createdA.status).toBe(201);
    expect(createdB.status).toBe(201);
    endpointA = createdA.body;
    endpointB = createdB.body;
    receiverA.secret = endpointA.secret!;
    receiverB.secret = endpointB.secret!;
  });

  afterAll(async () => {
    await server?.dispose();
    await receiverA?.close();
    await receiverB?.close();
  });

  it('each space lists only its endpoints', async () => {
    const listA = await http<{ items: Endpoint[] }>(server, 'GET', '/v1/webhooks', { key: TEST_API_KEY });
    const listB = await http<{ items: Endpoint[] }>(server, 'GET', '/v1/webhooks', { key: keyB });
    expect(listA.body.items.map((endpoint) => endpoint.id)).toEqual([endpointA.id]);
    expect(listB.body.items.map((endpoint) => endpoint.id)).toEqual([endpointB.id]);
  });

  it('other space endpoint answers 404', async () => {
    const foreign = `/v1/webhooks/${endpointB.id}`;
    expect((await http(server, 'GET', foreign, { key: TEST_API_KEY })).status).toBe(404);
    expect((await http(server, 'GET', `${foreign}/dead-letters`, { key: TEST_API_KEY })).status).toBe(404);
    expect((await http(server, 'DELETE', foreign, { key: TEST_API_KEY })).status).toBe(404);
    expect((await http(server, 'GET', `/v1/webhooks/${endpointB.id}`, { key: keyB })).status).toBe(200);
  });

  it('events and dead letters stay in their space', async () => {
    const sentA = await http<{ messageId: string }>(server, 'POST', '/v1/messages', {
      key: TEST_API_KEY,
      body: { body: 'For A', to: { phoneNumber: '+12025550101' }, rules: ['sms'] },
    });
    const sentB = await http<{ messageId: string }>(server, 'POST', '/v1/messages', {
      key: keyB,
      body: { body: 'For B', to: { phoneNumber: '+12025550104' }, rules: ['sms'] },
    });
    expect(sentA.status).toBe(201);
    expect(sentB.status).toBe(201);
    const messageA = sentA.body.messageId;
    const messageB = sentB.body.messageId;

    let deadB: Delivery[] = [];
    await vi.waitFor(async () => {
      expect(receiverA.accepted().map((request) => request.body.type)).toEqual(['message.sent', 'message.delivered']);
      const response = await http<{ items: Delivery[] }>(server, 'GET', `/v1/webhooks/${endpointB.id}/dead-letters`, { key: keyB });
      deadB = response.body.items;
      expect(deadB).toHaveLength(1);
    }, WAIT);

    expect(receiverA.requests.every((request) => request.body.data.messageId === messageA)).toBe(true);
    expect(receiverB.requests.every((request) => request.body.data.messageId === messageB)).toBe(true);
    expect(deadB[0]).toMatchObject({ messageId: messageB, status: 'dead' });

    // Every delivery of either endpoint, whatever its status, belongs to its own space's message.
    const allA = await server.store.webhooks.listDeliveries('default', endpointA.id, { limit: 100 });
    expect(allA.items.map((delivery) => delivery.messageId)).toEqual([messageA, messageA]);
    const foreignRead = await server.store.webhooks.listDeliveries('default', endpointB.id, { limit: 100 });
    expect(foreignRead.items).toEqual([]);

    // A's key can neither list nor replay B's dead letter.
    const replayForeign = await http(server, 'POST', `/v1/webhooks/${endpointB.id}/dead-letters/${deadB[0]!.id}/replay`, { key: TEST_API_KEY });
    expect(replayForeign.status).toBe(404);
    const replayAsA = await http(server, 'POST', `/v1/webhooks/${endpointA.id}/dead-letters/${deadB[0]!.id}/replay`, { key: TEST_API_KEY });
    expect(replayAsA.status).toBe(404);
    const replayOwn = await http(server, 'POST', `/v1/webhooks/${endpointB.id}/dead-letters/${deadB[0]!.id}/replay`, { key: keyB });
    expect(replayOwn.status).toBe(202);
  });

  it('no secret reaches the log', () => {
    const text = logs.lines.join('');
    expect(text).toContain('webhook endpoint created');
    expect(text).not.toContain(endpointA.secret!);
    expect(text).not.toContain(endpointB.secret!);
    expect(text).not.toContain(endpointA.secret!.slice('whsec_'.length));
  });
});
