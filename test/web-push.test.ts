import { createECDH, randomBytes, type ECDH } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { pino } from 'pino';
import webPush from 'web-push';
import { afterEach, describe, expect, it } from 'vitest';
import { WebPushNotifier, type WebPushNotifierOptions } from '../src/channels/app/web-push.js';
import type { AppDevice, AppFeedStore, FeedEntry, PushSubscriptionInput } from '../src/channels/app/types.js';
import { startSandboxPushService, type PushRecord, type SandboxPushService } from '../src/sandbox/push-service.js';

/** http_ece 1.2 ships no type declarations; this is the part of its API the tests call. */
interface HttpEce {
  decrypt(buffer: Buffer, params: { version: 'aes128gcm'; privateKey: ECDH; authSecret: string }): Buffer;
}
const ece = createRequire(import.meta.url)('http_ece') as HttpEce;

const logger = pino({ level: 'silent' });
const SUBJECT = 'mailto:ops@example.com';
const SPACE = 'space-1';
const USER = 'user-1';
const cleanups: Array<() => Promise<void>> = [];
let sequence = 0;

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

/** An in-memory device registry with the two `AppFeedStore` methods the notifier uses. */
class MemoryDevices implements Pick<AppFeedStore, 'listDevices' | 'deleteDevice'> {
  readonly devices: AppDevice[] = [];
  listCalls = 0;

  add(deviceId: string, push: PushSubscriptionInput | null): void {
    this.devices.push({ spaceId: SPACE, appUserId: USER, deviceId, push, createdAt: 0, lastSeenAt: 0 });
  }

  ids(): string[] {
    return this.devices.map((device) => device.deviceId);
  }

  async listDevices(spaceId: string, appUserId: string): Promise<AppDevice[]> {
    this.listCalls += 1;
    return this.devices.filter((device) => device.spaceId === spaceId && device.appUserId === appUserId).map((device) => ({ ...device }));
  }

  async deleteDevice(spaceId: string, appUserId: string, deviceId: string): Promise<boolean> {
    const index = this.devices.findIndex((device) => device.spaceId === spaceId && device.appUserId === appUserId && device.deviceId === deviceId);
    if (index === -1) return false;
    this.devices.splice(index, 1);
    return true;
  }
}

/** A browser's side of a subscription: the keys it generates and keeps to decrypt pushes. */
interface BrowserSubscription {
  subscription: PushSubscriptionInput;
  ecdh: ECDH;
  authSecret: string;
}

function browserSubscription(endpoint: string): BrowserSubscription {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const authSecret = randomBytes(16).toString('base64url');
  return {
    subscription: { endpoint, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: authSecret } },
    ecdh,
    authSecret,
  };
}

function decryptPush(record: PushRecord, browser: BrowserSubscription): unknown {
  const plaintext = ece.decrypt(record.body, { version: 'aes128gcm', privateKey: browser.ecdh, authSecret: browser.authSecret });
  return JSON.parse(plaintext.toString('utf8')) as unknown;
}

function jwtClaims(record: PushRecord): Record<string, unknown> {
  const claims = record.headers.vapid?.t.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as Record<string, unknown>;
}

function feedEntry(overrides: Partial<FeedEntry> = {}): FeedEntry {
  sequence += 1;
  return {
    spaceId: SPACE,
    appUserId: USER,
    messageId: `msg-${sequence}`,
    seq: sequence,
    providerMessageId: `msg-${sequence}_0_1`,
    title: 'Your order',
    body: 'Your parcel ships today.',
    data: { orderId: 'A-1001', items: [1, 2] },
    sentOn: Date.UTC(2025, 0, 15, 9, 30, 0),
    deliveredAt: null,
    readAt: null,
    ...overrides,
  };
}

async function startPushService(): Promise<SandboxPushService> {
  const service = await startSandboxPushService({ logger });
  cleanups.push(() => service.close());
  return service;
}

const vapid = { ...webPush.generateVAPIDKeys(), subject: SUBJECT };

