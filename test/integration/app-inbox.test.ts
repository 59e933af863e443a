import { createECDH, randomBytes, type ECDH } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeedMessage, InboxPage } from '../../src/channels/app/protocol.js';
import { api, startTestServer, waitForMessage, type TestServer } from '../helpers/server.js';
import { appApi, appToken, openAppSocket } from './app-client.js';

interface Problem { status: number; detail: string; errors?: Array<{ pointer: string; detail: string }> }
interface MessageBody {
  status: string;
  channel: string | null;
  completedAt: string | null;
  steps: Array<{ status: string; attempts: Array<{ status: string; errorCode: string | null; receipts: Array<{ state: string }> }> }>;
}
interface DeviceBody { deviceId: string; push: { endpoint: string; keys: { p256dh: string; auth: string } } | null; createdAt: string; lastSeenAt: string }

/** The part of http_ece 1.2 (no type declarations) that decrypts a push as a browser does. */
interface HttpEce {
  decrypt(buffer: Buffer, params: { version: 'aes128gcm'; privateKey: ECDH; authSecret: string }): Buffer;
}
const ece = createRequire(import.meta.url)('http_ece') as HttpEce;

/** Keys a browser would make for a push subscription, with the private half it keeps. */
function browserKeys(): { keys: { p256dh: string; auth: string }; ecdh: ECDH } {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') }, ecdh };
}

function subscriptionKeys(): { p256dh: string; auth: string } {
  return browserKeys().keys;
}

async function send(server: TestServer, body: Record<string, unknown>): Promise<string> {
  const created = await api<{ messageId: string }>(server, 'POST', '/v1/messages', body);
  expect(created.status).toBe(201);
  return created.body.messageId;
}

