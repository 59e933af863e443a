import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/ids.js';
import { call, countMessages, createTestApi, START, type TestApi } from './harness.js';

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  requestId: string;
  errors?: Array<{ pointer: string; detail: string }>;
}

interface MessageJson {
  messageId: string;
  status: string;
  statusDetails: string;
  channel: string | null;
  sentOn: string;
  completedAt: string | null;
  expiresOn: string | null;
  metadata: Record<string, unknown> | null;
  request: unknown;
  steps: Array<{
    index: number;
    channel: string;
    fallbackUnless: string;
    fallbackAfter: string | null;
    status: string;
    reason: string | null;
    attempts: unknown[];
  }>;
  events: Array<{ type: string }>;
}

const SEND = {
  body: 'Your parcel arrives today between 10:00 and 12:00',
  title: 'Delivery update',
  to: { profileId: 'cust-1042', phoneNumber: '12025550123', email: 'a@example.com' },
  rules: ['sms', { channel: 'email', fallbackAfter: 'PT10M' }],
  metadata: { orderId: '88121' },
};

let api: TestApi;

beforeEach(async () => {
  api = await createTestApi();
});

afterEach(async () => {
  await api.close();
});

describe('POST /v1/messages', () => {
  it('answers 201 with the message and the echoed request', async () => {
    const response = await call(api, 'POST', '/v1/messages', { body: SEND });
    expect(response.statusCode).toBe(201);
    const body = response.json<Record<string, unknown>>();
    expect(body.messageId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    expect(body.status).toBe('processing');
    expect(body.statusDetails).toBe('Accepted. Routing starts with step 1 (sms).');
    expect(body.sentOn).toBe(new Date(START).toISOString());
    expect(body.body).toBe(SEND.body);
    expect(body.title).toBe(SEND.title);
    expect(body.to).toEqual(SEND.to);
    expect(body.rules).toEqual(SEND.rules);
    expect(body.metadata).toEqual(SEND.metadata);
  });

  it('echoes every field of the request', async () => {
    const request = {
      ...SEND,
      to: { ...SEND.to, fbMessengerId: 'psid-1', loyaltyId: 'L-7' },
      rules: ['fbMessenger', 'sms'],
      customBody: { fbMessenger: { text: 'Hi', quick_replies: [{ content_type: 'text', title: 'OK', payload: 'ok' }] } },
      channelOptions: { sms: { from: 'ACME', allowUnicode: true } },
      conversationId: 'conv-1',
      sendAt: '2025-06-01T13:00:00Z',
      expiresOn: '2025-06-02T13:00:00Z',
      requireOptIn: false,
    };
    const response = await call(api, 'POST', '/v1/messages', { body: request });
    expect(response.statusCode).toBe(201);
    const { messageId, status, statusDetails, sentOn, ...echoed } = response.json<Record<string, unknown>>();
    expect([messageId, status, statusDetails, sentOn].every((value) => typeof value === 'string')).toBe(true);
    expect(echoed).toEqual(request);
  });

  it('stores the message with its steps and wakes the worker', async () => {
    const response = await call(api, 'POST', '/v1/messages', { body: SEND });
    const { messageId } = response.json<{ messageId: string }>();

    const view = await api.store.getMessage('default', messageId);
    expect(view?.status).toBe('processing');
    expect(view?.profileId).toBe('cust-1042');
    expect(view?.steps.map((step) => [step.channel, step.condition, step.fallbackAfterMs])).toEqual([
      ['sms', 'delivered', null],
      ['email', 'accepted', 600_000],
    ]);
    expect(api.wakeUps.count).toBe(1);
  });

  it('stores the addresses on the profile in E.164', async () => {
    await call(api, 'POST', '/v1/messages', { body: SEND });
    const response = await call(api, 'GET', '/v1/profiles/cust-1042');
    expect(response.statusCode).toBe(200);
    expect(response.json<{ addresses: unknown }>().addresses).toEqual({ phoneNumber: '+12025550123', email: 'a@example.com' });
  });

  it('accepts a profileId alone when the profile has addresses', async () => {
    await call(api, 'PUT', '/v1/profiles/cust-7', { body: { addresses: { phoneNumber: '+12025550107' } } });
    const response = await call(api, 'POST', '/v1/messages', { body: { body: 'Hi', to: { profileId: 'cust-7' }, rules: ['sms'] } });
    expect(response.statusCode).toBe(201);

    const loaded = await api.store.loadMessage('default', response.json<{ messageId: string }>().messageId);
    expect(loaded?.profile?.addresses.phoneNumber).toBe('+12025550107');
  });

  it('answers 400 problem+json with pointers and writes nothing', async () => {
    const response = await call(api, 'POST', '/v1/messages', {
      body: { ...SEND, to: { phoneNumber: '020 7946 0018' }, rules: [{ channel: 'sms', fallbackUnless: 'read' }] },
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = response.json<Problem>();
    expect(problem.type).toBe('urn:cascade:problem:invalid-request');
    expect(problem.status).toBe(400);
    expect(problem.errors?.map((error) => error.pointer).sort()).toEqual(['/rules/0/fallbackUnless', '/to/phoneNumber']);
    expect(await countMessages(api.store)).toBe(0);
    expect(await api.store.getProfile('default', 'cust-1042')).toBeNull();
    expect(api.wakeUps.count).toBe(0);
  });

  it('answers 400 for bad native bodies and writes nothing', async () => {
    const response = await call(api, 'POST', '/v1/messages', {
      body: {
        ...SEND,
        to: { ...SEND.to, fbMessengerId: 'psid-1' },
        rules: ['whatsApp', 'fbMessenger', 'sms'],
        customBody: {
          whatsApp: { type: 'template', template: { name: 'parcel_shipped' } },
          fbMessenger: { text: 'Hi', attachment: { type: 'image', payload: { url: 'https://example.com/a.png' } } },
        },
      },
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = response.json<Problem>();
    expect(problem.type).toBe('urn:cascade:problem:invalid-request');
    expect(problem.errors?.map((error) => error.pointer)).toEqual(['/customBody/whatsApp/template/language', '/customBody/fbMessenger']);
    expect(await countMessages(api.store)).toBe(0);
    expect(await api.store.getProfile('default', 'cust-1042')).toBeNull();
    expect(api.wakeUps.count).toBe(0);
  });

  it('answers 201 for a WhatsApp template', async () => {
    const template = { type: 'template', template: { name: 'parcel_shipped', language: { code: 'en_US' }, components: [{ type: 'body', parameters: [{ type: 'text', text: '88121' }] }] } };
    const response = await call(api, 'POST', '/v1/messages', { body: { ...SEND, rules: ['whatsApp', 'sms'], customBody: { whatsApp: template } } });
    expect(response.statusCode).toBe(201);
    expect(response.json<{ customBody: unknown }>().customBody).toEqual({ whatsApp: template });
    expect(await countMessages(api.store)).toBe(1);
  });

  it('answers 400 naming unknown fields and writes nothing', async () => {
    const response = await call(api, 'POST', '/v1/messages', { body: { ...SEND, priority: 'high', channel: 'sms' } });
    expect(response.statusCode).toBe(400);
    const pointers = response.json<Problem>().errors?.map((error) => error.pointer);
    expect(pointers).toEqual(['/priority', '/channel']);
    expect(await countMessages(api.store)).toBe(0);
  });

  it('normalises national numbers with a default region', async () => {
    await api.close();
    api = await createTestApi({ defaultRegion: 'GB' });
    const response = await call(api, 'POST', '/v1/messages', { body: { body: 'Hi', to: { phoneNumber: '020 7946 0018' }, rules: ['sms'] } });
    expect(response.statusCode).toBe(201);
    const view = await api.store.loadMessage('default', response.json<{ messageId: string }>().messageId);
    expect(view?.to.phoneNumber).toBe('+442079460018');
  });

  it('describes a scheduled message', async () => {
    const response = await call(api, 'POST', '/v1/messages', { body: { ...SEND, sendAt: '2025-06-01T18:00:00Z' } });
    expect(response.json<{ statusDetails: string }>().statusDetails).toBe(
      'Scheduled. Routing starts at 2025-06-01T18:00:00.000Z with step 1 (sms).',
    );
  });
});

describe('GET /v1/messages/{id}', () => {
  it('returns the message view', async () => {
    const sent = await call(api, 'POST', '/v1/messages', { body: { ...SEND, expiresOn: '2025-06-02T12:00:00Z' } });
    const { messageId } = sent.json<{ messageId: string }>();

    const response = await call(api, 'GET', `/v1/messages/${messageId}`);
    expect(response.statusCode).toBe(200);
    const view = response.json<MessageJson>();
    expect(view.messageId).toBe(messageId);
    expect(view.status).toBe('processing');
    expect(view.channel).toBeNull();
    expect(view.completedAt).toBeNull();
    expect(view.sentOn).toBe('2025-06-01T12:00:00.000Z');
    expect(view.expiresOn).toBe('2025-06-02T12:00:00.000Z');
    expect(view.metadata).toEqual({ orderId: '88121' });
    expect(view.request).toEqual({ ...SEND, expiresOn: '2025-06-02T12:00:00Z' });
    expect(view.steps).toEqual([
      { index: 0, channel: 'sms', fallbackUnless: 'delivered', fallbackAfter: null, status: 'pending', reason: null, startedAt: null, endedAt: null, attempts: [] },
      { index: 1, channel: 'email', fallbackUnless: 'accepted', fallbackAfter: 'PT10M', status: 'pending', reason: null, startedAt: null, endedAt: null, attempts: [] },
    ]);
  });

  it('answers 404 problem for an unknown id', async () => {
    const id = uuidv7();
    const response = await call(api, 'GET', `/v1/messages/${id}`);
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json<Problem>().detail).toBe(`Message ${id} was not found.`);
  });

  it('answers 404 for a message of another space', async () => {
    const id = uuidv7(START);
    await api.store.createMessages([
      {
        id,
        spaceId: 'other-space',
        profileId: null,
        to: { phoneNumber: '+12025550123' },
        content: { body: 'Hi', title: null, customBody: {}, channelOptions: {} },
        metadata: null,
        conversationId: null,
        steps: [{ channel: 'sms', condition: 'delivered', fallbackAfterMs: null }],
        expiresAt: null,
        sendAt: null,
        createdAt: START,
        request: {},
      },
    ]);
    const response = await call(api, 'GET', `/v1/messages/${id}`);
    expect(response.statusCode).toBe(404);
  });

  it('shows per-step reasons once routing has failed', async () => {
    await api.close();
    // No channel is configured, so the worker skips every step and fails the message.
    api = await createTestApi({ runWorker: true });
    const sent = await call(api, 'POST', '/v1/messages', { body: SEND });
    const { messageId } = sent.json<{ messageId: string }>();

    let view: MessageJson | null = null;
    for (let tries = 0; tries < 200; tries++) {
      view = (await call(api, 'GET', `/v1/messages/${messageId}`)).json<MessageJson>();
      if (view.completedAt !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(view?.status).toBe('failed');
    expect(view?.completedAt).not.toBeNull();
    expect(view?.steps.map((step) => [step.status, step.reason])).toEqual([
      ['skipped', 'channel-not-configured'],
      ['skipped', 'channel-not-configured'],
    ]);
    expect(view?.statusDetails).toBe(
      'No step succeeded. Step 1 (sms) was skipped: the channel is not configured. Step 2 (email) was skipped: the channel is not configured.',
    );
    expect(view?.events.length).toBeGreaterThan(0);
  });
});

describe('GET /v1/messages', () => {
  async function sendMany(count: number, profileId: string): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      api.clock.now = START + i * 1000;
      const response = await call(api, 'POST', '/v1/messages', { body: { ...SEND, to: { profileId, phoneNumber: '+12025550123' } } });
      ids.push(response.json<{ messageId: string }>().messageId);
    }
    return ids;
  }

  it('pages through messages newest first with a cursor', async () => {
    const ids = await sendMany(5, 'cust-1');

    const first = await call(api, 'GET', '/v1/messages?limit=2');
    expect(first.statusCode).toBe(200);
    const page1 = first.json<{ items: MessageJson[]; nextCursor: string | null }>();
    expect(page1.items.map((item) => item.messageId)).toEqual([ids[4], ids[3]]);
    expect(page1.nextCursor).not.toBeNull();

    const second = await call(api, 'GET', `/v1/messages?limit=2&cursor=${encodeURIComponent(page1.nextCursor ?? '')}`);
    const page2 = second.json<{ items: MessageJson[]; nextCursor: string | null }>();
    expect(page2.items.map((item) => item.messageId)).toEqual([ids[2], ids[1]]);

    const third = await call(api, 'GET', `/v1/messages?limit=2&cursor=${encodeURIComponent(page2.nextCursor ?? '')}`);
    const page3 = third.json<{ items: MessageJson[]; nextCursor: string | null }>();
    expect(page3.items.map((item) => item.messageId)).toEqual([ids[0]]);
    expect(page3.nextCursor).toBeNull();
  });

  it('filters by profileId, status and since', async () => {
    const ids = await sendMany(3, 'cust-1');
    const other = await sendMany(1, 'cust-2');

    const byProfile = await call(api, 'GET', '/v1/messages?profileId=cust-2');
    expect(byProfile.json<{ items: MessageJson[] }>().items.map((item) => item.messageId)).toEqual(other);

    const since = new Date(START + 1000).toISOString();
    const bySince = await call(api, 'GET', `/v1/messages?profileId=cust-1&since=${since}`);
    expect(bySince.json<{ items: MessageJson[] }>().items.map((item) => item.messageId)).toEqual([ids[2], ids[1]]);

    const byStatus = await call(api, 'GET', '/v1/messages?status=delivered');
    expect(byStatus.json<{ items: MessageJson[] }>().items).toEqual([]);
  });

  it('answers 400 for bad query parameters', async () => {
    const response = await call(api, 'GET', '/v1/messages?limit=0&status=lost&since=yesterday');
    expect(response.statusCode).toBe(400);
    const pointers = response.json<Problem>().errors?.map((error) => error.pointer).sort();
    expect(pointers).toEqual(['/limit', '/since', '/status']);
  });

  it('answers 400 for a cursor it did not issue', async () => {
    const response = await call(api, 'GET', '/v1/messages?cursor=not-a-cursor');
    expect(response.statusCode).toBe(400);
    expect(response.json<Problem>().errors?.[0]?.pointer).toBe('/cursor');
  });
});

describe('POST /v1/messages/{id}/cancel', () => {
  it('cancels an unfinished message', async () => {
    const sent = await call(api, 'POST', '/v1/messages', { body: SEND });
    const { messageId } = sent.json<{ messageId: string }>();

    const response = await call(api, 'POST', `/v1/messages/${messageId}/cancel`);
    expect(response.statusCode).toBe(200);
    const view = response.json<MessageJson>();
    expect(view.status).toBe('cancelled');
    expect(view.completedAt).not.toBeNull();
    expect((await api.store.getMessage('default', messageId))?.status).toBe('cancelled');
  });

  it('accepts an empty body sent as JSON', async () => {
    const sent = await call(api, 'POST', '/v1/messages', { body: SEND });
    const { messageId } = sent.json<{ messageId: string }>();
    const response = await call(api, 'POST', `/v1/messages/${messageId}/cancel`, { headers: { 'content-type': 'application/json' } });
    expect(response.statusCode).toBe(200);
  });

  it('answers 409 for a final message', async () => {
    const sent = await call(api, 'POST', '/v1/messages', { body: SEND });
    const { messageId } = sent.json<{ messageId: string }>();
    await call(api, 'POST', `/v1/messages/${messageId}/cancel`);

    const response = await call(api, 'POST', `/v1/messages/${messageId}/cancel`);
    expect(response.statusCode).toBe(409);
    const problem = response.json<Problem>();
    expect(problem.type).toBe('urn:cascade:problem:message-final');
    expect(problem.detail).toContain('already final with status cancelled');
  });

  it('answers 404 for an unknown message', async () => {
    const response = await call(api, 'POST', `/v1/messages/${uuidv7()}/cancel`);
    expect(response.statusCode).toBe(404);
  });
});
