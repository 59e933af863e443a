import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseMetaWebhook, verifyMetaSignature } from '../src/channels/meta/index.js';
import type { ChannelContent, SendRequest } from '../src/channels/types.js';
import { MAX_NATIVE_MESSAGE_BYTES, WhatsAppChannel } from '../src/channels/whatsapp/index.js';
import type { SendOutcome } from '../src/routing/types.js';
import { startSandboxGraph, type SandboxGraph } from '../src/sandbox/graph.js';
import { startWebhookRecorder, type RecordedWebhook, type WebhookRecorder } from '../src/sandbox/graph-recorder.js';

const logger = pino({ level: 'silent' });
const APP_SECRET = 'sandbox-app-secret';
const TOKEN = 'EAAGsandboxWhatsAppToken0123456789abcdefABCDEF';
const PHONE_NUMBER_ID = '100000000000002';
const HOUR_MS = 60 * 60 * 1000;

let graph: SandboxGraph;
let recorder: WebhookRecorder;
let channel: WhatsAppChannel;
const extraChannels: WhatsAppChannel[] = [];
const extraServers: Server[] = [];
let counter = 0;

beforeAll(async () => {
  recorder = await startWebhookRecorder();
  graph = await startSandboxGraph({ appSecret: APP_SECRET, token: TOKEN, logger, statusDelayMs: 50, readDelayMs: 100, webhookRetryDelayMs: 50 });
  graph.setWebhookUrl(recorder.url);
  channel = new WhatsAppChannel({ apiUrl: graph.url, phoneNumberId: PHONE_NUMBER_ID, token: TOKEN, logger });
  await channel.start();
});

afterEach(async () => {
  for (const extra of extraChannels.splice(0)) {
    await extra.stop();
  }
  for (const server of extraServers.splice(0)) {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }
});

afterAll(async () => {
  await channel.stop();
  await graph.close();
  await recorder.close();
});

function content(overrides: Partial<ChannelContent> = {}): ChannelContent {
  return { body: 'Your parcel arrives today between 10:00 and 12:00.', title: null, custom: null, options: null, ...overrides };
}

function template(name = 'parcel_update'): ChannelContent {
  return content({
    custom: {
      type: 'template',
      template: {
        name,
        language: { code: 'en_US' },
        components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ada' }] }],
      },
    },
  });
}

function request(address: string, body: ChannelContent): SendRequest {
  counter += 1;
  return { messageId: `msg-${counter}`, step: 0, attempt: 1, idempotencyKey: `key-${counter}`, address, content: body };
}

async function openWindow(phoneNumber: string): Promise<void> {
  const response = await fetch(`${graph.url}/sandbox/inbound`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ channel: 'whatsApp', from: phoneNumber, text: 'Hello' }),
  });
  expect(response.status).toBe(202);
}

function statusOf(webhook: RecordedWebhook): { id: string; status: string; errors?: Array<{ code: number }> } | undefined {
  const value = (webhook.json as { entry?: Array<{ changes?: Array<{ value?: { statuses?: unknown[] } }> }> } | null)?.entry?.[0]
    ?.changes?.[0]?.value;
  return value?.statuses?.[0] as { id: string; status: string; errors?: Array<{ code: number }> } | undefined;
}

function waitForStatus(wamid: string, status: string): Promise<RecordedWebhook> {
  return recorder.waitFor((webhook) => statusOf(webhook)?.id === wamid && statusOf(webhook)?.status === status);
}

function acceptedId(outcome: SendOutcome): string {
  expect(outcome.kind).toBe('accepted');
  return outcome.kind === 'accepted' ? outcome.providerMessageId : '';
}

function lastRequestFor(wamid: string): Record<string, unknown> {
  const record = graph.requests().find((candidate) => candidate.providerMessageId === wamid);
  expect(record).toBeDefined();
  return record?.body as Record<string, unknown>;
}

