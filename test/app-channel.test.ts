import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppChannel } from '../src/channels/app/channel.js';
import { AppHub } from '../src/channels/app/hub.js';
import type { FeedEntry } from '../src/channels/app/types.js';
import type { AppPushNotifier, PushNotifyResult } from '../src/channels/app/web-push.js';
import type { ChannelContent, ProviderReceipt, SendRequest } from '../src/channels/types.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { Store } from '../src/store/types.js';

const NOW = Date.parse('2025-06-01T12:00:00Z');
const CONTENT: ChannelContent = { body: 'Your parcel arrives today', title: 'Delivery', custom: null, options: null };

function request(overrides: Partial<SendRequest> = {}): SendRequest {
  return {
    messageId: 'msg-1',
    step: 0,
    attempt: 1,
    idempotencyKey: 'msg-1_0_1',
    address: 'user-1',
    content: CONTENT,
    ...overrides,
  };
}

/** A push notifier that returns the queued results and records its calls. */
class ScriptedNotifier implements AppPushNotifier {
  readonly calls: Array<{ spaceId: string; appUserId: string; messageId: string }> = [];

  constructor(private readonly results: Array<PushNotifyResult | Error>) {}

  async notify(spaceId: string, appUserId: string, entry: FeedEntry): Promise<PushNotifyResult> {
    this.calls.push({ spaceId, appUserId, messageId: entry.messageId });
    const result = this.results.shift() ?? 'no-device';
    if (result instanceof Error) throw result;
    return result;
  }
}

describe('app channel', () => {
  let dir = '';
  let store: Store;
  let hub: AppHub;
  const logger = pino({ level: 'silent' });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cascade-app-'));
    store = await openSqliteStore({ file: join(dir, 'cascade.sqlite') });
    await store.migrate();
    hub = new AppHub({ feed: store.appFeed, logger, now: () => NOW });
  });

  afterEach(async () => {
    await hub.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  function channel(pushNotifier: AppPushNotifier | null = null): AppChannel {
    return new AppChannel({ spaceId: 'default', feed: store.appFeed, hub, pushNotifier, logger, now: () => NOW });
  }

  it('declares its id and conditions', () => {
    const app = channel();

    expect(app.id).toBe('appMessaging');
    expect(app.defaultCondition).toBe('delivered');
    expect(app.supportedConditions).toEqual(['accepted', 'delivered', 'read']);
  });

  it('resolveAddress reads appUserId', () => {
    const app = channel();

    expect(app.resolveAddress({ appUserId: ' user-1 ', phoneNumber: '+12025550101' })).toBe('user-1');
    expect(app.resolveAddress({ phoneNumber: '+12025550101' })).toBeNull();
    expect(app.resolveAddress({ appUserId: '  ' })).toBeNull();
  });

  it('no socket and no device is permanent no-device', async () => {
    const outcome = await channel().send(request());

    expect(outcome).toMatchObject({ kind: 'permanent', code: 'no-device' });
    // The message stays in the inbox.
    expect(await store.appFeed.getFeedEntry('default', 'user-1', 'msg-1')).toMatchObject({ body: 'Your parcel arrives today' });
  });

  it('polling device makes the message wait in the inbox', async () => {
    await store.appFeed.upsertDevice({ spaceId: 'default', appUserId: 'user-1', deviceId: 'phone', push: null }, NOW);

    const outcome = await channel().send(request());

    expect(outcome).toEqual({ kind: 'accepted', providerMessageId: 'msg-1_0_1' });
  });

  it('later attempt returns the first attempt id', async () => {
    const notifier = new ScriptedNotifier([{ transient: 'HTTP 503 from https://push.example.net' }, 'sent']);
    const app = channel(notifier);

    const first = await app.send(request());
    const second = await app.send(request({ attempt: 2, idempotencyKey: 'msg-1_0_2' }));

    expect(first).toEqual({ kind: 'transient', code: 'push-failed', message: 'HTTP 503 from https://push.example.net' });
    expect(second).toEqual({ kind: 'accepted', providerMessageId: 'msg-1_0_1' });
    expect(await store.appFeed.readFeed('default', 'user-1', 0, 10)).toHaveLength(1);
  });

  it('push sent is accepted', async () => {
    const notifier = new ScriptedNotifier(['sent']);

    const outcome = await channel(notifier).send(request());

    expect(outcome).toEqual({ kind: 'accepted', providerMessageId: 'msg-1_0_1' });
    expect(notifier.calls).toEqual([{ spaceId: 'default', appUserId: 'user-1', messageId: 'msg-1' }]);
  });

  it('push transient keeps retryAfterMs', async () => {
    const notifier = new ScriptedNotifier([{ transient: 'HTTP 429 from https://push.example.net', retryAfterMs: 5000 }]);

    const outcome = await channel(notifier).send(request());

    expect(outcome).toEqual({ kind: 'transient', code: 'push-failed', message: 'HTTP 429 from https://push.example.net', retryAfterMs: 5000 });
  });

  it('push no-device without polling device is permanent', async () => {
    const outcome = await channel(new ScriptedNotifier(['no-device'])).send(request());

    expect(outcome).toMatchObject({ kind: 'permanent', code: 'no-device' });
  });

  it('push no-device with polling device is accepted', async () => {
    await store.appFeed.upsertDevice({ spaceId: 'default', appUserId: 'user-1', deviceId: 'kiosk', push: null }, NOW);

    const outcome = await channel(new ScriptedNotifier(['no-device'])).send(request());

    expect(outcome).toEqual({ kind: 'accepted', providerMessageId: 'msg-1_0_1' });
  });

  it('throwing notifier is transient', async () => {
    const outcome = await channel(new ScriptedNotifier([new Error('device list unavailable')])).send(request());

    expect(outcome).toMatchObject({ kind: 'transient', code: 'push-failed', message: expect.stringContaining('device list unavailable') });
  });

  it('acknowledged entry is accepted again without a push', async () => {
    const notifier = new ScriptedNotifier([new Error('push service down')]);
    const app = channel(notifier);
    await app.send(request());
    await hub.acknowledge('default', 'user-1', 'msg-1', 'delivered');

    const outcome = await app.send(request({ attempt: 2, idempotencyKey: 'msg-1_0_2' }));

    expect(outcome).toEqual({ kind: 'accepted', providerMessageId: 'msg-1_0_1' });
    expect(notifier.calls).toHaveLength(1);
  });

  it('custom body replaces title and body and carries data', async () => {
    await store.appFeed.upsertDevice({ spaceId: 'default', appUserId: 'user-1', deviceId: 'phone', push: null }, NOW);
    const content: ChannelContent = { ...CONTENT, custom: { title: 'Shipped', body: 'Order 88121 shipped', data: { orderId: '88121' } } };

    await channel().send(request({ content }));

    const entry = await store.appFeed.getFeedEntry('default', 'user-1', 'msg-1');
    expect(entry).toMatchObject({ title: 'Shipped', body: 'Order 88121 shipped', data: { orderId: '88121' }, sentOn: NOW });
  });

  it('non-object data is left out', async () => {
    await store.appFeed.upsertDevice({ spaceId: 'default', appUserId: 'user-1', deviceId: 'phone', push: null }, NOW);

    await channel().send(request({ content: { ...CONTENT, custom: { data: ['a'] } } }));

    expect((await store.appFeed.getFeedEntry('default', 'user-1', 'msg-1'))?.data).toBeNull();
  });
});