describe('app inbox and devices over HTTP', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });

  afterAll(async () => {
    await server.dispose();
  });

  it('inbox ack and read mark delivered and read', async () => {
    const { token } = await appToken(server, 'poller');
    expect((await appApi(server, token, 'PUT', '/v1/app/devices/kiosk', {})).status).toBe(200);
    const messageId = await send(server, { body: 'Your table is ready', title: 'Restaurant', to: { profileId: 'poller' }, rules: [{ channel: 'appMessaging', fallbackUnless: 'read' }] });
    await waitForMessage<MessageBody>(server, messageId, (message) => message.status === 'sent');

    const inbox = await appApi<InboxPage>(server, token, 'GET', '/v1/app/inbox?after=0');
    expect(inbox.status).toBe(200);
    expect(inbox.body.messages).toHaveLength(1);
    const item = inbox.body.messages[0]!;
    expect(item).toMatchObject({ messageId, title: 'Restaurant', body: 'Your table is ready', data: null, deliveredAt: null, readAt: null });
    expect(inbox.body.lastSeq).toBe(item.seq);

    const acked = await appApi<FeedMessage>(server, token, 'POST', `/v1/app/inbox/${messageId}/ack`);
    expect(acked.status).toBe(200);
    expect(acked.body.deliveredAt).not.toBeNull();
    expect(acked.body.readAt).toBeNull();
    const delivered = await waitForMessage<MessageBody>(server, messageId, (message) => message.status === 'delivered');
    expect(delivered.completedAt).toBeNull();

    const read = await appApi<FeedMessage>(server, token, 'POST', `/v1/app/inbox/${messageId}/read`);
    const readAgain = await appApi<FeedMessage>(server, token, 'POST', `/v1/app/inbox/${messageId}/read`);
    expect(read.status).toBe(200);
    expect(readAgain.status).toBe(200);
    expect(readAgain.body.readAt).toBe(read.body.readAt);
    expect(read.body.deliveredAt).toBe(acked.body.deliveredAt);

    const message = await waitForMessage<MessageBody>(server, messageId);
    expect(message.status).toBe('read');
    expect(message.channel).toBe('appMessaging');
    expect(message.steps[0]!.attempts[0]!.receipts.map((receipt) => receipt.state)).toEqual(['delivered', 'read']);

    const after = await appApi<InboxPage>(server, token, 'GET', `/v1/app/inbox?after=${item.seq}`);
    expect(after.body).toEqual({ messages: [], lastSeq: item.seq });
  });

  it('inbox pages with after and limit', async () => {
    const { token } = await appToken(server, 'pager');
    await appApi(server, token, 'PUT', '/v1/app/devices/kiosk', {});
    const ids: string[] = [];
    for (const body of ['one', 'two', 'three']) ids.push(await send(server, { body, to: { profileId: 'pager' }, rules: ['appMessaging'] }));
    for (const id of ids) await waitForMessage<MessageBody>(server, id, (message) => message.status === 'sent');

    const first = await appApi<InboxPage>(server, token, 'GET', '/v1/app/inbox?limit=2');
    const second = await appApi<InboxPage>(server, token, 'GET', `/v1/app/inbox?after=${first.body.lastSeq}&limit=2`);

    expect(first.body.messages.map((item) => item.body)).toEqual(['one', 'two']);
    expect(second.body.messages.map((item) => item.body)).toEqual(['three']);
    expect(second.body.lastSeq).toBe(second.body.messages[0]!.seq);
  });

  it('inbox rejects invalid query values', async () => {
    const { token } = await appToken(server, 'pager');

    for (const query of ['limit=0', 'limit=101', 'after=-1', 'after=abc', 'cursor=x']) {
      const response = await appApi<Problem>(server, token, 'GET', `/v1/app/inbox?${query}`);
      expect(response.status).toBe(400);
    }
  });

  it('ack of an unknown message is 404', async () => {
    const { token } = await appToken(server, 'poller');

    const response = await appApi<Problem>(server, token, 'POST', '/v1/app/inbox/no-such-message/ack');

    expect(response.status).toBe(404);
    expect(response.body.detail).toBe('Message "no-such-message" is not in this app user\'s feed.');
  });

  it('push subscription reaches an offline user through the push service', async () => {
    const push = server.sandbox.push!;
    const { endpoint } = push.subscribe();
    const { token } = await appToken(server, 'pushed');
    const { keys, ecdh } = browserKeys();
    const registered = await appApi<DeviceBody>(server, token, 'PUT', '/v1/app/devices/browser-1', { push: { endpoint, keys, expirationTime: null } });
    expect(registered.status).toBe(200);
    expect(registered.body).toMatchObject({ deviceId: 'browser-1', push: { endpoint, keys } });

    const messageId = await send(server, { body: 'Flash sale starts now', to: { profileId: 'pushed' }, rules: ['appMessaging'] });

    const waiting = await waitForMessage<MessageBody>(server, messageId, (message) => message.status === 'sent');
    expect(waiting.steps[0]!.attempts[0]!.status).toBe('accepted');
    const record = await push.waitFor((item) => item.endpoint === endpoint, 10_000);
    expect(record.status).toBe(201);
    const payload = JSON.parse(ece.decrypt(record.body, { version: 'aes128gcm', privateKey: ecdh, authSecret: keys.auth }).toString('utf8')) as FeedMessage;
    expect(payload).toMatchObject({ type: 'message', messageId, body: 'Flash sale starts now' });

    // The woken app reads its inbox and acknowledges.
    const inbox = await appApi<InboxPage>(server, token, 'GET', '/v1/app/inbox');
    expect(inbox.body.messages.map((item) => item.messageId)).toEqual([messageId]);
    await appApi(server, token, 'POST', `/v1/app/inbox/${messageId}/ack`);
    expect((await waitForMessage<MessageBody>(server, messageId)).status).toBe('delivered');
  });

  it('gone push subscription falls back to SMS', async () => {
    const push = server.sandbox.push!;
    const { endpoint } = push.subscribe({ respond: 410 });
    const { token } = await appToken(server, 'gone');
    await appApi(server, token, 'PUT', '/v1/app/devices/browser-1', { push: { endpoint, keys: subscriptionKeys() } });

    const messageId = await send(server, {
      body: 'Anyone there?',
      to: { profileId: 'gone', phoneNumber: '+12025550101' },
      rules: ['appMessaging', 'sms'],
    });

    const message = await waitForMessage<MessageBody>(server, messageId);
    expect(message.status).toBe('delivered');
    expect(message.channel).toBe('sms');
    expect(message.steps[0]!.status).toBe('failed');
    expect(message.steps[0]!.attempts[0]!.errorCode).toBe('no-device');
    expect(push.received().filter((item) => item.endpoint === endpoint).map((item) => item.status)).toEqual([410]);
    expect((await appApi(server, token, 'DELETE', '/v1/app/devices/browser-1')).status).toBe(404);
  });

  it('device without push is replaced by one with push and deleted', async () => {
    const { token } = await appToken(server, 'devices');
    const { endpoint } = server.sandbox.push!.subscribe();
    const keys = subscriptionKeys();

    const plain = await appApi<DeviceBody>(server, token, 'PUT', '/v1/app/devices/phone.1');
    const withPush = await appApi<DeviceBody>(server, token, 'PUT', '/v1/app/devices/phone.1', { push: { endpoint, keys: { p256dh: `${keys.p256dh}=`, auth: keys.auth } } });
    const deleted = await appApi(server, token, 'DELETE', '/v1/app/devices/phone.1');
    const again = await appApi<Problem>(server, token, 'DELETE', '/v1/app/devices/phone.1');

    expect(plain.status).toBe(200);
    expect(plain.body.push).toBeNull();
    expect(withPush.body.push).toEqual({ endpoint, keys });
    expect(withPush.body.createdAt).toBe(plain.body.createdAt);
    expect(deleted.status).toBe(204);
    expect(again.status).toBe(404);
  });

  it('device routes reject invalid input', async () => {
    const { token } = await appToken(server, 'devices');
    const { endpoint } = server.sandbox.push!.subscribe();
    const keys = subscriptionKeys();
    const cases: Array<[string, string, unknown, string]> = [
      ['ftp endpoint', 'd1', { push: { endpoint: 'ftp://push.example.net/x', keys } }, '/push'],
      ['endpoint on a private host', 'd1', { push: { endpoint: 'https://10.0.0.8/push/x', keys } }, '/push'],
      ['plain http on an untrusted origin', 'd1', { push: { endpoint: 'http://push.example.net/x', keys } }, '/push'],
      ['short p256dh', 'd1', { push: { endpoint, keys: { ...keys, p256dh: keys.p256dh.slice(0, 40) } } }, '/push'],
      ['long auth', 'd1', { push: { endpoint, keys: { ...keys, auth: randomBytes(32).toString('base64url') } } }, '/push'],
      ['missing keys', 'd1', { push: { endpoint } }, '/push'],
      ['unknown field', 'd1', { name: 'phone' }, ''],
      ['invalid device id', 'bad%20id', {}, '/deviceId'],
    ];

    for (const [name, deviceId, body, pointer] of cases) {
      const response = await appApi<Problem>(server, token, 'PUT', `/v1/app/devices/${deviceId}`, body);
      expect(response.status, name).toBe(400);
      expect(JSON.stringify(response.body.errors), name).toContain(`"pointer":"${pointer}`);
    }
  });

  it('twenty-first device is rejected with 409', async () => {
    const { token } = await appToken(server, 'collector');
    for (let i = 0; i < 20; i += 1) expect((await appApi(server, token, 'PUT', `/v1/app/devices/d${i}`, {})).status).toBe(200);

    const rejected = await appApi<Problem>(server, token, 'PUT', '/v1/app/devices/d20', {});
    const update = await appApi(server, token, 'PUT', '/v1/app/devices/d3', {});

    expect(rejected.status).toBe(409);
    expect(update.status).toBe(200);
  });

  it('push key route returns the VAPID public key', async () => {
    const { token } = await appToken(server, 'devices');

    const response = await appApi<{ publicKey: string }>(server, token, 'GET', '/v1/app/push-key');

    expect(response.status).toBe(200);
    expect(response.body.publicKey).toBe(server.vapidPublicKey);
    expect(Buffer.from(response.body.publicKey, 'base64url')).toHaveLength(65);
  });

  it('CORS preflight is answered without a token', async () => {
    const response = await fetch(`${server.url}/v1/app/inbox/abc/ack`, {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    const { token } = await appToken(server, 'devices');
    const inbox = await appApi(server, token, 'GET', '/v1/app/inbox');

    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-headers')).toContain('Authorization');
    expect(inbox.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('socket and inbox show the same feed', async () => {
    const { token } = await appToken(server, 'both');
    await appApi(server, token, 'PUT', '/v1/app/devices/kiosk', {});
    const messageId = await send(server, { body: 'Same everywhere', to: { profileId: 'both' }, rules: ['appMessaging'] });
    await waitForMessage<MessageBody>(server, messageId, (message) => message.status === 'sent');
    await appApi(server, token, 'POST', `/v1/app/inbox/${messageId}/read`);

    const app = await openAppSocket(server, token, { after: 0 });
    const frame = await app.next('message');
    const inbox = await appApi<InboxPage>(server, token, 'GET', '/v1/app/inbox');

    const { type: _type, ...fromSocket } = frame;
    expect(fromSocket).toEqual(inbox.body.messages[0]);
    expect(fromSocket.readAt).not.toBeNull();
    await app.close();
  });
});
