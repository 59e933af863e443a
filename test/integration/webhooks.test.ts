import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ServerOptions } from '../../src/server.js';
import { api, startTestServer, waitForMessage, type TestServer } from '../helpers/server.js';
import { TestReceiver, type ReceivedWebhook } from '../webhooks/receiver.js';

interface Endpoint { id: string; url: string; events: string[]; description: string | null; createdAt: string; secret?: string }
interface Delivery {
  id: string;
  type: string;
  status: string;
  messageId: string | null;
  sequence: number | null;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  payload: { type: string; data: Record<string, unknown> };
}
interface MessageEvent { seq: number; type: string; step: number | null; attempt: number | null; data: Record<string, unknown> }
interface MessageBody { messageId: string; status: string; completedAt: string | null; events: MessageEvent[] }

const ALL_EVENTS = ['message.sent', 'message.delivered', 'message.read', 'message.failed', 'message.expired', 'message.fallback', 'message.inbound'];
const WAIT = { timeout: 15_000, interval: 50 };
/** Retries within milliseconds, so that every try of a delivery happens during the test. */
const FAST_RETRY: ServerOptions['webhooks'] = {
  retry: { initialDelayMs: 20, maxDelayMs: 100, maxAttempts: 4, jitter: 0 },
  pollMs: 20,
  idleMs: 50,
};