describe('WhatsAppChannel traits', () => {
  it('matches the channel catalog', () => {
    expect(channel.id).toBe('whatsApp');
    expect(channel.defaultCondition).toBe('delivered');
    expect(channel.supportedConditions).toEqual(['accepted', 'delivered', 'read']);
  });

  it('resolves phone numbers to E.164', () => {
    expect(channel.resolveAddress({ phoneNumber: '+12025550111' })).toBe('+12025550111');
    expect(channel.resolveAddress({ phoneNumber: '12025550111' })).toBe('+12025550111');
    expect(channel.resolveAddress({ phoneNumber: '+1 202 555' })).toBeNull();
    expect(channel.resolveAddress({ email: 'a@example.com' })).toBeNull();
    expect(channel.resolveAddress({ phoneNumber: '  ' })).toBeNull();
  });

  it('uses the wamid as match key', () => {
    expect(channel.matchKeys('wamid.ABC=')).toEqual(['wamid.ABC=']);
  });
});

describe('WhatsAppChannel eligibility', () => {
  const now = Date.UTC(2026, 0, 15, 12);

  it('rejects free-form without inbound', () => {
    expect(channel.checkEligibility(content(), { lastInboundAt: null, now })).toBe('ineligible');
  });

  it('rejects free-form after 24 hours', () => {
    expect(channel.checkEligibility(content(), { lastInboundAt: now - 24 * HOUR_MS, now })).toBe('ineligible');
    expect(channel.checkEligibility(content(), { lastInboundAt: now - 25 * HOUR_MS, now })).toBe('ineligible');
  });

  it('allows free-form text inside the window', () => {
    expect(channel.checkEligibility(content(), { lastInboundAt: now - 23 * HOUR_MS, now })).toBeNull();
    expect(channel.checkEligibility(content(), { lastInboundAt: now + 5_000, now })).toBeNull();
  });

  it('treats media as free-form', () => {
    const image = content({ custom: { type: 'image', image: { link: 'https://example.com/a.png' } } });
    expect(channel.checkEligibility(image, { lastInboundAt: null, now })).toBe('ineligible');
  });

  it('allows templates outside the window', () => {
    expect(channel.checkEligibility(template(), { lastInboundAt: null, now })).toBeNull();
    expect(channel.checkEligibility(template(), { lastInboundAt: now - 30 * 24 * HOUR_MS, now })).toBeNull();
  });
});

