import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startSandboxSmsc, type SandboxSmsc } from '../../src/sandbox/smsc.js';
import { derivedKeyId, SecretBox } from '../../src/secret-box.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { ADMIN_KEY, http, type IssuedKey } from '../api/admin-client.js';
import { TEST_API_KEY } from '../helpers/server.js';
import { TestReceiver } from '../webhooks/receiver.js';
import { finalMessage, type ChannelSettingsJson, type MessageJson } from '../helpers/message-json.js';

/*
 * Restarts one server on one data folder with a changing ENCRYPTION_KEY, as an operator
 * rotating the key would: k1 alone, then k2 with k1 in ENCRYPTION_OLD_KEYS, then k2 alone, then
 * an unrelated k3. Each `it` below depends on the state the previous one left.
 */

const silent = pino({ level: 'silent' });
const SYSTEM_ID = 'rotation';
// SMPP limits passwords to 8 characters.
const SMPP_PASSWORD = 'rot-pw-1';
const PHONE_NUMBER = '+12025550101';

function newKey(): string {
  return randomBytes(32).toString('base64');
}

const K1 = `k1:${newKey()}`;
const K2 = `k2:${newKey()}`;
const K3 = `k3:${newKey()}`;

/** Starts a server on `dataDir`, so that a later start with other keys opens the same store. */
async function startOn(dataDir: string, env: Record<string, string>): Promise<RunningServer> {
  const config = loadConfig({ PORT: '0', DATA_DIR: dataDir, API_KEY: TEST_API_KEY, ADMIN_KEY, LOG_LEVEL: 'silent', ...env });
  return startServer(config, { logger: silent });
}

async function createSpaceWithKey(server: RunningServer, name: string): Promise<{ spaceId: string; key: IssuedKey }> {
  const space = await http<{ spaceId: string }>(server, 'POST', '/v1/admin/spaces', { key: ADMIN_KEY, body: { name } });
  expect(space.status).toBe(201);
  const key = await http<IssuedKey>(server, 'POST', `/v1/admin/spaces/${space.body.spaceId}/keys`, { key: ADMIN_KEY, body: {} });
  expect(key.status).toBe(201);
  return { spaceId: space.body.spaceId, key: key.body };
}

async function sendSms(server: RunningServer, key: string, body: string): Promise<string> {
  const response = await http<MessageJson>(server, 'POST', '/v1/messages', { key, body: { body, to: { phoneNumber: PHONE_NUMBER }, rules: ['sms'] } });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body.messageId;
}

