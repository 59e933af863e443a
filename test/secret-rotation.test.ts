import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { channelSettingsContext, maskSettings, type SmsSettings } from '../src/channels/settings.js';
import type { ChannelId } from '../src/routing/types.js';
import { SecretBox, type EncryptionKey } from '../src/secret-box.js';
import { resealStoredSecrets } from '../src/secret-rotation.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { Store } from '../src/store/types.js';
import { openWebhookSecret, sealWebhookSecret } from '../src/webhooks/secret-storage.js';
import { generateSecret } from '../src/webhooks/signature.js';
import { T0 } from './store/fixtures.js';

const silent = pino({ level: 'silent' });

const OLD: EncryptionKey = { id: 'old', key: randomBytes(32) };
const CURRENT: EncryptionKey = { id: 'current', key: randomBytes(32) };
const LOST: EncryptionKey = { id: 'lost', key: randomBytes(32) };

const oldBox = new SecretBox([OLD]);
const lostBox = new SecretBox([LOST]);
/** The box after a rotation: `current` seals, `old` still opens. */
const rotatedBox = new SecretBox([CURRENT, OLD]);
/** The box once the old key is removed from the configuration. */
const currentOnlyBox = new SecretBox([CURRENT]);

function smsSettings(spaceId: string): SmsSettings {
  return { host: 'smsc.example.net', port: 2775, systemId: `system-${spaceId}`, password: `password-of-${spaceId}`, sourceAddr: 'ACME' };
}

/** Stores settings sealed by `box`, as a row written before the rotation. */
async function putSettings(store: Store, box: SecretBox, spaceId: string, channel: ChannelId, settings: object): Promise<string> {
  const sealed = box.seal(JSON.stringify(settings), channelSettingsContext(spaceId, channel));
  await store.channelSettings.put({
    spaceId,
    channel,
    masked: maskSettings(channel, { ...settings }),
    sealed,
    keyId: box.keyId,
    now: T0,
  });
  return sealed;
}

async function openSettings(store: Store, box: SecretBox, spaceId: string, channel: ChannelId): Promise<unknown> {
  const stored = await store.channelSettings.get(spaceId, channel);
  if (stored === null) throw new Error(`no ${channel} settings in space ${spaceId}`);
  return JSON.parse(box.open(stored.sealed, channelSettingsContext(spaceId, channel)));
}

/** Creates an endpoint whose secret column contains `storedSecret` unchanged. */
async function createEndpoint(store: Store, spaceId: string, endpointId: string, storedSecret: string): Promise<void> {
  const result = await store.webhooks.createEndpoint(
    { id: endpointId, spaceId, url: 'http://127.0.0.1:9/hooks', events: ['message.sent'], description: null, createdAt: T0, secret: storedSecret },
    10,
  );
  expect(result.result).toBe('created');
}

async function storedSecretOf(store: Store, endpointId: string): Promise<string> {
  const endpoint = (await store.webhooks.listEndpointSecrets()).find((candidate) => candidate.endpointId === endpointId);
  if (endpoint === undefined) throw new Error(`no webhook endpoint ${endpointId}`);
  return endpoint.secret;
}

