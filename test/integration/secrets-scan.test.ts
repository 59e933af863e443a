import { createECDH, createHmac, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import webPush from 'web-push';
import { issueAppToken, newAppTokenClaims } from '../../src/channels/app/token.js';
import { startSandboxGraph, type SandboxGraph } from '../../src/sandbox/graph.js';
import { startSandboxSmsc, type SandboxSmsc } from '../../src/sandbox/smsc.js';
import { startSandboxSmtp, type SandboxSmtp } from '../../src/sandbox/smtp.js';
import { basic } from '../api/admin-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { TestReceiver } from '../webhooks/receiver.js';
import { openAppSocket } from './app-client.js';

/*
 * Runs a representative flow with known secrets configured and every log line captured at
 * trace level. The checks: no log line contains a secret or a message text, and no API
 * response contains a secret other than the one response that issues it. Message texts may
 * appear in responses, because the message routes return what the client sent.
 */

function secret(label: string): string {
  return `${label}-${randomBytes(18).toString('base64url')}`;
}

const vapid = webPush.generateVAPIDKeys();
const spaceVapid = webPush.generateVAPIDKeys();

const SECRETS = {
  API_KEY: secret('api-key'),
  ADMIN_KEY: secret('admin-key-at-least-32-characters'),
  META_APP_SECRET: secret('meta-app-secret'),
  META_VERIFY_TOKEN: secret('meta-verify-token'),
  APP_TOKEN_SECRET: secret('app-token-secret-of-32-characters'),
  // SMPP limits passwords to 8 characters.
  SMPP_PASSWORD: randomBytes(6).toString('base64url'),
  SMTP_PASSWORD: secret('smtp-password'),
  WHATSAPP_TOKEN: secret('whatsapp-token'),
  MESSENGER_PAGE_TOKEN: secret('page-token'),
  VAPID_PRIVATE_KEY: vapid.privateKey,
  ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  // Credentials a space stores through the channel settings API.
  SPACE_SMPP_PASSWORD: randomBytes(6).toString('base64url'),
  SPACE_WHATSAPP_TOKEN: secret('space-whatsapp-token'),
  SPACE_META_APP_SECRET: secret('space-meta-app-secret'),
  SPACE_META_VERIFY_TOKEN: secret('space-meta-verify-token'),
  SPACE_PAGE_TOKEN: secret('space-page-token'),
  SPACE_VAPID_PRIVATE_KEY: spaceVapid.privateKey,
};

interface Recorded {
  method: string;
  path: string;
  status: number;
  body: string;
  /** The secret this response issues, shown once; null for every other response. */
  issues: string | null;
}

interface MessageView {
  messageId: string;
  status: string;
  completedAt: string | null;
}

describe('secrets in logs and responses', () => {
  const logLines: string[] = [];
  const responses: Recorded[] = [];
  /** Secrets learned during the flow: issued keys, tokens and webhook secrets, and forged credentials. */
  const issued: Record<string, string> = {};
  const texts: string[] = [];

  let server: TestServer;
  let smsc: SandboxSmsc;
  let spaceSmsc: SandboxSmsc;
  let smtp: SandboxSmtp;
  let graph: SandboxGraph;
  let receiver: TestReceiver;

  async function call<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: { authorization?: string; key?: string; body?: unknown; issues?: (body: T) => string } = {},
  ): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = {};
    if (options.authorization !== undefined) headers.authorization = options.authorization;
    else if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();
    let body = text as unknown as T;
    try {
      body = JSON.parse(text) as T;
    } catch {
      // Responses that are not JSON, such as /metrics, are kept as text.
    }
    const issues = options.issues !== undefined && response.ok ? options.issues(body) : null;
    responses.push({ method, path, status: response.status, body: text, issues });
    return { status: response.status, body };
  }

  async function send(request: Record<string, unknown>, key = SECRETS.API_KEY): Promise<string> {
    const created = await call<MessageView>('POST', '/v1/messages', { key, body: request });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body.messageId;
  }

  async function waitUntilFinal(messageId: string, key = SECRETS.API_KEY): Promise<MessageView> {
    let view: MessageView | null = null;
    await vi.waitFor(
      async () => {
        const response = await call<MessageView>('GET', `/v1/messages/${messageId}`, { key });
        view = response.body;
        expect(view.completedAt).not.toBeNull();
      },
      { timeout: 15_000, interval: 100 },
    );
    return view as unknown as MessageView;
  }

  function text(label: string): string {
    const value = `${label} ${randomBytes(9).toString('base64url')}`;
    texts.push(value);
    return value;
  }

  beforeAll(async () => {
    const silent = pino({ level: 'silent' });
    smsc = await startSandboxSmsc({ logger: silent, systemId: 'cascade', password: SECRETS.SMPP_PASSWORD, receiptDelayMs: { delivered: 20 } });
    spaceSmsc = await startSandboxSmsc({ logger: silent, systemId: 'scan', password: SECRETS.SPACE_SMPP_PASSWORD, receiptDelayMs: { delivered: 20 } });
    smtp = await startSandboxSmtp({ logger: silent });
    graph = await startSandboxGraph({
      logger: silent,
      appSecret: SECRETS.META_APP_SECRET,
      token: SECRETS.WHATSAPP_TOKEN,
      pageToken: SECRETS.MESSENGER_PAGE_TOKEN,
      statusDelayMs: 20,
      readDelayMs: 20,
    });
    receiver = await TestReceiver.start();

    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line !== '') logLines.push(line);
        done();
      },
    });
    server = await startTestServer(
      {
        API_KEY: SECRETS.API_KEY,
        ADMIN_KEY: SECRETS.ADMIN_KEY,
        META_APP_SECRET: SECRETS.META_APP_SECRET,
        META_VERIFY_TOKEN: SECRETS.META_VERIFY_TOKEN,
        APP_TOKEN_SECRET: SECRETS.APP_TOKEN_SECRET,
        SMPP_URL: `smpp://cascade:${SECRETS.SMPP_PASSWORD}@127.0.0.1:${smsc.port}`,
        SMTP_URL: `smtp://mailer:${SECRETS.SMTP_PASSWORD}@127.0.0.1:${smtp.port}`,
        WHATSAPP_API_URL: graph.url,
        WHATSAPP_TOKEN: SECRETS.WHATSAPP_TOKEN,
        WHATSAPP_PHONE_NUMBER_ID: '100000000000001',
        MESSENGER_API_URL: graph.url,
        MESSENGER_PAGE_TOKEN: SECRETS.MESSENGER_PAGE_TOKEN,
        VAPID_PUBLIC_KEY: vapid.publicKey,
        VAPID_PRIVATE_KEY: SECRETS.VAPID_PRIVATE_KEY,
        ENCRYPTION_KEY: SECRETS.ENCRYPTION_KEY,
        SANDBOX: '1',
      },
      { logger: pino({ level: 'trace' }, stream) },
    );
    graph.setWebhookUrl(`${server.url}/v1/providers/meta/webhook`);

    // Spaces and keys: the admin API issues a key, which issues another through /v1/keys.
    const space = await call<{ spaceId: string }>('POST', '/v1/admin/spaces', { key: SECRETS.ADMIN_KEY, body: { name: 'scan' } });
    expect(space.status).toBe(201);
    const adminIssued = await call<{ key: string; keyId: string }>('POST', `/v1/admin/spaces/${space.body.spaceId}/keys`, {
      key: SECRETS.ADMIN_KEY,
      body: { name: 'backend' },
      issues: (body) => body.key,
    });
    issued.adminIssuedKey = adminIssued.body.key;
    const selfIssued = await call<{ key: string; keyId: string }>('POST', '/v1/keys', {
      key: adminIssued.body.key,
      body: { scopes: ['messages:write', 'messages:read'], name: 'sender' },
      issues: (body) => body.key,
    });
    issued.selfIssuedKey = selfIssued.body.key;
    expect((await call('GET', '/v1/keys', { key: adminIssued.body.key })).status).toBe(200);
    expect((await call('GET', `/v1/admin/spaces/${space.body.spaceId}/keys`, { key: SECRETS.ADMIN_KEY })).status).toBe(200);

    // Channel settings of the space: its own SMSC, which carries its SMS, and stored Meta and Web Push credentials.
    const settings: Array<[string, Record<string, unknown>]> = [
      ['sms', { host: '127.0.0.1', port: spaceSmsc.port, systemId: 'scan', password: SECRETS.SPACE_SMPP_PASSWORD, sourceAddr: 'SCAN' }],
      ['whatsApp', { apiUrl: graph.url, phoneNumberId: '100000000000001', accessToken: SECRETS.SPACE_WHATSAPP_TOKEN, appSecret: SECRETS.SPACE_META_APP_SECRET, verifyToken: SECRETS.SPACE_META_VERIFY_TOKEN }],
      ['fbMessenger', { apiUrl: graph.url, pageAccessToken: SECRETS.SPACE_PAGE_TOKEN, appSecret: SECRETS.SPACE_META_APP_SECRET, verifyToken: SECRETS.SPACE_META_VERIFY_TOKEN }],
      ['appMessaging', { vapidPublicKey: spaceVapid.publicKey, vapidPrivateKey: SECRETS.SPACE_VAPID_PRIVATE_KEY, vapidSubject: 'mailto:ops@scan.example' }],
    ];
    for (const [channel, body] of settings) {
      expect((await call('PUT', `/v1/channels/${channel}`, { key: adminIssued.body.key, body })).status).toBe(201);
      expect((await call('GET', `/v1/channels/${channel}`, { key: adminIssued.body.key })).status).toBe(200);
    }
    expect((await call('GET', '/v1/channels', { key: adminIssued.body.key })).status).toBe(200);
    const spaceHook = `${server.url}/v1/providers/meta/webhook/${space.body.spaceId}`;
    const spaceChallenge = await fetch(`${spaceHook}?hub.mode=subscribe&hub.verify_token=${SECRETS.SPACE_META_VERIFY_TOKEN}&hub.challenge=2093`);
    expect(await spaceChallenge.text()).toBe('2093');
    const spaceSend = await send({ body: text('sms of the second space'), to: { phoneNumber: '+12025550101' }, rules: ['sms'] }, selfIssued.body.key);
    expect((await waitUntilFinal(spaceSend, selfIssued.body.key)).status).toBe('delivered');
    expect(spaceSmsc.submits()).toHaveLength(1);

    // A webhook endpoint, which receives signed status events of the default space.
    const webhook = await call<{ id: string; secret: string }>('POST', '/v1/webhooks', {
      key: SECRETS.API_KEY,
      body: { url: receiver.url, events: ['message.sent', 'message.delivered', 'message.read', 'message.failed', 'message.inbound'] },
      issues: (body) => body.secret,
    });
    expect(webhook.status).toBe(201);
    issued.webhookSecret = webhook.body.secret;
    receiver.secret = webhook.body.secret;

    // Sends over SMS, email, WhatsApp and Messenger, and a compatibility send with HTTP Basic.
    const sms = await send({ body: text('sms'), to: { phoneNumber: '+12025550101' }, rules: ['sms'], metadata: { order: 'A-1' } });
    const email = await send({ body: text('email'), title: text('email subject'), to: { email: 'person@sandbox.test' }, rules: ['email'] });
    // Inbound messages open the 24-hour windows that free-form WhatsApp and Messenger sends need.
    for (const [channel, from, address] of [['whatsApp', '+12025550111', '+12025550111'], ['fbMessenger', 'psid-delivered', 'psid-delivered']] as const) {
      const inbound = await fetch(`${graph.url}/sandbox/inbound`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ channel, from, text: text(`inbound ${channel}`) }),
      });
      expect(inbound.status).toBe(202);
      await vi.waitFor(async () => expect(await server.store.lastInboundAt('default', channel, address)).not.toBeNull(), { timeout: 15_000 });
    }
    const whatsApp = await send({ body: text('whatsapp'), to: { phoneNumber: '+12025550111' }, rules: ['whatsApp'] });
    const messenger = await send({ body: text('messenger'), to: { fbMessengerId: 'psid-delivered' }, rules: ['fbMessenger'] });
    const compatibility = await call<MessageView>('POST', '/cpaas/messages', {
      authorization: basic('', SECRETS.API_KEY),
      body: { body: text('compatibility sms'), to: { phoneNumber: '+12025550101' }, rules: ['sms'] },
    });
    expect(compatibility.status).toBe(201);
    issued.basicCredentials = basic('', SECRETS.API_KEY).slice('Basic '.length);

    for (const messageId of [sms, email, whatsApp, messenger, compatibility.body.messageId]) {
      const view = await waitUntilFinal(messageId);
      expect(view.status, JSON.stringify(view)).not.toBe('failed');
    }
    await vi.waitFor(() => expect(receiver.accepted().length).toBeGreaterThanOrEqual(5), { timeout: 15_000 });

    // An app token, used over HTTP, a push subscription and the socket.
    const appToken = await call<{ token: string }>('POST', '/v1/app/tokens', { key: SECRETS.API_KEY, body: { profileId: 'app-person' }, issues: (body) => body.token });
    expect(appToken.status).toBe(201);
    issued.appToken = appToken.body.token;
    const { endpoint } = server.sandbox.push!.subscribe();
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const device = await call('PUT', '/v1/app/devices/browser-1', {
      key: appToken.body.token,
      body: { push: { endpoint, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') } } },
    });
    expect(device.status).toBe(200);
    const pushed = await send({ body: text('app push'), to: { profileId: 'app-person' }, rules: ['appMessaging'] });
    await server.sandbox.push!.waitFor((record) => record.endpoint === endpoint, 10_000);
    const inbox = await call<{ messages: Array<{ messageId: string }>; lastSeq: number }>('GET', '/v1/app/inbox', { key: appToken.body.token });
    expect(inbox.body.messages.map((item) => item.messageId)).toContain(pushed);
    expect((await call('POST', `/v1/app/inbox/${pushed}/ack`, { key: appToken.body.token })).status).toBe(200);
    const socket = await openAppSocket(server, appToken.body.token, { via: 'query', after: inbox.body.lastSeq });
    const socketSend = await send({ body: text('app socket'), to: { profileId: 'app-person' }, rules: ['appMessaging'] });
    const frame = await socket.next('message');
    expect(frame.messageId).toBe(socketSend);
    await socket.close();
    const protocolSocket = await openAppSocket(server, appToken.body.token, { via: 'protocol' });
    await protocolSocket.close();

    // Failed authentication with forged, expired and misplaced credentials.
    issued.forgedKey = `csk_0123456789abcdef_${randomBytes(32).toString('base64url')}`;
    issued.forgedAppToken = issueAppToken(newAppTokenClaims({ spaceId: 'default', profileId: 'app-person', appUserId: 'app-person' }, Date.now(), 3600), secret('wrong-app-token-secret'));
    issued.expiredAppToken = issueAppToken(newAppTokenClaims({ spaceId: 'default', profileId: 'app-person', appUserId: 'app-person' }, Date.now() - 7200_000, 60), SECRETS.APP_TOKEN_SECRET);
    const failures: Array<[string, string, string]> = [
      ['GET', '/v1/messages', `Bearer ${issued.forgedKey}`],
      ['GET', '/v1/messages', `Bearer ${SECRETS.ADMIN_KEY}`],
      ['GET', '/v1/messages', `Bearer ${appToken.body.token}`],
      ['GET', '/v1/admin/spaces', `Bearer ${SECRETS.API_KEY}`],
      ['GET', '/v1/app/inbox', `Bearer ${issued.forgedAppToken}`],
      ['GET', '/v1/app/inbox', `Bearer ${issued.expiredAppToken}`],
      ['GET', '/v1/app/inbox', `Bearer ${SECRETS.API_KEY}`],
      ['POST', '/cpaas/messages', basic(selfIssued.body.keyId, issued.forgedKey)],
      ['GET', `/v1/app/socket?token=${encodeURIComponent(issued.forgedAppToken)}`, ''],
    ];
    for (const [method, path, authorization] of failures) {
      const response = await call(method, path, { authorization, ...(method === 'POST' ? { body: { body: 'x', to: { phoneNumber: '+12025550101' } } } : {}) });
      expect(response.status, `${method} ${path}`).toBe(401);
    }

    // The Meta webhook: a verification handshake, then a forged and a correctly signed delivery.
    const challenge = await fetch(`${server.url}/v1/providers/meta/webhook?hub.mode=subscribe&hub.verify_token=${SECRETS.META_VERIFY_TOKEN}&hub.challenge=1158201444`);
    expect(await challenge.text()).toBe('1158201444');
    const forgedBody = JSON.stringify({ object: 'whatsapp_business_account', entry: [] });
    const forged = await fetch(`${server.url}/v1/providers/meta/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${createHmac('sha256', 'not-the-secret').update(forgedBody).digest('hex')}` },
      body: forgedBody,
    });
    expect(forged.status).toBe(401);

    // Reads that could echo stored secrets.
    for (const path of ['/v1/webhooks', `/v1/webhooks/${webhook.body.id}`, `/v1/webhooks/${webhook.body.id}/dead-letters`, '/v1/messages?limit=100', '/v1/keys', '/v1/app/tokens']) {
      await call(path === '/v1/app/tokens' ? 'POST' : 'GET', path, { key: SECRETS.API_KEY, ...(path === '/v1/app/tokens' ? { body: { profileId: 'app-person', extra: true } } : {}) });
    }
    await call('GET', '/v1/admin/spaces', { key: SECRETS.ADMIN_KEY });
    await call('GET', '/healthz');
    await call('GET', '/metrics');
    await call('GET', '/v1/app/push-key', { key: appToken.body.token });
  }, 60_000);

  afterAll(async () => {
    await server?.dispose();
    await receiver?.close();
    await graph?.close();
    await smtp?.close();
    await smsc?.close();
    await spaceSmsc?.close();
  });

  function allSecrets(): Array<[string, string]> {
    return [...Object.entries(SECRETS), ...Object.entries(issued)];
  }

  it('captured a full flow', () => {
    expect(logLines.length).toBeGreaterThan(100);
    expect(logLines.some((line) => line.includes('"message accepted"'))).toBe(true);
    expect(logLines.some((line) => line.includes('"level":20'))).toBe(true);
    // Request lines keep the query string, with credential values redacted.
    expect(logLines.some((line) => line.includes('hub.verify_token=[redacted]&hub.challenge=1158201444'))).toBe(true);
    expect(logLines.some((line) => line.includes('/v1/messages?limit=100'))).toBe(true);
    // The default space's two SMS went to the configured SMSC, the other space's SMS to its own.
    expect(smsc.submits().length).toBeGreaterThanOrEqual(2);
    expect(spaceSmsc.submits()).toHaveLength(1);
    expect(smtp.messages()).toHaveLength(1);
    expect(graph.requests().length).toBeGreaterThanOrEqual(2);
    expect(receiver.accepted().length).toBeGreaterThanOrEqual(5);
    expect(texts.length).toBeGreaterThanOrEqual(8);
  });

  it('logs no secret', () => {
    for (const [name, value] of allSecrets()) {
      const leaks = logLines.filter((line) => line.includes(value));
      expect(leaks, `${name} appears in the log`).toEqual([]);
    }
  });

  it('logs no message text', () => {
    for (const value of texts) {
      const leaks = logLines.filter((line) => line.includes(value));
      expect(leaks, `message text ${JSON.stringify(value)} appears in the log`).toEqual([]);
    }
  });

  it('returns each secret only when issuing it', () => {
    expect(responses.filter((response) => response.issues !== null)).toHaveLength(4);
    for (const [name, value] of allSecrets()) {
      const leaks = responses.filter((response) => response.issues !== value && response.body.includes(value));
      expect(
        leaks.map((response) => `${response.method} ${response.path} → ${response.status}`),
        `${name} appears in a response`,
      ).toEqual([]);
    }
  });

  it('sends no secret in webhook payloads', () => {
    const payloads = receiver.requests.map((request) => JSON.stringify(request.body));
    for (const [name, value] of allSecrets()) {
      expect(payloads.filter((payload) => payload.includes(value)), `${name} appears in a webhook payload`).toEqual([]);
    }
  });
});
