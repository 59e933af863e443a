import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiKeys, coversScopes, expandScopes, generateKey, hashKey, keyPrefix, LAST_USED_INTERVAL_MS } from '../../src/api/keys.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';

const T0 = Date.UTC(2025, 5, 1);
const TTL_MS = 30_000;

describe('key format', () => {
  it('generateKey makes distinct keys', () => {
    const first = generateKey();
    const second = generateKey();

    expect(first.key).toMatch(/^csk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(first.key).not.toBe(second.key);
    expect(first.id).not.toBe(second.id);
    expect(first.hash).toBe(hashKey(first.key));
    expect(first.prefix).toBe(`csk_${first.id.slice(0, 8)}`);
  });

  it('hashKey is hex SHA-256', () => {
    expect(hashKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('keyPrefix shows at most a quarter', () => {
    expect(keyPrefix('short-key')).toBe('sh');
    expect(keyPrefix('abc')).toBe('');
    expect(keyPrefix('x'.repeat(100))).toHaveLength(12);
  });
});

describe('scopes', () => {
  it('expandScopes expands, dedupes and orders', () => {
    expect(expandScopes(['profiles:*', 'messages:read', 'messages:read'])).toEqual(['messages:read', 'profiles:read', 'profiles:write']);
    expect(expandScopes(['admin', 'messages:write'])).toEqual(['messages:write', 'admin']);
    expect(expandScopes(['unknown'])).toEqual([]);
  });

  it('coversScopes compares scope lists', () => {
    expect(coversScopes(null, null)).toBe(true);
    expect(coversScopes(null, ['admin'])).toBe(true);
    expect(coversScopes(['admin'], null)).toBe(false);
    expect(coversScopes(['admin', 'messages:read'], ['messages:read'])).toBe(true);
    expect(coversScopes(['admin'], ['messages:read'])).toBe(false);
    expect(coversScopes(['admin'], [])).toBe(true);
  });
});

describe('ApiKeys cache', () => {
  let dir: string;
  let store: Store;
  const clock = { now: T0 };

  function createKeys(maxCacheEntries = 100): ApiKeys {
    return new ApiKeys({ store, now: () => clock.now, logger: pino({ level: 'silent' }), cacheTtlMs: TTL_MS, maxCacheEntries });
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cascade-keys-'));
    store = await openSqliteStore({ file: join(dir, 'cascade.sqlite') });
    await store.migrate();
    clock.now = T0;
  });

  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('verify returns the key space and scopes', async () => {
    const keys = createKeys();
    const { record, key } = await keys.issue('default', { name: null, scopes: ['messages:read'] });

    expect(await keys.verify(key)).toEqual({ id: record.id, spaceId: 'default', prefix: record.prefix, scopes: ['messages:read'] });
    expect(await keys.verify(`${key}x`)).toBeNull();
  });

  it('another process revocation applies after the TTL', async () => {
    const keys = createKeys();
    const { record, key } = await keys.issue('default', { name: null, scopes: null });
    await keys.verify(key);

    // A revocation written by another process reaches this one only through the store.
    await store.revokeApiKey('default', record.id, clock.now);
    const cached = await keys.verify(key);
    clock.now += TTL_MS;
    const expired = await keys.verify(key);

    expect(cached?.id).toBe(record.id);
    expect(expired).toBeNull();
  });

  it('revoke clears the cache at once', async () => {
    const keys = createKeys();
    const { record, key } = await keys.issue('default', { name: null, scopes: null });
    await keys.verify(key);

    await keys.revoke('default', record.id);

    expect(await keys.verify(key)).toBeNull();
  });

  it('cache drops its oldest entry when full', async () => {
    const keys = createKeys(2);
    const issued = [];
    for (let index = 0; index < 3; index += 1) issued.push(await keys.issue('default', { name: null, scopes: null }));
    for (const { key } of issued) await keys.verify(key);

    for (const { record } of issued) await store.revokeApiKey('default', record.id, clock.now);

    expect(await keys.verify(issued[0]!.key)).toBeNull();
    expect(await keys.verify(issued[2]!.key)).not.toBeNull();
  });

  it('writes lastUsedAt once a minute', async () => {
    const keys = createKeys();
    const { key } = await keys.issue('default', { name: null, scopes: null });
    const lastUsed = async () => (await store.findApiKeyByHash(hashKey(key)))?.lastUsedAt;

    await keys.verify(key);
    const first = await lastUsed();
    clock.now += LAST_USED_INTERVAL_MS - 1;
    await keys.verify(key);
    const unchanged = await lastUsed();
    clock.now += 1;
    await keys.verify(key);
    const later = await lastUsed();

    expect(first).toBe(T0);
    expect(unchanged).toBe(T0);
    expect(later).toBe(T0 + LAST_USED_INTERVAL_MS);
  });
});
