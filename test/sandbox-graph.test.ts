import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMetaWebhook, verifyMetaSignature } from '../src/channels/meta/index.js';
import { startSandboxGraph, type SandboxGraph } from '../src/sandbox/graph.js';
import { startWebhookRecorder, type RecordedWebhook, type WebhookRecorder } from '../src/sandbox/graph-recorder.js';

const logger = pino({ level: 'silent' });
const APP_SECRET = 'sandbox-app-secret';
const WHATSAPP_TOKEN = 'sandbox-whatsapp-token';
const PAGE_TOKEN = 'sandbox-page-token';
const PAGE_ID = '100000000000002';

let graph: SandboxGraph;
let recorder: WebhookRecorder;

beforeAll(async () => {
  recorder = await startWebhookRecorder();
  graph = await startSandboxGraph({
    appSecret: APP_SECRET,
    token: WHATSAPP_TOKEN,
    pageToken: PAGE_TOKEN,
    logger,
    statusDelayMs: 50,
    readDelayMs: 100,
    webhookRetryDelayMs: 50,
  });
  graph.setWebhookUrl(recorder.url);
});

afterAll(async () => {
  await graph.close();
  await recorder.close();
});

interface JsonResponse {
  status: number;
  body: Record<string, unknown>;
}

async function postJson(path: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonResponse> {
  const response = await fetch(`${graph.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function sendMessenger(psid: string, token = PAGE_TOKEN): Promise<JsonResponse> {
  return postJson(`/v21.0/me/messages?access_token=${encodeURIComponent(token)}`, {
    recipient: { id: psid },
    messaging_type: 'UPDATE',
    message: { text: 'Your parcel arrives today.' },
  });
}

type MessagingEvent = {
  sender: { id: string };
  recipient: { id: string };
  timestamp: number;
  delivery?: { mids: string[]; watermark: number };
  read?: { watermark: number };
  message?: { mid: string; text: string };
};

function messagingEvent(webhook: RecordedWebhook): MessagingEvent | undefined {
  const body = webhook.json as { object?: string; entry?: Array<{ messaging?: MessagingEvent[] }> } | null;
  return body?.object === 'page' ? body.entry?.[0]?.messaging?.[0] : undefined;
}

function whatsAppValue(webhook: RecordedWebhook): Record<string, unknown> | undefined {
  const body = webhook.json as { object?: string; entry?: Array<{ changes?: Array<{ field: string; value: Record<string, unknown> }> }> } | null;
  return body?.object === 'whatsapp_business_account' ? body.entry?.[0]?.changes?.[0]?.value : undefined;
}

describe('sandbox Graph API: Messenger', () => {
  it('delivers and reads psid-delivered with watermarks', async () => {
    const sent = await sendMessenger('psid-delivered');
    expect(sent.status).toBe(200);
    expect(sent.body['recipient_id']).toBe('psid-delivered');
    const mid = sent.body['message_id'] as string;
    expect(mid).toMatch(/^m_/);

    const delivery = await recorder.waitFor((webhook) => messagingEvent(webhook)?.delivery?.mids.includes(mid) === true);
    const deliveryEvent = messagingEvent(delivery);
    expect(deliveryEvent?.sender.id).toBe('psid-delivered');
    expect(deliveryEvent?.recipient.id).toBe(PAGE_ID);
    expect(typeof deliveryEvent?.delivery?.watermark).toBe('number');
    expect(verifyMetaSignature(delivery.raw, delivery.signature, APP_SECRET)).toBe(true);

    const deliveryWatermark = deliveryEvent?.delivery?.watermark ?? 0;
    const read = await recorder.waitFor((webhook) => {
      const event = messagingEvent(webhook);
      return event?.sender.id === 'psid-delivered' && event.read !== undefined && event.read.watermark >= deliveryWatermark;
    });
    expect(verifyMetaSignature(read.raw, read.signature, APP_SECRET)).toBe(true);

    const parsedDelivery = parseMetaWebhook(delivery.json);
    expect(parsedDelivery.skipped).toEqual([]);
    expect(parsedDelivery.items).toEqual([
      expect.objectContaining({ kind: 'watermark', state: 'delivered', psid: 'psid-delivered', pageId: PAGE_ID, mids: [mid] }),
    ]);
    const parsedRead = parseMetaWebhook(read.json);
    expect(parsedRead.items).toEqual([expect.objectContaining({ kind: 'watermark', state: 'read', psid: 'psid-delivered' })]);
  });

  it('delivers other PSIDs without read', async () => {
    const sent = await sendMessenger('psid-other-1');
    expect(sent.status).toBe(200);
    const mid = sent.body['message_id'] as string;
    await recorder.waitFor((webhook) => messagingEvent(webhook)?.delivery?.mids.includes(mid) === true);
    const record = graph.requests().find((candidate) => candidate.providerMessageId === mid);
    expect(record).toEqual(expect.objectContaining({ channel: 'fbMessenger', path: '/v21.0/me/messages', to: 'psid-other-1', status: 200 }));
  });

  it('rejects psid-unavailable with error 551', async () => {
    const sent = await sendMessenger('psid-unavailable');
    expect(sent.status).toBe(400);
    const error = sent.body['error'] as Record<string, unknown>;
    expect(error['code']).toBe(551);
    expect(error['error_subcode']).toBe(1545041);
    expect(error['message']).toBe("(#551) This person isn't available right now.");
    expect(typeof error['fbtrace_id']).toBe('string');
  });

  it('rejects wrong or missing page token', async () => {
    const wrong = await sendMessenger('psid-delivered', 'not-the-page-token');
    expect(wrong.status).toBe(401);
    expect((wrong.body['error'] as Record<string, unknown>)['code']).toBe(190);

    const missing = await postJson('/v21.0/me/messages', { recipient: { id: 'psid-delivered' }, messaging_type: 'UPDATE', message: { text: 'Hi' } });
    expect(missing.status).toBe(401);
    expect(graph.requests().at(-1)?.path).toBe('/v21.0/me/messages');
  });

  it('accepts page token as bearer', async () => {
    const sent = await postJson(
      '/v21.0/me/messages',
      { recipient: { id: 'psid-other-2' }, messaging_type: 'RESPONSE', message: { text: 'Hi' } },
      { authorization: `Bearer ${PAGE_TOKEN}` },
    );
    expect(sent.status).toBe(200);
  });

  const invalidSends: Array<[string, unknown]> = [
    ['without messaging_type', { recipient: { id: 'psid-delivered' }, message: { text: 'Hi' } }],
    ['without recipient', { messaging_type: 'UPDATE', message: { text: 'Hi' } }],
    ['with text and attachment', { recipient: { id: 'p' }, messaging_type: 'UPDATE', message: { text: 'Hi', attachment: { type: 'image', payload: {} } } }],
    ['with text over 2000 characters', { recipient: { id: 'p' }, messaging_type: 'UPDATE', message: { text: 'x'.repeat(2001) } }],
    ['with MESSAGE_TAG but no tag', { recipient: { id: 'p' }, messaging_type: 'MESSAGE_TAG', message: { text: 'Hi' } }],
    ['that is not JSON', '{"recipient":'],
  ];

  it.each(invalidSends)('rejects a send %s with code 100', async (_case, body) => {
    const sent = await postJson(`/v21.0/me/messages?access_token=${PAGE_TOKEN}`, body);
    expect(sent.status).toBe(400);
    expect((sent.body['error'] as Record<string, unknown>)['code']).toBe(100);
  });
});

describe('sandbox Graph API: WhatsApp requests', () => {
  it('rejects a missing bearer token', async () => {
    const sent = await postJson('/v21.0/100000000000002/messages', { messaging_product: 'whatsapp', to: '12025550111', type: 'text', text: { body: 'Hi' } });
    expect(sent.status).toBe(401);
    const error = sent.body['error'] as Record<string, unknown>;
    expect(error['code']).toBe(190);
    expect(error['type']).toBe('OAuthException');
  });

  it('rejects missing messaging_product', async () => {
    const sent = await postJson('/v21.0/100000000000002/messages', { to: '12025550111', type: 'template', template: { name: 'x', language: { code: 'en' } } }, { authorization: `Bearer ${WHATSAPP_TOKEN}` });
    expect(sent.status).toBe(400);
    const error = sent.body['error'] as { code: number; error_data: { messaging_product: string; details: string } };
    expect(error.code).toBe(100);
    expect(error.error_data.messaging_product).toBe('whatsapp');
    expect(error.error_data.details).toContain('messaging_product');
  });

  it('returns the documented response shape', async () => {
    const sent = await postJson(
      '/v21.0/100000000000002/messages',
      { messaging_product: 'whatsapp', to: '+12025550131', type: 'template', template: { name: 'x', language: { code: 'en' } } },
      { authorization: `Bearer ${WHATSAPP_TOKEN}` },
    );
    expect(sent.status).toBe(200);
    expect(sent.body['messaging_product']).toBe('whatsapp');
    expect(sent.body['contacts']).toEqual([{ input: '+12025550131', wa_id: '12025550131' }]);
    expect((sent.body['messages'] as Array<{ id: string }>)[0]?.id).toMatch(/^wamid\./);
  });

  it('rejects unknown paths with 2500', async () => {
    const sent = await postJson('/v21.0/100000000000002/media', {}, { authorization: `Bearer ${WHATSAPP_TOKEN}` });
    expect(sent.status).toBe(404);
    expect((sent.body['error'] as Record<string, unknown>)['code']).toBe(2500);
  });
});

describe('sandbox Graph API: inbound messages', () => {
  it('WhatsApp inbound is signed, opens window', async () => {
    const before = graph.webhooksSent();
    const posted = await postJson('/sandbox/inbound', { channel: 'whatsApp', from: '+1 202 555 0141', text: 'Where is my parcel?' });
    expect(posted.status).toBe(202);
    const messageId = posted.body['messageId'] as string;

    const webhook = await recorder.waitFor((candidate) => {
      const messages = whatsAppValue(candidate)?.['messages'] as Array<{ id: string }> | undefined;
      return messages?.[0]?.id === messageId;
    });
    expect(verifyMetaSignature(webhook.raw, webhook.signature, APP_SECRET)).toBe(true);
    const value = whatsAppValue(webhook);
    expect(value?.['messages']).toEqual([
      { from: '12025550141', id: messageId, timestamp: expect.stringMatching(/^\d+$/), type: 'text', text: { body: 'Where is my parcel?' } },
    ]);
    expect(value?.['contacts']).toEqual([expect.objectContaining({ wa_id: '12025550141' })]);
    expect(value?.['metadata']).toEqual({ display_phone_number: '15550001234', phone_number_id: '100000000000001' });
    await expect.poll(() => graph.webhooksSent()).toBeGreaterThan(before);

    const parsed = parseMetaWebhook(webhook.json);
    expect(parsed.items).toEqual([expect.objectContaining({ kind: 'inbound', channel: 'whatsApp', from: '+12025550141', text: 'Where is my parcel?' })]);

    const text = await postJson(
      '/v21.0/100000000000002/messages',
      { messaging_product: 'whatsapp', to: '12025550141', type: 'text', text: { body: 'On its way.' } },
      { authorization: `Bearer ${WHATSAPP_TOKEN}` },
    );
    expect(text.status).toBe(200);
  });

  it('sends a signed Messenger inbound webhook', async () => {
    const posted = await postJson('/sandbox/inbound', { channel: 'fbMessenger', from: 'psid-inbound-1', text: 'Hello page' });
    expect(posted.status).toBe(202);
    const mid = posted.body['messageId'] as string;

    const webhook = await recorder.waitFor((candidate) => messagingEvent(candidate)?.message?.mid === mid);
    expect(verifyMetaSignature(webhook.raw, webhook.signature, APP_SECRET)).toBe(true);
    const event = messagingEvent(webhook);
    expect(event?.sender.id).toBe('psid-inbound-1');
    expect(event?.recipient.id).toBe(PAGE_ID);
    expect(event?.message?.text).toBe('Hello page');

    const parsed = parseMetaWebhook(webhook.json);
    expect(parsed.items).toEqual([expect.objectContaining({ kind: 'inbound', channel: 'fbMessenger', from: 'psid-inbound-1', text: 'Hello page' })]);
  });

  const badInbound: Array<[string, unknown]> = [
    ['a body that is not JSON', '{"channel":'],
    ['an array body', ['whatsApp']],
    ['a missing channel', { from: '+12025550111', text: 'Hi' }],
    ['an unknown channel', { channel: 'sms', from: '+12025550111', text: 'Hi' }],
    ['a missing from', { channel: 'fbMessenger', text: 'Hi' }],
    ['an invalid phone number', { channel: 'whatsApp', from: '+1 202', text: 'Hi' }],
    ['an empty text', { channel: 'whatsApp', from: '+12025550111', text: '' }],
  ];

  it.each(badInbound)('rejects %s with 400', async (_case, body) => {
    const posted = await postJson('/sandbox/inbound', body);
    expect(posted.status).toBe(400);
    const message = (posted.body['error'] as Record<string, unknown>)['message'];
    expect(typeof message).toBe('string');
    expect(message).not.toBe('');
  });

  it('inbound without webhook URL is 409', async () => {
    const bare = await startSandboxGraph({ appSecret: APP_SECRET, logger });
    try {
      const response = await fetch(`${bare.url}/sandbox/inbound`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ channel: 'whatsApp', from: '+12025550111', text: 'Hi' }),
      });
      expect(response.status).toBe(409);
      const body = (await response.json()) as { error: { message: string } };
      expect(body.error.message).toContain('webhook URL');
    } finally {
      await bare.close();
    }
  });
});

describe('sandbox Graph API: webhook retries', () => {
  it('resends webhook after receiver failure', async () => {
    const flaky = await startWebhookRecorder({ statusFor: (postNumber) => (postNumber <= 2 ? 503 : 200) });
    const sandbox = await startSandboxGraph({ appSecret: APP_SECRET, logger, webhookRetryDelayMs: 20 });
    try {
      sandbox.setWebhookUrl(flaky.url);
      const response = await fetch(`${sandbox.url}/sandbox/inbound`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ channel: 'fbMessenger', from: 'psid-retry', text: 'Hi' }),
      });
      expect(response.status).toBe(202);

      await flaky.waitFor((_webhook) => flaky.received().length >= 3);
      const bodies = flaky.received().map((webhook) => webhook.raw.toString('utf8'));
      expect(bodies).toHaveLength(3);
      expect(new Set(bodies).size).toBe(1);
      await expect.poll(() => sandbox.webhooksSent()).toBe(1);
    } finally {
      await sandbox.close();
      await flaky.close();
    }
  });

  it('stops resending after last attempt', async () => {
    const broken = await startWebhookRecorder({ statusFor: () => 500 });
    const sandbox = await startSandboxGraph({ appSecret: APP_SECRET, logger, webhookAttempts: 3, webhookRetryDelayMs: 10 });
    try {
      sandbox.setWebhookUrl(broken.url);
      await fetch(`${sandbox.url}/sandbox/inbound`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ channel: 'fbMessenger', from: 'psid-broken', text: 'Hi' }),
      });
      await broken.waitFor(() => broken.received().length >= 3);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(broken.received()).toHaveLength(3);
      expect(sandbox.webhooksSent()).toBe(0);
    } finally {
      await sandbox.close();
      await broken.close();
    }
  });

  it('rejects a non-HTTP webhook URL', async () => {
    expect(() => graph.setWebhookUrl('ftp://127.0.0.1/webhook')).toThrow(/http or https/);
    expect(() => graph.setWebhookUrl('not a url')).toThrow(/absolute/);
  });
});
