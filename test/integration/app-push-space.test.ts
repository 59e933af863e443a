import { createECDH, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import webPush from 'web-push';
import type { PushRecord } from '../../src/sandbox/push-service.js';
import { ADMIN_KEY, createSpace, http, issueKey, type IssuedKey } from '../api/admin-client.js';
import { startTestServer, TEST_API_KEY, type TestServer } from '../helpers/server.js';
import type { MessageJson } from '../helpers/message-json.js';

const PUSH_TIMEOUT_MS = 10_000;

/** Generates a push subscription's client keys (`p256dh` and `auth`, RFC 8291) as a browser would. */
function clientKeys(): { p256dh: string; auth: string } {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') };
}

describe('Web Push with a space key pair', () => {
  const vapidB = webPush.generateVAPIDKeys();
  let server: TestServer;
  let spaceB: string;
  let keyB: IssuedKey;

  async function appTokenOf(key: string, profileId: string): Promise<string> {
    const response = await http<{ token: string }>(server, 'POST', '/v1/app/tokens', { key, body: { profileId } });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body.token;
  }

  async function pushKey(token: string): Promise<string> {
    const response = await http<{ publicKey: string }>(server, 'GET', '/v1/app/push-key', { key: token });
    expect(response.status).toBe(200);
    return response.body.publicKey;
  }

  /** Registers a device whose subscription the sandbox push service made for `applicationServerKey`, and returns its endpoint. */
  async function registerDevice(token: string, deviceId: string, applicationServerKey: string): Promise<string> {
    const { endpoint } = server.sandbox.push!.subscribe({ applicationServerKey });
    const response = await http(server, 'PUT', `/v1/app/devices/${deviceId}`, { key: token, body: { push: { endpoint, keys: clientKeys() } } });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return endpoint;
  }

  async function send(key: string, profileId: string, body: string): Promise<string> {
    const response = await http<MessageJson>(server, 'POST', '/v1/messages', { key, body: { body, to: { profileId }, rules: ['appMessaging'] } });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body.messageId;
  }

  /** Polls the message until `done` returns true for it. */
  async function viewWhen(key: string, messageId: string, done: (view: MessageJson) => boolean): Promise<MessageJson> {
    let view: MessageJson | null = null;
    await vi.waitFor(
      async () => {
        const response = await http<MessageJson>(server, 'GET', `/v1/messages/${messageId}`, { key });
        view = response.body;
        expect(done(view), JSON.stringify(view)).toBe(true);
      },
      { timeout: 15_000, interval: 50 },
    );
    return view as unknown as MessageJson;
  }

  function pushTo(endpoint: string): Promise<PushRecord> {
    return server.sandbox.push!.waitFor((record) => record.endpoint === endpoint, PUSH_TIMEOUT_MS);
  }

  beforeAll(async () => {
    server = await startTestServer({ ADMIN_KEY, SANDBOX: '1' });
    spaceB = await createSpace(server, 'Space B');
    keyB = await issueKey(server, spaceB);
    const stored = await http<{ settings: Record<string, unknown> }>(server, 'PUT', '/v1/channels/appMessaging', {
      key: keyB.key,
      body: { vapidPublicKey: vapidB.publicKey, vapidPrivateKey: vapidB.privateKey, vapidSubject: 'mailto:ops@b.example' },
    });
    expect(stored.status, JSON.stringify(stored.body)).toBe(201);
  });

  afterAll(async () => {
    await server?.dispose();
  });

  it('serves each space its own push key', async () => {
    expect(server.sandbox.push).not.toBeNull();
    expect(vapidB.publicKey).not.toBe(server.vapidPublicKey);

    const tokenB = await appTokenOf(keyB.key, 'b-reader');
    const tokenDefault = await appTokenOf(TEST_API_KEY, 'default-reader');

    expect(await pushKey(tokenB)).toBe(vapidB.publicKey);
    expect(await pushKey(tokenDefault)).toBe(server.vapidPublicKey);
  });

  it('signs pushes of the space with its pair', async () => {
    const token = await appTokenOf(keyB.key, 'b-phone');
    const endpoint = await registerDevice(token, 'phone-1', vapidB.publicKey);

    const messageId = await send(keyB.key, 'b-phone', 'Your table is ready');
    const record = await pushTo(endpoint);

    // The subscription names B's key, so the push service accepts only a push B's key signed.
    expect(record.status).toBe(201);
    expect(record.error).toBeNull();
    expect(record.headers.vapid?.k).toBe(vapidB.publicKey);
    const view = await viewWhen(keyB.key, messageId, (candidate) => candidate.steps[0]?.attempts[0]?.status === 'accepted');
    expect(view.steps[0]?.channel).toBe('appMessaging');
    expect(view.steps[0]?.attempts).toHaveLength(1);
  });

  it('keeps the server pair for the default space', async () => {
    const token = await appTokenOf(TEST_API_KEY, 'default-phone');
    const endpoint = await registerDevice(token, 'phone-1', server.vapidPublicKey);

    const messageId = await send(TEST_API_KEY, 'default-phone', 'Your parcel has shipped');
    const record = await pushTo(endpoint);

    expect(record.status).toBe(201);
    expect(record.headers.vapid?.k).toBe(server.vapidPublicKey);
    await viewWhen(TEST_API_KEY, messageId, (candidate) => candidate.steps[0]?.attempts[0]?.status === 'accepted');
  });

  it('rejects pushes to a server-key subscription', async () => {
    const token = await appTokenOf(keyB.key, 'b-stale');
    const endpoint = await registerDevice(token, 'laptop-1', server.vapidPublicKey);

    const messageId = await send(keyB.key, 'b-stale', 'Your code is 4417');
    const record = await pushTo(endpoint);

    expect(record.status).toBe(403);
    expect(record.headers.vapid?.k).toBe(vapidB.publicKey);
    expect(record.error).toMatch(/applicationServerKey/);
    const accepted = server.sandbox.push!.received().filter((candidate) => candidate.endpoint === endpoint && candidate.status === 201);
    expect(accepted).toEqual([]);
    // A rejected push leaves the user without a reachable device, so the attempt fails permanently.
    const view = await viewWhen(keyB.key, messageId, (candidate) => candidate.completedAt !== null);
    expect(view.status).toBe('failed');
    expect(view.steps[0]?.status).toBe('failed');
    expect(view.steps[0]?.attempts.map((attempt) => [attempt.status, attempt.errorCode])).toEqual([['failed', 'no-device']]);
  });

  it('returns to the server key after a delete', async () => {
    const removed = await http(server, 'DELETE', '/v1/channels/appMessaging', { key: keyB.key });
    expect(removed.status).toBe(204);

    const token = await appTokenOf(keyB.key, 'b-after-delete');
    expect(await pushKey(token)).toBe(server.vapidPublicKey);

    // A subscription made with the server key now gets the space's pushes.
    const endpoint = await registerDevice(token, 'tablet-1', server.vapidPublicKey);
    const messageId = await send(keyB.key, 'b-after-delete', 'Your order is on its way');
    const record = await pushTo(endpoint);
    expect(record.status).toBe(201);
    expect(record.headers.vapid?.k).toBe(server.vapidPublicKey);
    await viewWhen(keyB.key, messageId, (candidate) => candidate.steps[0]?.attempts[0]?.status === 'accepted');
  });
});
