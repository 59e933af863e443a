import { createHmac } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import webPush from 'web-push';
import { startSandboxGraph, type SandboxGraph } from '../../src/sandbox/graph.js';
import { startSandboxSmsc, type SandboxSmsc } from '../../src/sandbox/smsc.js';
import { ADMIN_KEY, createSpace, http, issueKey, type IssuedKey } from '../api/admin-client.js';
import { startTestServer, TEST_API_KEY, type TestServer } from '../helpers/server.js';
import { finalMessage, type ChannelSettingsJson, type MessageJson } from '../helpers/message-json.js';

interface Problem {
  status: number;
  detail: string;
  errors?: Array<{ pointer: string; detail: string }>;
}

const silent = pino({ level: 'silent' });
const SMPP_PASSWORD = 'b-pass-1';
const WHATSAPP_TOKEN = 'space-b-whatsapp-token-7f3e0c9a';
const META_APP_SECRET = 'space-b-meta-app-secret-51d2';
const META_VERIFY_TOKEN = 'space-b-verify-token-0e77';

async function sendAs(server: TestServer, key: string, body: Record<string, unknown>): Promise<string> {
  const response = await http<MessageJson>(server, 'POST', '/v1/messages', { key, body });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body.messageId;
}

function smsSettings(smsc: SandboxSmsc, systemId: string, password: string, sourceAddr = 'SPACEB') {
  return { host: '127.0.0.1', port: smsc.port, systemId, password, sourceAddr };
}

