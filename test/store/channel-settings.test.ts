import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { NewChannelSettings, Store } from '../../src/store/types.js';
import { T0 } from './fixtures.js';

/** Builds a row as a caller writes it. The store treats `sealed` as opaque text. */
function row(overrides: Partial<NewChannelSettings> = {}): NewChannelSettings {
  return {
    spaceId: 'space-a',
    channel: 'email',
    masked: { host: 'smtp.example.net', port: 587, tls: 'starttls', password: '****', from: 'orders@acme.example' },
    sealed: 'v1.k1.iv.tag.ciphertext-a',
    keyId: 'k1',
    now: T0,
    ...overrides,
  };
}

describe('channel settings store', () => {
  let dir = '';
  let store: Store;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cascade-channel-settings-'));
    store = await openSqliteStore({ file: join(dir, 'cascade.sqlite') });
    await store.migrate();
  });

  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('put creates a row and get returns it', async () => {
    const input = row();

    const result = await store.channelSettings.put(input);
    const stored = await store.channelSettings.get('space-a', 'email');

    expect(result.created).toBe(true);
    const expected = { spaceId: 'space-a', channel: 'email', masked: input.masked, sealed: input.sealed, keyId: 'k1', createdAt: T0, updatedAt: T0 };
    expect(result.settings).toEqual(expected);
    expect(stored).toEqual(expected);
  });

  it('put replaces a row and keeps its creation time', async () => {
    await store.channelSettings.put(row());

    const result = await store.channelSettings.put(row({ masked: { port: 465 }, sealed: 'v1.k2.iv.tag.ciphertext-b', keyId: 'k2', now: T0 + 5_000 }));
    const stored = await store.channelSettings.get('space-a', 'email');

    expect(result.created).toBe(false);
    expect(stored).toEqual({
      spaceId: 'space-a',
      channel: 'email',
      masked: { port: 465 },
      sealed: 'v1.k2.iv.tag.ciphertext-b',
      keyId: 'k2',
      createdAt: T0,
      updatedAt: T0 + 5_000,
    });
    expect(await store.channelSettings.list('space-a')).toHaveLength(1);
  });

  it('get returns null for a channel without settings', async () => {
    await store.channelSettings.put(row({ channel: 'email' }));

    expect(await store.channelSettings.get('space-a', 'sms')).toBeNull();
  });

  it('list returns a space rows by channel name', async () => {
    await store.channelSettings.put(row({ channel: 'whatsApp' }));
    await store.channelSettings.put(row({ channel: 'email' }));
    await store.channelSettings.put(row({ channel: 'sms' }));

    const listed = await store.channelSettings.list('space-a');

    expect(listed.map((settings) => settings.channel)).toEqual(['email', 'sms', 'whatsApp']);
  });

  it('list of a space without settings is empty', async () => {
    expect(await store.channelSettings.list('space-a')).toEqual([]);
  });

  it('delete removes one channel', async () => {
    await store.channelSettings.put(row({ channel: 'email' }));
    await store.channelSettings.put(row({ channel: 'sms' }));

    expect(await store.channelSettings.delete('space-a', 'email')).toBe(true);
    expect(await store.channelSettings.get('space-a', 'email')).toBeNull();
    expect(await store.channelSettings.get('space-a', 'sms')).not.toBeNull();
    expect(await store.channelSettings.delete('space-a', 'email')).toBe(false);
  });

  it('one space cannot get another space row', async () => {
    await store.channelSettings.put(row({ spaceId: 'space-a' }));

    expect(await store.channelSettings.get('space-b', 'email')).toBeNull();
  });

  it('one space cannot list another space rows', async () => {
    await store.channelSettings.put(row({ spaceId: 'space-a', channel: 'email' }));
    await store.channelSettings.put(row({ spaceId: 'space-a', channel: 'sms' }));
    await store.channelSettings.put(row({ spaceId: 'space-b', channel: 'whatsApp', sealed: 'v1.k1.iv.tag.ciphertext-b' }));

    const listedA = await store.channelSettings.list('space-a');
    const listedB = await store.channelSettings.list('space-b');

    expect(listedA.map((settings) => settings.spaceId)).toEqual(['space-a', 'space-a']);
    expect(listedB.map((settings) => [settings.spaceId, settings.channel])).toEqual([['space-b', 'whatsApp']]);
  });

  it('one space cannot delete another space row', async () => {
    await store.channelSettings.put(row({ spaceId: 'space-a' }));

    expect(await store.channelSettings.delete('space-b', 'email')).toBe(false);
    expect(await store.channelSettings.get('space-a', 'email')).not.toBeNull();
  });

  it('the same channel in two spaces keeps two rows', async () => {
    await store.channelSettings.put(row({ spaceId: 'space-a', sealed: 'v1.k1.iv.tag.ciphertext-a' }));

    const second = await store.channelSettings.put(row({ spaceId: 'space-b', sealed: 'v1.k1.iv.tag.ciphertext-b' }));

    expect(second.created).toBe(true);
    expect((await store.channelSettings.get('space-a', 'email'))?.sealed).toBe('v1.k1.iv.tag.ciphertext-a');
    expect((await store.channelSettings.get('space-b', 'email'))?.sealed).toBe('v1.k1.iv.tag.ciphertext-b');
  });

  it('listSealedWithOtherKey lists rows under other keys by space and channel', async () => {
    await store.channelSettings.put(row({ spaceId: 'space-a', channel: 'email', keyId: 'current' }));
    await store.channelSettings.put(row({ spaceId: 'space-a', channel: 'sms', keyId: 'old' }));
    await store.channelSettings.put(row({ spaceId: 'space-b', channel: 'email', keyId: 'old' }));
    await store.channelSettings.put(row({ spaceId: 'space-b', channel: 'sms', keyId: 'lost' }));

    const other = await store.channelSettings.listSealedWithOtherKey('current', null, 10);

    expect(other.map((settings) => [settings.spaceId, settings.channel, settings.keyId])).toEqual([
      ['space-a', 'sms', 'old'],
      ['space-b', 'email', 'old'],
      ['space-b', 'sms', 'lost'],
    ]);
  });

  it('listSealedWithOtherKey pages with limit and after', async () => {
    await store.channelSettings.put(row({ spaceId: 'space-a', channel: 'email', keyId: 'old' }));
    await store.channelSettings.put(row({ spaceId: 'space-a', channel: 'sms', keyId: 'old' }));
    await store.channelSettings.put(row({ spaceId: 'space-b', channel: 'email', keyId: 'old' }));

    const first = await store.channelSettings.listSealedWithOtherKey('current', null, 2);
    const second = await store.channelSettings.listSealedWithOtherKey('current', { spaceId: 'space-a', channel: 'sms' }, 2);

    expect(first.map((settings) => [settings.spaceId, settings.channel])).toEqual([
      ['space-a', 'email'],
      ['space-a', 'sms'],
    ]);
    expect(second.map((settings) => [settings.spaceId, settings.channel])).toEqual([['space-b', 'email']]);
  });

  it('reseal replaces the sealed value and key id', async () => {
    await store.channelSettings.put(row({ sealed: 'v1.old.iv.tag.ciphertext', keyId: 'old' }));

    const replaced = await store.channelSettings.reseal('space-a', 'email', 'v1.old.iv.tag.ciphertext', 'v1.new.iv.tag.ciphertext', 'new');
    const stored = await store.channelSettings.get('space-a', 'email');

    expect(replaced).toBe(true);
    expect(stored?.sealed).toBe('v1.new.iv.tag.ciphertext');
    expect(stored?.keyId).toBe('new');
    expect(stored?.masked).toEqual(row().masked);
  });

  it('reseal leaves a value that changed meanwhile', async () => {
    await store.channelSettings.put(row({ sealed: 'v1.old.iv.tag.first', keyId: 'old' }));
    await store.channelSettings.put(row({ sealed: 'v1.old.iv.tag.second', keyId: 'old' }));

    const replaced = await store.channelSettings.reseal('space-a', 'email', 'v1.old.iv.tag.first', 'v1.new.iv.tag.first', 'new');
    const stored = await store.channelSettings.get('space-a', 'email');

    expect(replaced).toBe(false);
    expect(stored?.sealed).toBe('v1.old.iv.tag.second');
    expect(stored?.keyId).toBe('old');
  });

  it('reseal is scoped by space', async () => {
    await store.channelSettings.put(row({ spaceId: 'space-a', sealed: 'v1.old.iv.tag.shared', keyId: 'old' }));

    const replaced = await store.channelSettings.reseal('space-b', 'email', 'v1.old.iv.tag.shared', 'v1.new.iv.tag.shared', 'new');

    expect(replaced).toBe(false);
    expect((await store.channelSettings.get('space-a', 'email'))?.keyId).toBe('old');
    expect(await store.channelSettings.get('space-b', 'email')).toBeNull();
  });

  it('rows survive closing and reopening the file', async () => {
    await store.channelSettings.put(row());
    await store.close();

    store = await openSqliteStore({ file: join(dir, 'cascade.sqlite') });
    await store.migrate();

    const stored = await store.channelSettings.get('space-a', 'email');
    expect(stored?.sealed).toBe(row().sealed);
    expect(stored?.masked).toEqual(row().masked);
    expect(stored?.createdAt).toBe(T0);
  });
});