describe('WhatsAppChannel against the sandbox Graph API', () => {
  it('text in window delivered and read', async () => {
    await openWindow('+12025550111');

    const outcome = await channel.send(request('+12025550111', content({ title: 'Delivery update' })));
    const wamid = acceptedId(outcome);
    expect(wamid).toMatch(/^wamid\./);

    const body = lastRequestFor(wamid);
    expect(body['messaging_product']).toBe('whatsapp');
    expect(body['recipient_type']).toBe('individual');
    expect(body['to']).toBe('12025550111');
    expect(body['type']).toBe('text');
    expect(body['text']).toEqual({ preview_url: false, body: '*Delivery update*\nYour parcel arrives today between 10:00 and 12:00.' });

    const delivered = await waitForStatus(wamid, 'delivered');
    const read = await waitForStatus(wamid, 'read');
    expect(verifyMetaSignature(delivered.raw, delivered.signature, APP_SECRET)).toBe(true);
    expect(verifyMetaSignature(read.raw, read.signature, APP_SECRET)).toBe(true);

    const parsed = parseMetaWebhook(read.json);
    expect(parsed.skipped).toEqual([]);
    expect(parsed.items).toEqual([
      expect.objectContaining({ kind: 'status', channel: 'whatsApp', providerMessageId: wamid, state: 'read', recipient: '+12025550111', phoneNumberId: PHONE_NUMBER_ID }),
    ]);
  });

  it('sets preview_url from enableUrlPreview', async () => {
    await openWindow('+12025550121');
    const outcome = await channel.send(request('+12025550121', content({ body: 'Track it at https://example.com/t/1', options: { enableUrlPreview: true } })));
    const body = lastRequestFor(acceptedId(outcome));
    expect(body['text']).toEqual({ preview_url: true, body: 'Track it at https://example.com/t/1' });
  });

  it('title with asterisks stays plain', async () => {
    await openWindow('+12025550122');
    const outcome = await channel.send(request('+12025550122', content({ title: 'Sale *today*', body: 'Hi' })));
    const body = lastRequestFor(acceptedId(outcome));
    expect(body['text']).toEqual({ preview_url: false, body: 'Sale *today*\nHi' });
  });

  it('sends a template outside the window', async () => {
    const outcome = await channel.send(request('+12025550123', template()));
    const wamid = acceptedId(outcome);

    const body = lastRequestFor(wamid);
    expect(body['type']).toBe('template');
    expect(body['to']).toBe('12025550123');
    expect(body['template']).toEqual({
      name: 'parcel_update',
      language: { code: 'en_US' },
      components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ada' }] }],
    });
    await waitForStatus(wamid, 'delivered');
  });

  it('replaces recipient fields of custom body', async () => {
    const custom = { ...template().custom, messaging_product: 'other', recipient_type: 'group', to: '19995550100' };
    const outcome = await channel.send(request('+12025550124', content({ custom })));
    const body = lastRequestFor(acceptedId(outcome));
    expect(body['messaging_product']).toBe('whatsapp');
    expect(body['recipient_type']).toBe('individual');
    expect(body['to']).toBe('12025550124');
  });

  it('sends media by link', async () => {
    await openWindow('+12025550125');
    const custom = { type: 'document', document: { link: 'https://example.com/invoice.pdf', caption: 'Invoice', filename: 'invoice.pdf' } };
    const outcome = await channel.send(request('+12025550125', content({ custom })));
    const body = lastRequestFor(acceptedId(outcome));
    expect(body['type']).toBe('document');
    expect(body['document']).toEqual({ link: 'https://example.com/invoice.pdf', caption: 'Invoice', filename: 'invoice.pdf' });
  });

  it('re-engagement error is permanent', async () => {
    const outcome = await channel.send(request('+12025550126', content()));
    expect(outcome.kind).toBe('permanent');
    expect(outcome.kind === 'permanent' ? outcome.code : null).toBe('graph-131047');
    expect(outcome.kind === 'permanent' ? outcome.addressUnreachable : null).toBe(false);
  });

  it('undeliverable number gets signed failed status', async () => {
    const outcome = await channel.send(request('+12025550112', template()));
    const wamid = acceptedId(outcome);

    const failed = await waitForStatus(wamid, 'failed');
    expect(failed.contentType).toBe('application/json');
    expect(failed.signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyMetaSignature(failed.raw, failed.signature, APP_SECRET)).toBe(true);
    expect(verifyMetaSignature(failed.raw, failed.signature, 'another-secret')).toBe(false);
    expect(statusOf(failed)?.errors?.[0]?.code).toBe(131026);

    const parsed = parseMetaWebhook(failed.json);
    expect(parsed.items).toEqual([expect.objectContaining({ kind: 'status', providerMessageId: wamid, state: 'failed', errorCode: '131026' })]);
  });

  it('rate limited number accepted third time', async () => {
    const first = await channel.send(request('+12025550113', template()));
    const second = await channel.send(request('+12025550113', template()));
    const third = await channel.send(request('+12025550113', template()));

    expect(first).toEqual(expect.objectContaining({ kind: 'transient', code: 'graph-130429' }));
    expect(second).toEqual(expect.objectContaining({ kind: 'transient', code: 'graph-130429' }));
    await waitForStatus(acceptedId(third), 'delivered');
  });

  it('wrong token is permanent and hidden', async () => {
    const wrongToken = 'EAAGwrongTokenValue0123456789abcdefABCDEFxyz';
    const wrong = new WhatsAppChannel({ apiUrl: graph.url, phoneNumberId: PHONE_NUMBER_ID, token: wrongToken, logger });
    extraChannels.push(wrong);

    const outcome = await wrong.send(request('+12025550123', template()));
    expect(outcome.kind).toBe('permanent');
    expect(outcome.kind === 'permanent' ? outcome.code : null).toBe('graph-190');
    expect(JSON.stringify(outcome)).not.toContain(wrongToken);
    expect(JSON.stringify(outcome)).not.toContain(TOKEN);
    expect(graph.requests().at(-1)?.status).toBe(401);
  });

  it('returns a closed port as transient', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));

    const closed = new WhatsAppChannel({ apiUrl: `http://127.0.0.1:${port}`, phoneNumberId: PHONE_NUMBER_ID, token: TOKEN, logger });
    extraChannels.push(closed);
    const outcome = await closed.send(request('+12025550123', template()));
    expect(outcome).toEqual(expect.objectContaining({ kind: 'transient', code: 'connection-refused' }));
    expect(JSON.stringify(outcome)).not.toContain(TOKEN);
  });

  it('silent server is a transient timeout', async () => {
    const silent = createServer(() => {
      // Never responds, so the channel's deadline has to end the call.
    });
    extraServers.push(silent);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;

    const slow = new WhatsAppChannel({ apiUrl: `http://127.0.0.1:${port}`, phoneNumberId: PHONE_NUMBER_ID, token: TOKEN, logger, timeoutMs: 200 });
    extraChannels.push(slow);
    const outcome = await slow.send(request('+12025550123', template()));
    expect(outcome).toEqual(expect.objectContaining({ kind: 'transient', code: 'timeout' }));
  });

  it('2xx without message id is permanent', async () => {
    const odd = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ messaging_product: 'whatsapp', messages: [] }));
    });
    extraServers.push(odd);
    await new Promise<void>((resolve) => odd.listen(0, '127.0.0.1', resolve));
    const port = (odd.address() as AddressInfo).port;

    const client = new WhatsAppChannel({ apiUrl: `http://127.0.0.1:${port}`, phoneNumberId: PHONE_NUMBER_ID, token: TOKEN, logger });
    extraChannels.push(client);
    const outcome = await client.send(request('+12025550123', template()));
    expect(outcome).toEqual(expect.objectContaining({ kind: 'permanent', code: 'missing-message-id' }));
  });
});