describe('channel settings per space, with the sandbox', () => {
  let server: TestServer;
  let smscB: SandboxSmsc;
  let smscC: SandboxSmsc;
  let graphB: SandboxGraph;
  let spaceB: string;
  let keyB: IssuedKey;
  let senderB: IssuedKey;

  beforeAll(async () => {
    smscB = await startSandboxSmsc({ logger: silent, systemId: 'space-b', password: SMPP_PASSWORD, receiptDelayMs: { delivered: 20 } });
    smscC = await startSandboxSmsc({ logger: silent, systemId: 'space-b2', password: 'b-pass-2', receiptDelayMs: { delivered: 20 } });
    graphB = await startSandboxGraph({ logger: silent, appSecret: META_APP_SECRET, token: WHATSAPP_TOKEN, statusDelayMs: 20, readDelayMs: 20 });
    server = await startTestServer({ ADMIN_KEY });
    spaceB = await createSpace(server, 'Space B');
    keyB = await issueKey(server, spaceB);
    senderB = await issueKey(server, spaceB, { scopes: ['messages:write', 'messages:read'] });
  });

  afterAll(async () => {
    await server?.dispose();
    await graphB?.close();
    await smscB?.close();
    await smscC?.close();
  });

  it('stores SMS settings with the password masked and encrypted', async () => {
    const withoutPort = await http<ChannelSettingsJson>(server, 'PUT', '/v1/channels/sms', {
      key: keyB.key,
      body: { host: '127.0.0.1', systemId: 'space-b', password: SMPP_PASSWORD, sourceAddr: 'SPACEB' },
    });
    expect(withoutPort.status).toBe(201);
    expect(withoutPort.body.settings.port).toBe(2775);

    const stored = await http<ChannelSettingsJson>(server, 'PUT', '/v1/channels/sms', { key: keyB.key, body: smsSettings(smscB, 'space-b', SMPP_PASSWORD) });

    expect(stored.status).toBe(200);
    expect(stored.body.settings).toEqual({ host: '127.0.0.1', port: smscB.port, systemId: 'space-b', password: '****', sourceAddr: 'SPACEB' });
    expect(stored.body.encryptionKeyId).toBe(server.encryptionKeyId);
    const row = await server.store.channelSettings.get(spaceB, 'sms');
    expect(row?.sealed).toMatch(new RegExp(`^v1\\.${server.encryptionKeyId}\\.`));
    expect(row?.sealed).not.toContain(SMPP_PASSWORD);
    expect(JSON.stringify(row?.masked)).not.toContain(SMPP_PASSWORD);

    const read = await http<ChannelSettingsJson>(server, 'GET', '/v1/channels/sms', { key: keyB.key });
    expect(read.status).toBe(200);
    expect(read.body.settings.password).toBe('****');
  });

  it('sends the space SMS through its own SMSC', async () => {
    const messageId = await sendAs(server, senderB.key, { body: 'Your table is ready', to: { phoneNumber: '+12025550101' }, rules: ['sms'] });

    const view = await finalMessage(server, senderB.key, messageId);

    expect(view.status).toBe('delivered');
    const submit = smscB.submits().find((record) => record.messageId === view.steps[0]?.attempts[0]?.providerMessageId);
    expect(submit?.systemId).toBe('space-b');
    expect(submit?.source).toBe('SPACEB');
    expect(server.sandbox.smsc!.submits().map((record) => record.messageId)).not.toContain(submit?.messageId);
  });

  it('keeps the default space on the sandbox SMSC', async () => {
    const before = smscB.submits().length;
    const messageId = await sendAs(server, TEST_API_KEY, { body: 'Code 1234', to: { phoneNumber: '+12025550101' }, rules: ['sms'] });

    const view = await finalMessage(server, TEST_API_KEY, messageId);

    expect(view.status).toBe('delivered');
    const providerId = view.steps[0]?.attempts[0]?.providerMessageId;
    expect(server.sandbox.smsc!.submits().some((record) => record.messageId === providerId)).toBe(true);
    expect(smscB.submits()).toHaveLength(before);
  });

  it('hides one space settings from another', async () => {
    const get = await http<Problem>(server, 'GET', '/v1/channels/sms', { key: TEST_API_KEY });
    const list = await http<{ items: ChannelSettingsJson[] }>(server, 'GET', '/v1/channels', { key: TEST_API_KEY });
    const remove = await http<Problem>(server, 'DELETE', '/v1/channels/sms', { key: TEST_API_KEY });

    expect(get.status).toBe(404);
    expect(list.body.items).toEqual([]);
    expect(remove.status).toBe(404);
    expect((await http(server, 'GET', '/v1/channels/sms', { key: keyB.key })).status).toBe(200);
  });

  it('needs the admin scope', async () => {
    const put = await http<Problem>(server, 'PUT', '/v1/channels/sms', { key: senderB.key, body: smsSettings(smscC, 'space-b2', 'b-pass-2') });
    const get = await http<Problem>(server, 'GET', '/v1/channels', { key: senderB.key });

    expect(put.status).toBe(403);
    expect(get.status).toBe(403);
    expect((await server.store.channelSettings.get(spaceB, 'sms'))?.masked.systemId).toBe('space-b');
  });

  it('names the field of invalid settings', async () => {
    const missing = await http<Problem>(server, 'PUT', '/v1/channels/sms', { key: keyB.key, body: { host: '127.0.0.1', systemId: 'x', sourceAddr: 'X' } });
    const unknown = await http<Problem>(server, 'PUT', '/v1/channels/email', {
      key: keyB.key,
      body: { host: '127.0.0.1', port: 25, tls: 'none', from: 'a@b.example', pasword: 'typo' },
    });
    const other = webPush.generateVAPIDKeys();
    const vapid = webPush.generateVAPIDKeys();
    const mismatched = await http<Problem>(server, 'PUT', '/v1/channels/appMessaging', {
      key: keyB.key,
      body: { vapidPublicKey: vapid.publicKey, vapidPrivateKey: other.privateKey, vapidSubject: 'mailto:ops@b.example' },
    });

    const masked = await http<Problem>(server, 'PUT', '/v1/channels/sms', { key: keyB.key, body: { ...smsSettings(smscB, 'space-b', SMPP_PASSWORD), password: '****' } });
    const badSubject = await http<Problem>(server, 'PUT', '/v1/channels/appMessaging', {
      key: keyB.key,
      body: { vapidPublicKey: vapid.publicKey, vapidPrivateKey: vapid.privateKey, vapidSubject: 'ops@b.example' },
    });

    expect(masked.status).toBe(400);
    expect(masked.body.errors?.map((error) => error.pointer)).toEqual(['/password']);
    expect(badSubject.status).toBe(400);
    expect(badSubject.body.errors?.map((error) => error.pointer)).toEqual(['/vapidSubject']);
    const hostWithPort = await http<Problem>(server, 'PUT', '/v1/channels/email', {
      key: keyB.key,
      body: { host: 'smtp.example.com:587', port: 587, tls: 'starttls', from: 'a@b.example' },
    });
    expect(hostWithPort.status).toBe(400);
    expect(hostWithPort.body.errors?.[0]?.detail).toContain('cannot be used');
    const misspelt = await http<Problem>(server, 'PUT', '/v1/channels/whatsapp', { key: keyB.key, body: {} });
    expect(misspelt.status).toBe(404);
    expect(misspelt.body.detail).toContain('whatsApp');
    expect(missing.status).toBe(400);
    expect(missing.body.errors?.map((error) => error.pointer)).toContain('/password');
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors?.map((error) => error.pointer)).toContain('/pasword');
    expect(mismatched.status).toBe(400);
    // The message names the public key as the half that does not belong, and the pointer follows it.
    expect(mismatched.body.errors?.map((error) => error.pointer)).toEqual(['/vapidPublicKey']);
    expect(await server.store.channelSettings.get(spaceB, 'email')).toBeNull();
    expect(await server.store.channelSettings.get(spaceB, 'appMessaging')).toBeNull();
  });

  it('uses replaced settings from the next send on', async () => {
    const replaced = await http<ChannelSettingsJson>(server, 'PUT', '/v1/channels/sms', { key: keyB.key, body: smsSettings(smscC, 'space-b2', 'b-pass-2', 'SPACEB2') });
    expect(replaced.status).toBe(200);

    const messageId = await sendAs(server, senderB.key, { body: 'Second try', to: { phoneNumber: '+12025550101' }, rules: ['sms'] });
    const view = await finalMessage(server, senderB.key, messageId);

    expect(view.status).toBe('delivered');
    const providerId = view.steps[0]?.attempts[0]?.providerMessageId;
    expect(smscC.submits().find((record) => record.messageId === providerId)?.source).toBe('SPACEB2');
  });

  it('falls back to the shared sandbox after a delete', async () => {
    expect((await http(server, 'DELETE', '/v1/channels/sms', { key: keyB.key })).status).toBe(204);
    const counts = [smscB.submits().length, smscC.submits().length];

    const messageId = await sendAs(server, senderB.key, { body: 'Third try', to: { phoneNumber: '+12025550101' }, rules: ['sms'] });
    const view = await finalMessage(server, senderB.key, messageId);

    expect(view.status).toBe('delivered');
    const providerId = view.steps[0]?.attempts[0]?.providerMessageId;
    expect(server.sandbox.smsc!.submits().some((record) => record.messageId === providerId)).toBe(true);
    expect([smscB.submits().length, smscC.submits().length]).toEqual(counts);
  });

  it('sends WhatsApp with the space token and reads its signed webhooks', async () => {
    const stored = await http<ChannelSettingsJson>(server, 'PUT', '/v1/channels/whatsApp', {
      key: keyB.key,
      body: { apiUrl: graphB.url, phoneNumberId: '100000000000001', accessToken: WHATSAPP_TOKEN, appSecret: META_APP_SECRET, verifyToken: META_VERIFY_TOKEN },
    });
    expect(stored.status).toBe(201);
    expect(stored.body.settings.accessToken).toBe(`****${WHATSAPP_TOKEN.slice(-4)}`);
    expect(stored.body.webhookPath).toBe(`/v1/providers/meta/webhook/${spaceB}`);
    graphB.setWebhookUrl(`${server.url}${stored.body.webhookPath}`);

    const messageId = await sendAs(server, senderB.key, {
      body: 'Your parcel has shipped',
      to: { phoneNumber: '+12025550111' },
      rules: [{ channel: 'whatsApp', fallbackUnless: 'read' }],
      customBody: { whatsApp: { type: 'template', template: { name: 'parcel_shipped', language: { code: 'en_US' } } } },
    });
    const view = await finalMessage(server, senderB.key, messageId);

    expect(view.status).toBe('read');
    const wamid = view.steps[0]?.attempts[0]?.providerMessageId;
    expect(graphB.requests().some((request) => request.providerMessageId === wamid && request.status === 200)).toBe(true);
    expect(server.sandbox.graph!.requests().some((request) => request.providerMessageId === wamid)).toBe(false);
  });

  it('files inbound WhatsApp messages under the space', async () => {
    const inbound = await fetch(`${graphB.url}/sandbox/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'whatsApp', from: '+12025550111', text: 'Where is my parcel?' }),
    });
    expect(inbound.status).toBe(202);

    await vi.waitFor(async () => expect(await server.store.lastInboundAt(spaceB, 'whatsApp', '+12025550111')).not.toBeNull(), { timeout: 10_000 });
    expect(await server.store.lastInboundAt('default', 'whatsApp', '+12025550111')).toBeNull();
  });

  it('answers the verification handshake with the space token only', async () => {
    const path = `/v1/providers/meta/webhook/${spaceB}`;
    const ok = await fetch(`${server.url}${path}?hub.mode=subscribe&hub.verify_token=${META_VERIFY_TOKEN}&hub.challenge=4711`);
    const wrong = await fetch(`${server.url}${path}?hub.mode=subscribe&hub.verify_token=not-it&hub.challenge=4711`);
    const noSettings = await fetch(`${server.url}/v1/providers/meta/webhook/default?hub.mode=subscribe&hub.verify_token=${META_VERIFY_TOKEN}&hub.challenge=4711`);

    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('4711');
    expect(wrong.status).toBe(403);
    expect(noSettings.status).toBe(403);
  });

  it('refuses space webhooks signed with another secret', async () => {
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: '1', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { phone_number_id: '100000000000001' }, contacts: [{ wa_id: '12025550122' }], messages: [{ from: '12025550122', id: 'wamid.forged', timestamp: '1700000000', type: 'text', text: { body: 'hi' } }] } }] }],
    });
    const signedWith = (secret: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    const post = (path: string, signature: string) =>
      fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature }, body });

    const forged = await post(`/v1/providers/meta/webhook/${spaceB}`, signedWith('another-secret'));
    const elsewhere = await post('/v1/providers/meta/webhook/default', signedWith(META_APP_SECRET));
    expect(forged.status).toBe(401);
    expect(elsewhere.status).toBe(401);
    expect(await server.store.lastInboundAt(spaceB, 'whatsApp', '+12025550122')).toBeNull();

    // The same body with the space's own secret is applied, which shows the refusals above were about the signature.
    const signed = await post(`/v1/providers/meta/webhook/${spaceB}`, signedWith(META_APP_SECRET));
    expect(signed.status).toBe(200);
    expect(await server.store.lastInboundAt(spaceB, 'whatsApp', '+12025550122')).not.toBeNull();
  });
});

describe('receipts of the environment SMSC', () => {
  let envSmsc: SandboxSmsc;
  let spaceSmsc: SandboxSmsc;
  let server: TestServer;

  beforeAll(async () => {
    // Both SMSCs issue the same ids, as two SMSCs that count from the same start would.
    envSmsc = await startSandboxSmsc({ logger: silent, firstMessageId: 0x5_0000_0000, receiptDelayMs: { delivered: 20 } });
    spaceSmsc = await startSandboxSmsc({ logger: silent, systemId: 'space-c', password: 'c-pass', firstMessageId: 0x5_0000_0000, holdReceipts: true });
    server = await startTestServer({ ADMIN_KEY, SANDBOX: '0', SMPP_URL: envSmsc.url });
  });

  afterAll(async () => {
    await server?.dispose();
    await spaceSmsc?.close();
    await envSmsc?.close();
  });

  it('apply to the default space only', async () => {
    const spaceId = await createSpace(server, 'Own SMSC with clashing ids');
    const key = await issueKey(server, spaceId);
    expect((await http(server, 'PUT', '/v1/channels/sms', { key: key.key, body: smsSettings(spaceSmsc, 'space-c', 'c-pass', 'SPACEC') })).status).toBe(201);
    const ofSpace = await sendAs(server, key.key, { body: 'Held receipt', to: { phoneNumber: '+12025550101' }, rules: [{ channel: 'sms', fallbackAfter: 'PT30S' }] });
    await spaceSmsc.waitForSubmit(() => true, 10_000);

    const ofDefault = await sendAs(server, TEST_API_KEY, { body: 'Receipt at once', to: { phoneNumber: '+12025550101' }, rules: ['sms'] });
    const defaultView = await finalMessage(server, TEST_API_KEY, ofDefault);
    const spaceView = await http<MessageJson>(server, 'GET', `/v1/messages/${ofSpace}`, { key: key.key });

    expect(spaceSmsc.submits()[0]?.messageId).toBe(envSmsc.submits()[0]?.messageId);
    expect(defaultView.status).toBe('delivered');
    expect(spaceView.body.status).toBe('sent');
    expect(spaceView.body.steps[0]?.attempts[0]?.status).toBe('accepted');
  });
});

describe('channel settings per space, without the sandbox', () => {
  let smsc: SandboxSmsc;
  let own: SandboxSmsc;
  let server: TestServer;

  beforeAll(async () => {
    smsc = await startSandboxSmsc({ logger: silent, receiptDelayMs: { delivered: 20 } });
    own = await startSandboxSmsc({ logger: silent, systemId: 'own', password: 'own-pass', receiptDelayMs: { delivered: 20 } });
    server = await startTestServer({ ADMIN_KEY, SANDBOX: '0', SMPP_URL: smsc.url });
  });

  afterAll(async () => {
    await server?.dispose();
    await own?.close();
    await smsc?.close();
  });

  it('keeps the default space SMSC from other spaces', async () => {
    const spaceId = await createSpace(server, 'No settings');
    const key = await issueKey(server, spaceId);

    const messageId = await sendAs(server, key.key, { body: 'Hello', to: { phoneNumber: '+12025550101' }, rules: ['sms'] });
    const view = await finalMessage(server, key.key, messageId);

    expect(view.status).toBe('failed');
    expect(view.steps[0]).toMatchObject({ channel: 'sms', status: 'skipped', reason: 'channel-not-configured' });
    expect(smsc.submits()).toHaveLength(0);
  });

  it('sends through the space SMSC once it has settings', async () => {
    const spaceId = await createSpace(server, 'Own SMSC');
    const key = await issueKey(server, spaceId);
    const stored = await http(server, 'PUT', '/v1/channels/sms', { key: key.key, body: smsSettings(own, 'own', 'own-pass', 'OWN') });
    expect(stored.status).toBe(201);

    const messageId = await sendAs(server, key.key, { body: 'Hello again', to: { phoneNumber: '+12025550101' }, rules: ['sms'] });
    const view = await finalMessage(server, key.key, messageId);

    expect(view.status).toBe('delivered');
    expect(own.submits()).toHaveLength(1);
    expect(smsc.submits()).toHaveLength(0);
  });
});