describe('app acknowledgements', () => {
  let dir = '';
  let store: Store;
  let hub: AppHub;
  let receipts: ProviderReceipt[];
  const logger = pino({ level: 'silent' });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cascade-app-'));
    store = await openSqliteStore({ file: join(dir, 'cascade.sqlite') });
    await store.migrate();
    hub = new AppHub({ feed: store.appFeed, logger, now: () => NOW });
    receipts = [];
    const app = new AppChannel({ spaceId: 'default', feed: store.appFeed, hub, logger, now: () => NOW });
    app.onReceipt((receipt) => {
      receipts.push(receipt);
    });
    await store.appFeed.appendFeed({
      spaceId: 'default',
      appUserId: 'user-1',
      messageId: 'msg-1',
      providerMessageId: 'msg-1_0_1',
      title: null,
      body: 'hello',
      data: null,
      sentOn: NOW,
    });
  });

  afterEach(async () => {
    await hub.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('ack emits one delivered receipt', async () => {
    const first = await hub.acknowledge('default', 'user-1', 'msg-1', 'delivered');
    const second = await hub.acknowledge('default', 'user-1', 'msg-1', 'delivered');

    expect(first).toMatchObject({ outcome: 'recorded', entry: { deliveredAt: NOW, readAt: null } });
    expect(second).toMatchObject({ outcome: 'unchanged', entry: { deliveredAt: NOW } });
    expect(receipts).toEqual([{ spaceId: 'default', channel: 'appMessaging', providerMessageId: 'msg-1_0_1', state: 'delivered', errorCode: null, providerTimestamp: NOW }]);
  });

  it('read after ack emits a read receipt', async () => {
    await hub.acknowledge('default', 'user-1', 'msg-1', 'delivered');
    await hub.acknowledge('default', 'user-1', 'msg-1', 'read');
    await hub.acknowledge('default', 'user-1', 'msg-1', 'delivered');

    expect(receipts.map((receipt) => receipt.state)).toEqual(['delivered', 'read']);
  });

  it('unknown message or other user is not found', async () => {
    expect(await hub.acknowledge('default', 'user-1', 'msg-2', 'read')).toEqual({ outcome: 'not-found' });
    expect(await hub.acknowledge('default', 'user-2', 'msg-1', 'read')).toEqual({ outcome: 'not-found' });
    expect(await hub.acknowledge('other', 'user-1', 'msg-1', 'read')).toEqual({ outcome: 'not-found' });
    expect(receipts).toEqual([]);
  });

  it('failing listener leaves the feed unmarked for a retry', async () => {
    let failures = 1;
    hub.onReceipt(() => {
      if (failures > 0) {
        failures -= 1;
        throw new Error('receipt store unavailable');
      }
    });

    await expect(hub.acknowledge('default', 'user-1', 'msg-1', 'read')).rejects.toThrow('receipt listener(s) failed');
    expect((await store.appFeed.getFeedEntry('default', 'user-1', 'msg-1'))?.readAt).toBeNull();

    expect(await hub.acknowledge('default', 'user-1', 'msg-1', 'read')).toMatchObject({ outcome: 'recorded' });
  });

  it('receipts name the entry space', async () => {
    await hub.acknowledge('default', 'user-1', 'msg-1', 'delivered');

    expect(receipts).toHaveLength(1);
    expect(receipts[0]?.spaceId).toBe('default');
  });
});