describe('WhatsAppChannel content checks', () => {
  const invalidBodies: Array<[string, Record<string, unknown>, string]> = [
    ['unknown type', { type: 'fax', fax: {} }, '/customBody/whatsApp/type'],
    ['missing text object', { type: 'text' }, '/customBody/whatsApp/text'],
    ['empty text body', { type: 'text', text: { body: ' ' } }, '/customBody/whatsApp/text/body'],
    ['template without language', { type: 'template', template: { name: 'x' } }, '/customBody/whatsApp/template/language'],
    ['template without name', { type: 'template', template: { language: { code: 'en' } } }, '/customBody/whatsApp/template/name'],
    ['parameter without type', { type: 'template', template: { name: 'x', language: { code: 'en' }, components: [{ type: 'body', parameters: [{ text: 'a' }] }] } }, '/customBody/whatsApp/template/components/0/parameters/0/type'],
    ['image without link or id', { type: 'image', image: { caption: 'Look' } }, '/customBody/whatsApp/image'],
    ['image with an ftp link', { type: 'image', image: { link: 'ftp://example.com/a.png' } }, '/customBody/whatsApp/image/link'],
    ['audio with a caption', { type: 'audio', audio: { link: 'https://example.com/a.ogg', caption: 'Hi' } }, '/customBody/whatsApp/audio/caption'],
    ['caption too long', { type: 'video', video: { link: 'https://example.com/a.mp4', caption: 'x'.repeat(1025) } }, '/customBody/whatsApp/video/caption'],
    ['interactive without action', { type: 'interactive', interactive: { type: 'button', body: { text: 'Pick' } } }, '/customBody/whatsApp/interactive/action'],
    ['location out of range', { type: 'location', location: { latitude: 91, longitude: 0 } }, '/customBody/whatsApp/location/latitude'],
    ['empty contacts', { type: 'contacts', contacts: [] }, '/customBody/whatsApp/contacts'],
    ['custom text over 4096 characters', { type: 'text', text: { body: 'x'.repeat(4097) } }, '/customBody/whatsApp/text/body'],
    ['oversized body', { type: 'text', text: { body: 'x' }, padding: 'y'.repeat(MAX_NATIVE_MESSAGE_BYTES) }, '/customBody/whatsApp'],
  ];

  it.each(invalidBodies)('rejects %s as invalid content', async (_case, custom, pointer) => {
    const before = graph.requests().length;
    const outcome = await channel.send(request('+12025550111', content({ custom })));
    expect(outcome.kind).toBe('permanent');
    expect(outcome.kind === 'permanent' ? outcome.code : null).toBe('invalid-content');
    expect(outcome.kind === 'permanent' ? outcome.message : '').toContain(pointer);
    expect(graph.requests().length).toBe(before);
  });

  it('rejects text over 4096 characters', async () => {
    const outcome = await channel.send(request('+12025550111', content({ body: 'x'.repeat(4097) })));
    expect(outcome.kind).toBe('permanent');
    expect(outcome.kind === 'permanent' ? outcome.code : null).toBe('invalid-content');
    expect(outcome.kind === 'permanent' ? outcome.message : '').toContain('4096');
  });

  it('title line counts towards limit', async () => {
    const outcome = await channel.send(request('+12025550111', content({ title: 'Update', body: 'x'.repeat(4090) })));
    expect(outcome.kind === 'permanent' ? outcome.code : null).toBe('invalid-content');
  });

  it('accepts 4096 emoji, counted as characters', async () => {
    await openWindow('+12025550127');
    const outcome = await channel.send(request('+12025550127', content({ body: '📦'.repeat(4096) })));
    expect(outcome.kind).toBe('accepted');
  });

  it('rejects an unknown channel option', async () => {
    const outcome = await channel.send(request('+12025550111', content({ options: { previewUrl: true } })));
    expect(outcome.kind === 'permanent' ? outcome.message : '').toContain('/channelOptions/whatsApp/previewUrl');
  });

  it('rejects a non-E.164 address', async () => {
    const outcome = await channel.send(request('0201234567', content()));
    expect(outcome).toEqual(expect.objectContaining({ kind: 'permanent', code: 'invalid-address' }));
  });
});