function notifierFor(feed: MemoryDevices, service: SandboxPushService | null, options: Partial<WebPushNotifierOptions> = {}): WebPushNotifier {
  const notifier = new WebPushNotifier({
    feed,
    vapid,
    logger,
    trustedOrigins: service === null ? [] : [service.url],
    ...options,
  });
  cleanups.push(() => notifier.close());
  return notifier;
}

describe('WebPushNotifier', () => {
  it('sends a payload the device decrypts', async () => {
    const service = await startPushService();
    const feed = new MemoryDevices();
    const browser = browserSubscription(service.subscribe().endpoint);
    feed.add('phone', browser.subscription);
    const entry = feedEntry();

    const result = await notifierFor(feed, service).notify(SPACE, USER, entry);

    expect(result).toBe('sent');
    const records = service.received();
    expect(records).toHaveLength(1);
    const record = records[0]!;
    expect(record.status).toBe(201);
    expect(record.endpoint).toBe(browser.subscription.endpoint);
    expect(decryptPush(record, browser)).toEqual({
      type: 'message',
      messageId: entry.messageId,
      seq: entry.seq,
      title: 'Your order',
      body: 'Your parcel ships today.',
      sentOn: '2025-01-15T09:30:00.000Z',
      data: { orderId: 'A-1001', items: [1, 2] },
    });
  });

  it('sends RFC 8030 headers and VAPID JWT', async () => {
    const service = await startPushService();
    const feed = new MemoryDevices();
    feed.add('phone', browserSubscription(service.subscribe().endpoint).subscription);

    await notifierFor(feed, service, { ttlSeconds: 600 }).notify(SPACE, USER, feedEntry());

    const record = service.received()[0]!;
    expect(record.headers.ttl).toBe('600');
    expect(record.headers.urgency).toBe('high');
    expect(record.headers.contentEncoding).toBe('aes128gcm');
    expect(record.headers.topic).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(record.headers.vapid?.k).toBe(vapid.publicKey);
    const claims = jwtClaims(record);
    expect(claims['aud']).toBe(service.url);
    expect(claims['sub']).toBe(SUBJECT);
    expect(record.error).toBeNull();
  });

  it('derives one topic per message', async () => {
    const service = await startPushService();
    const feed = new MemoryDevices();
    feed.add('phone', browserSubscription(service.subscribe().endpoint).subscription);
    const notifier = notifierFor(feed, service);
    const first = feedEntry();
    const second = feedEntry();

    await notifier.notify(SPACE, USER, first);
    await notifier.notify(SPACE, USER, first);
    await notifier.notify(SPACE, USER, second);

    const topics = service.received().map((record) => record.headers.topic);
    expect(topics[0]).toBe(topics[1]);
    expect(topics[2]).not.toBe(topics[0]);
  });

  it('truncates a message larger than one push', async () => {
    const service = await startPushService();
    const feed = new MemoryDevices();
    const browser = browserSubscription(service.subscribe().endpoint);
    feed.add('phone', browser.subscription);
    const entry = feedEntry({ body: 'ü'.repeat(3000), data: { note: 'x'.repeat(500) } });

    const result = await notifierFor(feed, service).notify(SPACE, USER, entry);

    expect(result).toBe('sent');
    const record = service.received()[0]!;
    expect(record.bodyBytes).toBeLessThanOrEqual(4096);
    expect(decryptPush(record, browser)).toEqual({
      type: 'message',
      messageId: entry.messageId,
      seq: entry.seq,
      title: 'Your order',
      sentOn: '2025-01-15T09:30:00.000Z',
      truncated: true,
    });
  });

  it('drops an oversized title', async () => {
    const service = await startPushService();
    const feed = new MemoryDevices();
    const browser = browserSubscription(service.subscribe().endpoint);
    feed.add('phone', browser.subscription);
    const entry = feedEntry({ title: 't'.repeat(5000) });

    await notifierFor(feed, service).notify(SPACE, USER, entry);

    const payload = decryptPush(service.received()[0]!, browser) as Record<string, unknown>;
    expect(payload['truncated']).toBe(true);
    expect(payload['title']).toBeNull();
    expect(payload['body']).toBeUndefined();
  });

  it('sends a maximum-size message whole', async () => {
    const service = await startPushService();
    const feed = new MemoryDevices();
    const browser = browserSubscription(service.subscribe().endpoint);
    feed.add('phone', browser.subscription);
    const base = feedEntry({ body: '' });
    const emptyBodyBytes = Buffer.byteLength(JSON.stringify({
      type: 'message', messageId: base.messageId, seq: base.seq, title: base.title, body: '', sentOn: '2025-01-15T09:30:00.000Z', data: base.data,
    }));
    const entry = { ...base, body: 'b'.repeat(3993 - emptyBodyBytes) };

    const result = await notifierFor(feed, service).notify(SPACE, USER, entry);

    expect(result).toBe('sent');
    const record = service.received()[0]!;
    expect(record.bodyBytes).toBe(4096);
    const payload = decryptPush(record, browser) as Record<string, unknown>;
    expect(payload['body']).toBe(entry.body);
    expect(payload['truncated']).toBeUndefined();
  });

  for (const status of [404, 410] as const) {
    it(`deletes the device on ${status}`, async () => {
      const service = await startPushService();
      const feed = new MemoryDevices();
      feed.add('old-phone', browserSubscription(service.subscribe({ respond: status }).endpoint).subscription);

      const result = await notifierFor(feed, service).notify(SPACE, USER, feedEntry());

      expect(result).toBe('no-device');
      expect(feed.ids()).toEqual([]);
      expect(service.received()[0]?.status).toBe(status);
    });
  }

  it('returns transient with Retry-After on 429', async () => {
    const service = await startPushService();
    const feed = new MemoryDevices();
    feed.add('phone', browserSubscription(service.subscribe({ respond: 429, retryAfterSeconds: 7 }).endpoint).subscription);

    const result = await notifierFor(feed, service).notify(SPACE, USER, feedEntry());

    expect(result).toEqual({ transient: expect.stringContaining('HTTP 429') as unknown, retryAfterMs: 7000 });
    expect(feed.ids()).toEqual(['phone']);
  });

  it('returns transient without a delay on 500', async () => {
    const service = await startPushService();
    const feed = new MemoryDevices();
    feed.add('phone', browserSubscription(service.subscribe({ respond: 500 }).endpoint).subscription);

    const result = await notifierFor(feed, service).notify(SPACE, USER, feedEntry());

    expect(typeof result).toBe('object');
    expect(result).not.toHaveProperty('retryAfterMs');
    expect((result as { transient: string }).transient).toContain('HTTP 500');
    expect(feed.ids()).toEqual(['phone']);
  });

  it('returns transient when unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const origin = `http://127.0.0.1:${port}`;
    const feed = new MemoryDevices();
    feed.add('phone', browserSubscription(`${origin}/push/abc`).subscription);

    const result = await notifierFor(feed, null, { trustedOrigins: [origin] }).notify(SPACE, USER, feedEntry());

    expect(typeof result).toBe('object');
    expect((result as { transient: string }).transient).toContain('ECONNREFUSED');
    expect(feed.ids()).toEqual(['phone']);
  });

  it('sends to live, deletes gone device', async () => {
    const service = await startPushService();
    const feed = new MemoryDevices();
    const live = browserSubscription(service.subscribe().endpoint);
    feed.add('gone-tablet', browserSubscription(service.subscribe({ respond: 410 }).endpoint).subscription);
    feed.add('phone', live.subscription);
    feed.add('socket-only', null);
    const entry = feedEntry();

    const result = await notifierFor(feed, service).notify(SPACE, USER, entry);

    expect(result).toBe('sent');
    expect(feed.ids()).toEqual(['phone', 'socket-only']);
    const accepted = service.received().filter((record) => record.status === 201);
    expect(accepted).toHaveLength(1);
    expect((decryptPush(accepted[0]!, live) as Record<string, unknown>)['messageId']).toBe(entry.messageId);
  });

  it('prefers transient over no-device', async () => {
    const service = await startPushService();
    const feed = new MemoryDevices();
    feed.add('gone', browserSubscription(service.subscribe({ respond: 410 }).endpoint).subscription);
    feed.add('busy', browserSubscription(service.subscribe({ respond: 429, retryAfterSeconds: 3 }).endpoint).subscription);

    const result = await notifierFor(feed, service).notify(SPACE, USER, feedEntry());

    expect(result).toEqual({ transient: expect.stringContaining('1 of 2 devices') as unknown, retryAfterMs: 3000 });
    expect(feed.ids()).toEqual(['busy']);
  });

  it('returns no-device without subscriptions', async () => {
    const service = await startPushService();
    const feed = new MemoryDevices();
    feed.add('socket-only', null);

    const result = await notifierFor(feed, service).notify(SPACE, USER, feedEntry());

    expect(result).toBe('no-device');
    expect(service.received()).toEqual([]);
  });

  it('keeps device on VAPID rejection', async () => {
    const service = await startPushService();
    const feed = new MemoryDevices();
    const otherKey = webPush.generateVAPIDKeys().publicKey;
    feed.add('phone', browserSubscription(service.subscribe({ applicationServerKey: otherKey }).endpoint).subscription);

    const result = await notifierFor(feed, service).notify(SPACE, USER, feedEntry());

    expect(result).toBe('no-device');
    expect(service.received()[0]?.status).toBe(403);
    expect(feed.ids()).toEqual(['phone']);
  });

  it('rejects untrusted plain http endpoints', async () => {
    const service = await startPushService();
    const feed = new MemoryDevices();
    feed.add('phone', browserSubscription(service.subscribe().endpoint).subscription);

    const result = await notifierFor(feed, null).notify(SPACE, USER, feedEntry());

    expect(result).toBe('no-device');
    expect(service.received()).toEqual([]);
    expect(feed.ids()).toEqual(['phone']);
  });

  it('keeps device with renewed subscription', async () => {
    const service = await startPushService();
    const renewed = browserSubscription(service.subscribe().endpoint).subscription;
    // The browser replaces its subscription after Cascade listed the devices and before the 410 comes back.
    class RenewingDevices extends MemoryDevices {
      override async listDevices(spaceId: string, appUserId: string): Promise<AppDevice[]> {
        const listed = await super.listDevices(spaceId, appUserId);
        if (this.listCalls === 1) {
          this.devices[0]!.push = renewed;
        }
        return listed;
      }
    }
    const feed = new RenewingDevices();
    feed.add('phone', browserSubscription(service.subscribe({ respond: 410 }).endpoint).subscription);

    const result = await notifierFor(feed, service).notify(SPACE, USER, feedEntry());

    expect(result).toBe('no-device');
    expect(feed.ids()).toEqual(['phone']);
    expect(feed.devices[0]?.push?.endpoint).toBe(renewed.endpoint);
  });

  it('rejects invalid options', () => {
    const feed = new MemoryDevices();
    expect(() => new WebPushNotifier({ feed, vapid: { ...vapid, privateKey: webPush.generateVAPIDKeys().privateKey }, logger })).toThrow(/does not belong/);
    expect(() => new WebPushNotifier({ feed, vapid: { ...vapid, subject: 'http://example.com' }, logger })).toThrow(/mailto: or https:/);
    expect(() => new WebPushNotifier({ feed, vapid, logger, ttlSeconds: -1 })).toThrow(/ttlSeconds/);
    expect(() => new WebPushNotifier({ feed, vapid, logger, timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => new WebPushNotifier({ feed, vapid, logger, trustedOrigins: ['not a url'] })).toThrow(/trusted origin/);
  });
});
