import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { channelFromSettings } from '../../src/channels/from-settings.js';
import { channelSettingsContext, maskSettings, type SmsSettings } from '../../src/channels/settings.js';
import type { Channel, SendRequest } from '../../src/channels/types.js';
import { SpaceChannels } from '../../src/delivery/space-channels.js';
import { startSandboxSmsc, type SandboxSmsc } from '../../src/sandbox/smsc.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { testSecretBox } from '../support/secret-box.js';

const silent = pino({ level: 'silent' });
const box = testSecretBox();
const REFRESH_MS = 10_000;

function request(messageId: string): SendRequest {
  return {
    spaceId: 'space-1',
    messageId,
    step: 0,
    attempt: 1,
    idempotencyKey: `${messageId}_0_1`,
    address: '+12025550101',
    content: { body: 'Your parcel arrives today', title: null, custom: null, options: null },
  };
}

describe('space channels', () => {
  let dir = '';
  let store: Store;
  const smscs: SandboxSmsc[] = [];
  const registries: SpaceChannels[] = [];
  let clock = 0;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cascade-space-channels-'));
    store = await openSqliteStore({ file: join(dir, 'cascade.sqlite') });
    await store.migrate();
    clock = 1_000_000;
  });

  afterEach(async () => {
    for (const registry of registries.splice(0)) await registry.close();
    for (const smsc of smscs.splice(0)) await smsc.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function smsc(systemId: string, responseDelayMs = 0): Promise<SandboxSmsc> {
    const started = await startSandboxSmsc({ logger: silent, systemId, password: 'pw', responseDelayMs });
    smscs.push(started);
    return started;
  }

  /** Stores settings as `PUT /v1/channels/sms` does. */
  async function putSms(peer: SandboxSmsc, systemId: string): Promise<void> {
    const settings: SmsSettings = { host: '127.0.0.1', port: peer.port, systemId, password: 'pw', sourceAddr: 'SPACE' };
    await store.channelSettings.put({
      spaceId: 'space-1',
      channel: 'sms',
      masked: maskSettings('sms', { ...settings }),
      sealed: box.seal(JSON.stringify(settings), channelSettingsContext('space-1', 'sms')),
      keyId: box.keyId,
      now: clock,
    });
  }

  /** Creates a registry as one process has it; two of them on one store act as two processes. */
  function registry(): SpaceChannels {
    const created = new SpaceChannels({
      settings: store.channelSettings,
      box,
      defaultSpaceId: 'default',
      processChannels: new Map(),
      shared: new Set(),
      factory: (_spaceId, channel, settings) => channelFromSettings(channel, settings, { defaultRegion: null, graphApiVersion: 'v21.0', logger: silent }),
      logger: silent,
      refreshMs: REFRESH_MS,
      now: () => clock,
    });
    registries.push(created);
    return created;
  }

  async function sendThrough(channel: Channel | undefined, messageId: string): Promise<void> {
    const outcome = await channel?.send(request(messageId));
    expect(outcome?.kind).toBe('accepted');
  }

  it('builds a channel from the space settings', async () => {
    const peer = await smsc('first');
    await putSms(peer, 'first');

    const channel = await registry().resolve('space-1', 'sms');
    await sendThrough(channel, 'msg-1');

    expect(peer.submits().map((record) => record.systemId)).toEqual(['first']);
  });

  it('skips a space without settings and without a shared channel', async () => {
    expect(await registry().resolve('space-1', 'sms')).toBeUndefined();
  });

  it('picks up settings another process changed', async () => {
    const first = await smsc('first');
    const second = await smsc('second');
    await putSms(first, 'first');
    const local = registry();
    const before = await local.resolve('space-1', 'sms');

    // Another process replaces the settings; this registry is not invalidated.
    await putSms(second, 'second');
    const withinRefresh = await local.resolve('space-1', 'sms');
    clock += REFRESH_MS;
    const afterRefresh = await local.resolve('space-1', 'sms');
    await sendThrough(afterRefresh, 'msg-2');

    expect(withinRefresh).toBe(before);
    expect(afterRefresh).not.toBe(before);
    expect(second.submits().map((record) => record.systemId)).toEqual(['second']);
    expect(first.submits()).toEqual([]);
  });

  it('keeps a channel whose settings did not change', async () => {
    const peer = await smsc('first');
    await putSms(peer, 'first');
    const local = registry();
    const before = await local.resolve('space-1', 'sms');

    clock += REFRESH_MS;
    const after = await local.resolve('space-1', 'sms');

    expect(after).toBe(before);
  });

  it('drops a channel whose settings another process deleted', async () => {
    const peer = await smsc('first');
    await putSms(peer, 'first');
    const local = registry();
    expect(await local.resolve('space-1', 'sms')).toBeDefined();

    await store.channelSettings.delete('space-1', 'sms');
    clock += REFRESH_MS;

    expect(await local.resolve('space-1', 'sms')).toBeUndefined();
  });

  it('lets a send in flight finish when the settings change', async () => {
    const slow = await smsc('first', 300);
    const other = await smsc('second');
    await putSms(slow, 'first');
    const local = registry();
    const channel = await local.resolve('space-1', 'sms');

    const sending = channel?.send(request('msg-3'));
    await slow.waitForSubmit(() => true, 10_000).catch(() => undefined);
    await putSms(other, 'second');
    await local.invalidate('space-1', 'sms');
    const outcome = await sending;

    expect(outcome?.kind).toBe('accepted');
    expect(await local.resolve('space-1', 'sms')).not.toBe(channel);
  });

  it('turns the channel off for settings it cannot build', async () => {
    // Stored before the API checked that settings build, or written by another version.
    const settings = { host: 'smtp.example.com:587', port: 587, tls: 'starttls', from: 'a@b.example' };
    await store.channelSettings.put({
      spaceId: 'space-1',
      channel: 'email',
      masked: settings,
      sealed: box.seal(JSON.stringify(settings), channelSettingsContext('space-1', 'email')),
      keyId: box.keyId,
      now: clock,
    });

    expect(await registry().resolve('space-1', 'email')).toBeUndefined();
  });
});