describe('status webhooks over real sockets', () => {
  const cleanups: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function startServer(env: Record<string, string> = {}): Promise<TestServer> {
    const server = await startTestServer(env, { webhooks: FAST_RETRY });
    cleanups.push(() => server.dispose());
    return server;
  }

  async function startReceiver(respond?: (index: number) => number): Promise<TestReceiver> {
    const receiver = await TestReceiver.start(respond === undefined ? {} : { respond });
    cleanups.push(() => receiver.close());
    return receiver;
  }

  /** Registers `receiver` for `events` and gives it the secret. */
  async function register(server: TestServer, receiver: TestReceiver, events: string[] = ALL_EVENTS): Promise<Endpoint> {
    const created = await api<Endpoint>(server, 'POST', '/v1/webhooks', { url: receiver.url, events, description: 'test receiver' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    receiver.secret = created.body.secret!;
    return created.body;
  }

  async function send(server: TestServer, request: Record<string, unknown>): Promise<string> {
    const created = await api<MessageBody>(server, 'POST', '/v1/messages', request);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body.messageId;
  }

  function eventsOf(receiver: TestReceiver, messageId: string): ReceivedWebhook[] {
    return receiver.accepted().filter((request) => request.body.data.messageId === messageId);
  }

  async function deadLetters(server: TestServer, endpointId: string): Promise<Delivery[]> {
    const response = await api<{ items: Delivery[]; nextCursor: string | null }>(server, 'GET', `/v1/webhooks/${endpointId}/dead-letters`);
    expect(response.status).toBe(200);
    return response.body.items;
  }

  it('endpoint secret is shown once', async () => {
    const server = await startServer();
    const receiver = await startReceiver();
    const endpoint = await register(server, receiver, ['message.delivered', 'message.sent']);

    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(endpoint.events).toEqual(['message.sent', 'message.delivered']);
    expect(endpoint.description).toBe('test receiver');

    const read = await api<Endpoint>(server, 'GET', `/v1/webhooks/${endpoint.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual({ id: endpoint.id, url: receiver.url, events: ['message.sent', 'message.delivered'], description: 'test receiver', createdAt: endpoint.createdAt });

    const list = await api<{ items: Endpoint[] }>(server, 'GET', '/v1/webhooks');
    expect(list.body.items).toEqual([read.body]);
    expect(JSON.stringify(list.body)).not.toContain(endpoint.secret);
  });

  it('rejects bad endpoint input by pointer', async () => {
    const server = await startServer();
    const cases: Array<[unknown, string]> = [
      [{ url: 'ftp://example.com/hook', events: ['message.sent'] }, '/url'],
      [{ url: 'not a url', events: ['message.sent'] }, '/url'],
      [{ url: 'https://user:pw@example.com/hook', events: ['message.sent'] }, '/url'],
      [{ url: `https://example.com/${'a'.repeat(2048)}`, events: ['message.sent'] }, '/url'],
      [{ url: 'https://example.com/hook', events: ['message.sent', 'message.bounced'] }, '/events/1'],
      [{ url: 'https://example.com/hook', events: [] }, '/events'],
      [{ url: 'https://example.com/hook', events: ['message.sent'], extra: 1 }, '/extra'],
    ];
    for (const [body, pointer] of cases) {
      const response = await api<{ errors: Array<{ pointer: string; detail: string }> }>(server, 'POST', '/v1/webhooks', body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.contentType).toContain('application/problem+json');
      expect(response.body.errors.map((error) => error.pointer), JSON.stringify(body)).toContain(pointer);
    }
    const list = await api<{ items: Endpoint[] }>(server, 'GET', '/v1/webhooks');
    expect(list.body.items).toEqual([]);
  });

  it('delivers signed events in sequence order', async () => {
    const server = await startServer();
    const receiver = await startReceiver();
    await register(server, receiver);

    const delivered = await send(server, {
      body: 'Your code is 4417',
      to: { phoneNumber: '+12025550101' },
      rules: ['sms'],
      metadata: { orderId: '88121' },
    });
    const fellBack = await send(server, {
      body: 'Your parcel ships today',
      title: 'Parcel',
      to: { phoneNumber: '+12025550102', email: 'ada@example.com' },
      rules: ['sms', 'email'],
      metadata: { orderId: '88122' },
    });
    const rejected = await send(server, { body: 'Hello', to: { phoneNumber: '+12025550104' }, rules: ['sms'] });

    await vi.waitFor(() => {
      expect(eventsOf(receiver, delivered).map((request) => request.body.type)).toEqual(['message.sent', 'message.delivered']);
      expect(eventsOf(receiver, fellBack).map((request) => request.body.type)).toEqual(['message.sent', 'message.fallback', 'message.sent']);
      expect(eventsOf(receiver, rejected).map((request) => request.body.type)).toEqual(['message.failed']);
    }, WAIT);

    expect(receiver.requests.every((request) => request.verified)).toBe(true);
    const ids = receiver.requests.map((request) => request.id);
    expect(new Set(ids).size).toBe(ids.length);

    for (const messageId of [delivered, fellBack, rejected]) {
      const received = eventsOf(receiver, messageId);
      const sequences = received.map((request) => request.body.data.sequence as number);
      expect(sequences, messageId).toEqual([...sequences].sort((a, b) => a - b));

      // Each webhook names the timeline event it was built from.
      const message = await waitForMessage<MessageBody>(server, messageId);
      for (const request of received) {
        const event = message.events.find((candidate) => candidate.seq === request.body.data.sequence);
        expect(event, JSON.stringify(request.body)).toBeDefined();
        expect(request.body.data.step).toBe(event!.step);
        expect(request.body.data.attempt).toBe(event!.attempt);
      }
    }

    const [sent, deliveredEvent] = eventsOf(receiver, delivered).map((request) => request.body);
    expect(sent!.data).toMatchObject({ messageId: delivered, status: 'sent', step: 0, attempt: 1, channel: 'sms', metadata: { orderId: '88121' } });
    expect(sent!.data.providerMessageId).toEqual(expect.any(String));
    expect(deliveredEvent!.data).toMatchObject({
      messageId: delivered,
      status: 'delivered',
      channel: 'sms',
      providerMessageId: sent!.data.providerMessageId,
      metadata: { orderId: '88121' },
    });
    expect(deliveredEvent!.data.providerTimestamp).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT/));
    expect(Date.parse(deliveredEvent!.timestamp)).not.toBeNaN();

    const [smsSent, fallback, emailSent] = eventsOf(receiver, fellBack).map((request) => request.body.data);
    expect(smsSent).toMatchObject({ channel: 'sms', step: 0, metadata: { orderId: '88122' } });
    expect(fallback).toMatchObject({ status: 'processing', step: 1, channel: 'email', fromStep: 0, fromChannel: 'sms', reason: 'receipt-failed', metadata: { orderId: '88122' } });
    expect(emailSent).toMatchObject({ status: 'sent', step: 1, attempt: 1, channel: 'email', metadata: { orderId: '88122' } });

    const [failed] = eventsOf(receiver, rejected).map((request) => request.body.data);
    expect(failed).toMatchObject({ status: 'failed', metadata: null });
  });

  it('sends only subscribed event types', async () => {
    const server = await startServer();
    const everything = await startReceiver();
    const deliveriesOnly = await startReceiver();
    await register(server, everything);
    await register(server, deliveriesOnly, ['message.delivered']);

    const messageId = await send(server, { body: 'Hi', to: { phoneNumber: '+12025550101' }, rules: ['sms'] });
    await vi.waitFor(() => {
      expect(eventsOf(everything, messageId)).toHaveLength(2);
      expect(eventsOf(deliveriesOnly, messageId)).toHaveLength(1);
    }, WAIT);
    expect(deliveriesOnly.requests.map((request) => request.body.type)).toEqual(['message.delivered']);
  });

  it('recovered receiver gets every event', async () => {
    const server = await startServer();
    // The first three requests fail, and each delivery has four tries.
    const receiver = await startReceiver((index) => (index < 3 ? 500 : 200));
    const endpoint = await register(server, receiver);

    const messages = [
      await send(server, { body: 'One', to: { phoneNumber: '+12025550101' }, rules: ['sms'], metadata: { n: 1 } }),
      await send(server, { body: 'Two', to: { phoneNumber: '+12025550102', email: 'two@example.com' }, rules: ['sms', 'email'], metadata: { n: 2 } }),
    ];
    await vi.waitFor(() => {
      expect(eventsOf(receiver, messages[0]!).map((request) => request.body.type)).toEqual(['message.sent', 'message.delivered']);
      expect(eventsOf(receiver, messages[1]!).map((request) => request.body.type)).toEqual(['message.sent', 'message.fallback', 'message.sent']);
    }, WAIT);

    expect(receiver.requests.filter((request) => request.status === 500)).toHaveLength(3);
    // A retried delivery keeps its webhook-id.
    const failedIds = receiver.requests.filter((request) => request.status === 500).map((request) => request.id);
    const acceptedIds = new Set(receiver.accepted().map((request) => request.id));
    for (const id of failedIds) expect(acceptedIds.has(id)).toBe(true);
    expect(await deadLetters(server, endpoint.id)).toEqual([]);
  });

  it('dead letter is listed and replayed', async () => {
    const server = await startServer();
    let down = true;
    const receiver = await startReceiver(() => (down ? 503 : 200));
    const endpoint = await register(server, receiver, ['message.failed']);

    const messageId = await send(server, { body: 'Hello', to: { phoneNumber: '+12025550104' }, rules: ['sms'], metadata: { orderId: 'x1' } });
    let dead: Delivery[] = [];
    await vi.waitFor(async () => {
      dead = await deadLetters(server, endpoint.id);
      expect(dead).toHaveLength(1);
    }, WAIT);

    const [letter] = dead;
    expect(letter).toMatchObject({ type: 'message.failed', status: 'dead', messageId, attempts: 4, lastStatus: 503, lastError: 'HTTP 503' });
    expect(letter!.payload.data).toMatchObject({ messageId, status: 'failed', metadata: { orderId: 'x1' } });
    expect(receiver.requests.map((request) => request.id)).toEqual([letter!.id, letter!.id, letter!.id, letter!.id]);

    down = false;
    const replayed = await api<Delivery>(server, 'POST', `/v1/webhooks/${endpoint.id}/dead-letters/${letter!.id}/replay`);
    expect(replayed.status).toBe(202);
    expect(replayed.body).toMatchObject({ id: letter!.id, status: 'pending', attempts: 0 });

    await vi.waitFor(() => expect(receiver.accepted().map((request) => request.id)).toEqual([letter!.id]), WAIT);
    expect(receiver.accepted()[0]!.body.data.messageId).toBe(messageId);
    expect(await deadLetters(server, endpoint.id)).toEqual([]);

    const again = await api(server, 'POST', `/v1/webhooks/${endpoint.id}/dead-letters/${letter!.id}/replay`);
    expect(again.status).toBe(409);
    const unknown = await api(server, 'POST', `/v1/webhooks/${endpoint.id}/dead-letters/00000000-0000-7000-8000-000000000000/replay`);
    expect(unknown.status).toBe(404);
  });

  it('unreachable receiver leaves dead letters', async () => {
    const server = await startServer();
    // A port that was just freed: connections to it are refused.
    const closed = await TestReceiver.start();
    const url = closed.url;
    await closed.close();
    const created = await api<Endpoint>(server, 'POST', '/v1/webhooks', { url, events: ['message.sent', 'message.delivered'] });
    expect(created.status).toBe(201);

    const messageId = await send(server, { body: 'Hi', to: { phoneNumber: '+12025550101' }, rules: ['sms'] });
    let dead: Delivery[] = [];
    await vi.waitFor(async () => {
      dead = await deadLetters(server, created.body.id);
      expect(dead).toHaveLength(2);
    }, WAIT);

    // Newest first.
    expect(dead.map((letter) => letter.type)).toEqual(['message.delivered', 'message.sent']);
    for (const letter of dead) {
      expect(letter).toMatchObject({ messageId, status: 'dead', attempts: 4, lastStatus: null });
      expect(letter.lastError).toContain('ECONNREFUSED');
    }
  });

  it('deleted endpoint gets nothing more', async () => {
    const server = await startServer();
    const receiver = await startReceiver();
    const endpoint = await register(server, receiver);

    const deleted = await api(server, 'DELETE', `/v1/webhooks/${endpoint.id}`);
    expect(deleted.status).toBe(204);
    expect((await api(server, 'GET', `/v1/webhooks/${endpoint.id}`)).status).toBe(404);
    expect((await api(server, 'DELETE', `/v1/webhooks/${endpoint.id}`)).status).toBe(404);
    expect((await api(server, 'GET', `/v1/webhooks/${endpoint.id}/dead-letters`)).status).toBe(404);

    // A second endpoint shows when the message's events were fanned out.
    const witness = await startReceiver();
    await register(server, witness, ['message.delivered']);
    const messageId = await send(server, { body: 'Hi', to: { phoneNumber: '+12025550101' }, rules: ['sms'] });
    await vi.waitFor(() => expect(eventsOf(witness, messageId)).toHaveLength(1), WAIT);
    expect(receiver.requests).toEqual([]);
  });

  it('inbound message reaches subscribers', async () => {
    const server = await startServer({ META_APP_SECRET: 'webhooks-test-app-secret' });
    const receiver = await startReceiver();
    await register(server, receiver, ['message.inbound']);

    const graph = server.sandbox.graph!;
    const response = await fetch(`${graph.url}/sandbox/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'whatsApp', from: '12025550111', text: 'Where is my parcel?' }),
    });
    expect(response.status).toBe(202);

    await vi.waitFor(() => expect(receiver.accepted()).toHaveLength(1), WAIT);
    const [inbound] = receiver.accepted();
    expect(inbound!.body.type).toBe('message.inbound');
    expect(inbound!.body.data).toMatchObject({ channel: 'whatsApp', from: '+12025550111', text: 'Where is my parcel?' });
    expect(inbound!.body.data.providerMessageId).toEqual(expect.stringMatching(/^wamid\./));
  });
});
