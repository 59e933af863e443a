import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import webPush from 'web-push';
import { channelSettingsContext, maskSettings, type AppMessagingSettings } from '../../src/channels/settings.js';
import { SpaceVapidKeys } from '../../src/delivery/space-vapid.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { testSecretBox } from '../support/secret-box.js';

const REFRESH_MS = 10_000;

describe('space VAPID keys', () => {
  let dir = '';
  let store: Store;
  let clock = 0;
  const box = testSecretBox();

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cascade-space-vapid-'));
    store = await openSqliteStore({ file: join(dir, 'cascade.sqlite') });
    await store.migrate();
    clock = 1_000_000;
  });

  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function putKeys(): Promise<AppMessagingSettings> {
    const pair = webPush.generateVAPIDKeys();
    const settings: AppMessagingSettings = { vapidPublicKey: pair.publicKey, vapidPrivateKey: pair.privateKey, vapidSubject: 'mailto:ops@example.com' };
    await store.channelSettings.put({
      spaceId: 'space-1',
      channel: 'appMessaging',
      masked: maskSettings('appMessaging', { ...settings }),
      sealed: box.seal(JSON.stringify(settings), channelSettingsContext('space-1', 'appMessaging')),
      keyId: box.keyId,
      now: clock,
    });
    return settings;
  }

  it('reads keys stored by another process after the refresh interval', async () => {
    const keys = new SpaceVapidKeys(store.channelSettings, box, pino({ level: 'silent' }), REFRESH_MS, () => clock);
    expect(await keys.get('space-1')).toBeNull();

    const stored = await putKeys();
    const withinRefresh = await keys.get('space-1');
    clock += REFRESH_MS;
    const afterRefresh = await keys.get('space-1');

    expect(withinRefresh).toBeNull();
    expect(afterRefresh).toEqual({ publicKey: stored.vapidPublicKey, privateKey: stored.vapidPrivateKey, subject: stored.vapidSubject });
  });

  it('reads the keys again at once after invalidate', async () => {
    const keys = new SpaceVapidKeys(store.channelSettings, box, pino({ level: 'silent' }), REFRESH_MS, () => clock);
    expect(await keys.get('space-1')).toBeNull();

    const stored = await putKeys();
    keys.invalidate('space-1');

    expect((await keys.get('space-1'))?.publicKey).toBe(stored.vapidPublicKey);
  });
});