describe('resealStoredSecrets', () => {
  let dir = '';
  let store: Store;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cascade-reseal-'));
    store = await openSqliteStore({ file: join(dir, 'cascade.sqlite') });
    await store.migrate();
    await store.createSpace({ id: 'space-b', name: 'Space B', createdAt: T0 });
  });

  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reseals channel settings sealed with an old key', async () => {
    const before = await putSettings(store, oldBox, 'default', 'sms', smsSettings('default'));
    await putSettings(store, oldBox, 'space-b', 'sms', smsSettings('space-b'));

    const report = await resealStoredSecrets(store, rotatedBox, silent);

    expect(report).toEqual({ resealed: 2, unreadable: 0 });
    const stored = await store.channelSettings.get('default', 'sms');
    expect(stored?.keyId).toBe('current');
    expect(stored?.sealed).not.toBe(before);
    expect(SecretBox.keyIdOf(stored?.sealed ?? '')).toBe('current');
    expect(stored?.masked).toEqual(maskSettings('sms', { ...smsSettings('default') }));
    expect(await openSettings(store, currentOnlyBox, 'default', 'sms')).toEqual(smsSettings('default'));
    expect(await openSettings(store, currentOnlyBox, 'space-b', 'sms')).toEqual(smsSettings('space-b'));
  });

  it('seals webhook secrets stored in plain text', async () => {
    const secret = generateSecret();
    await createEndpoint(store, 'default', 'endpoint-plain', secret);

    const report = await resealStoredSecrets(store, rotatedBox, silent);

    expect(report).toEqual({ resealed: 1, unreadable: 0 });
    const stored = await storedSecretOf(store, 'endpoint-plain');
    expect(stored).not.toContain(secret.slice('whsec_'.length));
    expect(SecretBox.keyIdOf(stored)).toBe('current');
    expect(openWebhookSecret(currentOnlyBox, stored, 'default', 'endpoint-plain')).toBe(secret);
  });

  it('reseals webhook secrets sealed with an old key', async () => {
    const secret = generateSecret();
    const before = sealWebhookSecret(oldBox, secret, 'space-b', 'endpoint-old');
    await createEndpoint(store, 'space-b', 'endpoint-old', before);

    const report = await resealStoredSecrets(store, rotatedBox, silent);

    expect(report).toEqual({ resealed: 1, unreadable: 0 });
    const stored = await storedSecretOf(store, 'endpoint-old');
    expect(stored).not.toBe(before);
    expect(SecretBox.keyIdOf(stored)).toBe('current');
    expect(openWebhookSecret(currentOnlyBox, stored, 'space-b', 'endpoint-old')).toBe(secret);
  });

  it('leaves values sealed with the current key unchanged', async () => {
    const settings = await putSettings(store, rotatedBox, 'default', 'email', { host: 'smtp.example.net', port: 587, tls: 'starttls', password: 'relay', from: 'a@acme.example' });
    const webhook = sealWebhookSecret(rotatedBox, generateSecret(), 'default', 'endpoint-current');
    await createEndpoint(store, 'default', 'endpoint-current', webhook);

    const report = await resealStoredSecrets(store, rotatedBox, silent);

    expect(report).toEqual({ resealed: 0, unreadable: 0 });
    expect((await store.channelSettings.get('default', 'email'))?.sealed).toBe(settings);
    expect(await storedSecretOf(store, 'endpoint-current')).toBe(webhook);
  });

  it('leaves unknown-key values, counted unreadable', async () => {
    const lostSettings = await putSettings(store, lostBox, 'default', 'sms', smsSettings('default'));
    const lostWebhook = sealWebhookSecret(lostBox, generateSecret(), 'default', 'endpoint-lost');
    await createEndpoint(store, 'default', 'endpoint-lost', lostWebhook);
    await putSettings(store, oldBox, 'space-b', 'sms', smsSettings('space-b'));
    await createEndpoint(store, 'space-b', 'endpoint-plain', generateSecret());

    const report = await resealStoredSecrets(store, rotatedBox, silent);

    expect(report).toEqual({ resealed: 2, unreadable: 2 });
    const stored = await store.channelSettings.get('default', 'sms');
    expect(stored?.sealed).toBe(lostSettings);
    expect(stored?.keyId).toBe('lost');
    expect(await storedSecretOf(store, 'endpoint-lost')).toBe(lostWebhook);
    expect((await store.channelSettings.get('space-b', 'sms'))?.keyId).toBe('current');
  });

  it('logs the unknown key id and no secret', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const webhookSecret = generateSecret();
    await putSettings(store, lostBox, 'space-b', 'sms', smsSettings('space-b'));
    await createEndpoint(store, 'default', 'endpoint-lost', sealWebhookSecret(lostBox, webhookSecret, 'default', 'endpoint-lost'));
    await createEndpoint(store, 'default', 'endpoint-plain', webhookSecret);

    await resealStoredSecrets(store, rotatedBox, logger);

    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const errors = records.filter((record) => record['level'] === 50);
    expect(errors).toHaveLength(2);
    for (const error of errors) expect(error['keyId']).toBe('lost');
    expect(errors.map((error) => error['spaceId']).sort()).toEqual(['default', 'space-b']);
    const output = lines.join('');
    expect(output).not.toContain(webhookSecret.slice('whsec_'.length));
    expect(output).not.toContain('password-of-space-b');
  });

  it('reseals nothing the second time', async () => {
    await putSettings(store, oldBox, 'default', 'sms', smsSettings('default'));
    await createEndpoint(store, 'default', 'endpoint-plain', generateSecret());
    await createEndpoint(store, 'space-b', 'endpoint-old', sealWebhookSecret(oldBox, generateSecret(), 'space-b', 'endpoint-old'));

    const first = await resealStoredSecrets(store, rotatedBox, silent);
    const settingsAfterFirst = (await store.channelSettings.get('default', 'sms'))?.sealed;
    const secretsAfterFirst = await store.webhooks.listEndpointSecrets();
    const second = await resealStoredSecrets(store, rotatedBox, silent);

    expect(first).toEqual({ resealed: 3, unreadable: 0 });
    expect(second).toEqual({ resealed: 0, unreadable: 0 });
    expect((await store.channelSettings.get('default', 'sms'))?.sealed).toBe(settingsAfterFirst);
    expect(await store.webhooks.listEndpointSecrets()).toEqual(secretsAfterFirst);
  });

  it('reseals rows beyond the first batch', async () => {
    const channels: ChannelId[] = ['sms', 'email', 'whatsApp', 'fbMessenger', 'appMessaging'];
    const spaceIds = Array.from({ length: 25 }, (_, index) => `space-${String(index).padStart(2, '0')}`);
    for (const spaceId of spaceIds) {
      for (const channel of channels) await putSettings(store, oldBox, spaceId, channel, { spaceId, channel });
    }

    const report = await resealStoredSecrets(store, rotatedBox, silent);

    expect(report).toEqual({ resealed: 125, unreadable: 0 });
    expect(await store.channelSettings.listSealedWithOtherKey('current', null, 1_000)).toEqual([]);
    expect(await openSettings(store, currentOnlyBox, 'space-24', 'appMessaging')).toEqual({ spaceId: 'space-24', channel: 'appMessaging' });
  });

  it('counts every unreadable row beyond the first batch', async () => {
    const channels: ChannelId[] = ['sms', 'email', 'whatsApp', 'fbMessenger', 'appMessaging'];
    for (let index = 0; index < 25; index += 1) {
      const spaceId = `space-${String(index).padStart(2, '0')}`;
      for (const channel of channels) await putSettings(store, lostBox, spaceId, channel, { spaceId, channel });
    }

    const report = await resealStoredSecrets(store, rotatedBox, silent);

    expect(report).toEqual({ resealed: 0, unreadable: 125 });
  });

  it('goes on past a value that does not authenticate', async () => {
    // A value sealed for another space opens nowhere else, even under a configured key.
    const copied = await putSettings(store, oldBox, 'space-a', 'sms', smsSettings('space-a'));
    await store.channelSettings.put({ spaceId: 'space-b', channel: 'sms', masked: {}, sealed: copied, keyId: 'old', now: 1 });
    await putSettings(store, oldBox, 'space-c', 'sms', smsSettings('space-c'));

    const report = await resealStoredSecrets(store, rotatedBox, silent);

    expect(report).toEqual({ resealed: 2, unreadable: 1 });
    expect(await openSettings(store, currentOnlyBox, 'space-c', 'sms')).toEqual(smsSettings('space-c'));
  });
});