describe('encryption key rotation across restarts', () => {
  let dataDir: string;
  let smsc: SandboxSmsc;
  let receiver: TestReceiver;
  let server: RunningServer | null = null;
  let spaceId: string;
  let key: IssuedKey;
  let endpointId: string;
  let webhookSecret: string;
  let maskedAtStart: Record<string, unknown>;
  /** The sealed settings and webhook secret as the last start with a readable key left them. */
  let sealedSettings: string;
  let sealedSecret: string;

  async function restart(env: Record<string, string>): Promise<RunningServer> {
    await server?.close();
    server = null;
    server = await startOn(dataDir, env);
    return server;
  }

  async function storedSettings(running: RunningServer) {
    const row = await running.store.channelSettings.get(spaceId, 'sms');
    expect(row).not.toBeNull();
    return row!;
  }

  async function storedSecret(running: RunningServer): Promise<string> {
    const endpoints = await running.store.webhooks.listEndpointSecrets();
    const endpoint = endpoints.find((candidate) => candidate.spaceId === spaceId && candidate.endpointId === endpointId);
    expect(endpoint).toBeDefined();
    return endpoint!.secret;
  }

  /** Sends an SMS of the space and checks that it went through the space's SMSC and fired a verified webhook. */
  async function expectDeliveredThroughOwnSmsc(running: RunningServer, text: string): Promise<void> {
    const messageId = await sendSms(running, key.key, text);
    const view = await finalMessage(running, key.key, messageId);

    expect(view.status).toBe('delivered');
    const providerId = view.steps[0]?.attempts[0]?.providerMessageId;
    expect(providerId).toBeTruthy();
    const submit = smsc.submits().find((record) => record.messageId === providerId);
    expect(submit?.systemId).toBe(SYSTEM_ID);
    expect(running.sandbox.smsc!.submits()).toHaveLength(0);
    // The receiver verifies each request with the secret returned at creation, so a webhook it
    // accepts shows that the stored secret still opens to that value.
    await vi.waitFor(() => expect(receiver.accepted().some((request) => request.body.data.messageId === messageId)).toBe(true), { timeout: 15_000 });
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cascade-rotation-'));
    smsc = await startSandboxSmsc({ logger: silent, systemId: SYSTEM_ID, password: SMPP_PASSWORD, receiptDelayMs: { delivered: 20 } });
    receiver = await TestReceiver.start();
  });

  afterAll(async () => {
    await server?.close();
    await receiver?.close();
    await smsc?.close();
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  it('seals settings and webhook secrets under k1', async () => {
    const running = await restart({ ENCRYPTION_KEY: K1 });
    expect(running.encryptionKeyId).toBe('k1');
    ({ spaceId, key } = await createSpaceWithKey(running, 'Rotation'));

    const stored = await http<ChannelSettingsJson>(running, 'PUT', '/v1/channels/sms', {
      key: key.key,
      body: { host: '127.0.0.1', port: smsc.port, systemId: SYSTEM_ID, password: SMPP_PASSWORD, sourceAddr: 'ROTATE' },
    });
    expect(stored.status).toBe(201);
    expect(stored.body.encryptionKeyId).toBe('k1');
    const webhook = await http<{ id: string; secret: string }>(running, 'POST', '/v1/webhooks', {
      key: key.key,
      body: { url: receiver.url, events: ['message.delivered'] },
    });
    expect(webhook.status).toBe(201);
    endpointId = webhook.body.id;
    webhookSecret = webhook.body.secret;
    receiver.secret = webhookSecret;

    const read = await http<ChannelSettingsJson>(running, 'GET', '/v1/channels/sms', { key: key.key });
    expect(read.status).toBe(200);
    expect(read.body.encryptionKeyId).toBe('k1');
    expect(read.body.settings.password).toBe('****');
    maskedAtStart = read.body.settings;

    const row = await storedSettings(running);
    expect(row.keyId).toBe('k1');
    expect(SecretBox.keyIdOf(row.sealed)).toBe('k1');
    expect(row.sealed).not.toContain(SMPP_PASSWORD);
    expect(JSON.stringify(row.masked)).not.toContain(SMPP_PASSWORD);
    const secret = await storedSecret(running);
    expect(SecretBox.keyIdOf(secret)).toBe('k1');
    expect(secret).not.toContain(webhookSecret);

    await expectDeliveredThroughOwnSmsc(running, 'Sent while k1 is current');
    sealedSettings = row.sealed;
    sealedSecret = secret;
  });

  it('reseals under k2 while k1 is an old key', async () => {
    const running = await restart({ ENCRYPTION_KEY: K2, ENCRYPTION_OLD_KEYS: K1 });
    expect(running.encryptionKeyId).toBe('k2');

    const read = await http<ChannelSettingsJson>(running, 'GET', '/v1/channels/sms', { key: key.key });
    expect(read.status).toBe(200);
    expect(read.body.encryptionKeyId).toBe('k2');
    expect(read.body.settings).toEqual(maskedAtStart);

    const row = await storedSettings(running);
    expect(row.keyId).toBe('k2');
    expect(SecretBox.keyIdOf(row.sealed)).toBe('k2');
    expect(row.sealed).not.toBe(sealedSettings);
    expect(row.sealed).not.toContain(SMPP_PASSWORD);
    const secret = await storedSecret(running);
    expect(SecretBox.keyIdOf(secret)).toBe('k2');
    expect(secret).not.toBe(sealedSecret);
    expect(secret).not.toContain(webhookSecret);

    await expectDeliveredThroughOwnSmsc(running, 'Sent after the rotation to k2');
    sealedSettings = row.sealed;
    sealedSecret = secret;
  });

  it('delivers with k2 alone', async () => {
    const running = await restart({ ENCRYPTION_KEY: K2 });
    expect(running.encryptionKeyId).toBe('k2');

    // Everything was sealed under k2 already, so this start leaves the stored values as they were.
    expect((await storedSettings(running)).sealed).toBe(sealedSettings);
    expect(await storedSecret(running)).toBe(sealedSecret);
    await expectDeliveredThroughOwnSmsc(running, 'Sent with k1 removed');
  });

  it('skips the space SMS under an unrelated k3', async () => {
    const running = await restart({ ENCRYPTION_KEY: K3 });
    expect(running.encryptionKeyId).toBe('k3');
    const submitsBefore = smsc.submits().length;

    const messageId = await sendSms(running, key.key, 'Sent with a key that opens nothing');
    const view = await finalMessage(running, key.key, messageId);

    expect(view.status).toBe('failed');
    expect(view.steps).toHaveLength(1);
    expect(view.steps[0]).toMatchObject({ channel: 'sms', status: 'skipped', reason: 'channel-not-configured' });
    expect(view.steps[0]?.attempts).toEqual([]);
    expect(smsc.submits()).toHaveLength(submitsBefore);
    // The sandbox SMSC serves spaces without settings, but a space whose settings do not open must not fall back to it.
    expect(running.sandbox.smsc!.submits()).toHaveLength(0);
  });

  it('still reads masked settings under k3', async () => {
    const running = server!;

    const read = await http<ChannelSettingsJson>(running, 'GET', '/v1/channels/sms', { key: key.key });
    expect(read.status).toBe(200);
    expect(read.body.encryptionKeyId).toBe('k2');
    expect(read.body.settings).toEqual(maskedAtStart);

    // Values that k3 cannot open are kept as they were, so restoring k2 makes them usable again.
    expect((await storedSettings(running)).sealed).toBe(sealedSettings);
    expect(await storedSecret(running)).toBe(sealedSecret);
  });
});

describe('generated encryption key file', () => {
  let dataDir: string;
  let smsc: SandboxSmsc;
  let server: RunningServer | null = null;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cascade-key-file-'));
    smsc = await startSandboxSmsc({ logger: silent, systemId: SYSTEM_ID, password: SMPP_PASSWORD, receiptDelayMs: { delivered: 20 } });
  });

  afterAll(async () => {
    await server?.close();
    await smsc?.close();
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  it('writes and reuses the key file', async () => {
    const file = join(dataDir, 'encryption-key');
    server = await startOn(dataDir, {});

    const written = await readFile(file, 'utf8');
    expect(Buffer.from(written.trim(), 'base64')).toHaveLength(32);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const firstKeyId = server.encryptionKeyId;
    expect(firstKeyId).toBe(derivedKeyId(Buffer.from(written.trim(), 'base64')));
    const { key } = await createSpaceWithKey(server, 'Key file');
    const stored = await http<ChannelSettingsJson>(server, 'PUT', '/v1/channels/sms', {
      key: key.key,
      body: { host: '127.0.0.1', port: smsc.port, systemId: SYSTEM_ID, password: SMPP_PASSWORD, sourceAddr: 'KEYFILE' },
    });
    expect(stored.status).toBe(201);
    expect(stored.body.encryptionKeyId).toBe(firstKeyId);
    await server.close();
    server = null;

    server = await startOn(dataDir, {});

    expect(server.encryptionKeyId).toBe(firstKeyId);
    expect(await readFile(file, 'utf8')).toBe(written);
    // Settings sealed by the first start still open: the space's SMS goes through its SMSC.
    const messageId = await sendSms(server, key.key, 'Sent after a restart on the same folder');
    const view = await finalMessage(server, key.key, messageId);
    expect(view.status).toBe('delivered');
    const providerId = view.steps[0]?.attempts[0]?.providerMessageId;
    expect(smsc.submits().some((record) => record.messageId === providerId)).toBe(true);
  });
});