describe('WhatsAppChannel options', () => {
  it('rejects invalid constructor options', () => {
    expect(() => new WhatsAppChannel({ apiUrl: 'graph.facebook.com', phoneNumberId: PHONE_NUMBER_ID, token: TOKEN, logger })).toThrow(/apiUrl/);
    expect(() => new WhatsAppChannel({ apiUrl: graph.url, apiVersion: '21', phoneNumberId: PHONE_NUMBER_ID, token: TOKEN, logger })).toThrow(/apiVersion/);
    expect(() => new WhatsAppChannel({ apiUrl: graph.url, phoneNumberId: PHONE_NUMBER_ID, token: '', logger })).toThrow(/token/);
    expect(() => new WhatsAppChannel({ apiUrl: graph.url, phoneNumberId: 'a/b', token: TOKEN, logger })).toThrow(/phoneNumberId/);
  });

  it('path has version and number id', async () => {
    const versioned = new WhatsAppChannel({ apiUrl: `${graph.url}/`, apiVersion: 'v19.0', phoneNumberId: '555000111', token: TOKEN, logger });
    extraChannels.push(versioned);
    const outcome = await versioned.send(request('+12025550123', template()));
    const record = graph.requests().find((candidate) => candidate.providerMessageId === acceptedId(outcome));
    expect(record?.path).toBe('/v19.0/555000111/messages');
  });
});
