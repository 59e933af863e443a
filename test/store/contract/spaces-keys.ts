import { describe, expect, it } from 'vitest';
import type { NewApiKey, Store } from '../../../src/store/types.js';
import type { UseStore } from '../contract.js';
import { MINUTE, SECOND, T0 } from '../fixtures.js';

function newKey(overrides: Partial<NewApiKey> = {}): NewApiKey {
  return {
    id: 'key-1',
    spaceId: 'default',
    hash: 'a'.repeat(64),
    prefix: 'csk_0123abcd',
    name: 'billing backend',
    scopes: ['messages:write', 'messages:read'],
    origin: 'api',
    createdAt: T0,
    ...overrides,
  };
}

async function addSpace(store: Store, id: string, createdAt = T0): Promise<void> {
  await store.createSpace({ id, name: `Space ${id}`, createdAt });
}

export function spacesKeysContract(useStore: UseStore): void {
  describe('spaces and API keys', () => {
    it('createSpace stores a space', async () => {
      const { store } = useStore();
      await addSpace(store, 'acme');

      expect(await store.getSpace('acme')).toEqual({ id: 'acme', name: 'Space acme', createdAt: T0 });
      expect(await store.getSpace('missing')).toBeNull();
    });

    it('listSpaces returns every space oldest first', async () => {
      const { store } = useStore();
      await addSpace(store, 'second', T0 + SECOND);
      await addSpace(store, 'first', T0);

      const ids = (await store.listSpaces()).map((space) => space.id);

      expect(ids).toContain('default');
      expect(ids.filter((id) => id !== 'default')).toEqual(['first', 'second']);
    });

    it('createSpace rejects a taken id', async () => {
      const { store } = useStore();
      await addSpace(store, 'acme');

      await expect(addSpace(store, 'acme')).rejects.toThrow();
    });

    it('createApiKey stores a key found by its hash', async () => {
      const { store } = useStore();

      expect(await store.createApiKey(newKey())).toBe(true);

      expect(await store.findApiKeyByHash('a'.repeat(64))).toEqual({ ...newKey(), revokedAt: null, lastUsedAt: null });
      expect(await store.findApiKeyByHash('b'.repeat(64))).toBeNull();
    });

    it('createApiKey keeps null scopes apart from a list', async () => {
      const { store } = useStore();
      await store.createApiKey(newKey({ scopes: null, origin: 'config', name: null }));

      const found = await store.findApiKeyByHash('a'.repeat(64));

      expect(found?.scopes).toBeNull();
      expect(found?.origin).toBe('config');
      expect(found?.name).toBeNull();
    });

    it('createApiKey ignores a second key with the same hash', async () => {
      const { store } = useStore();
      await store.createApiKey(newKey());

      expect(await store.createApiKey(newKey({ id: 'key-2', spaceId: 'default', name: 'copy' }))).toBe(false);
      expect((await store.listApiKeys('default')).map((key) => key.id)).toEqual(['key-1']);
    });

    it('createApiKey rejects an unknown space', async () => {
      const { store } = useStore();

      await expect(store.createApiKey(newKey({ spaceId: 'missing' }))).rejects.toThrow();
      expect(await store.findApiKeyByHash('a'.repeat(64))).toBeNull();
    });

    it('listApiKeys returns one space only', async () => {
      const { store } = useStore();
      await addSpace(store, 'acme');
      await store.createApiKey(newKey({ id: 'key-2', createdAt: T0 + SECOND, hash: '2'.repeat(64) }));
      await store.createApiKey(newKey({ id: 'key-1', createdAt: T0, hash: '1'.repeat(64) }));
      await store.createApiKey(newKey({ id: 'key-3', spaceId: 'acme', hash: '3'.repeat(64) }));

      expect((await store.listApiKeys('default')).map((key) => key.id)).toEqual(['key-1', 'key-2']);
      expect((await store.listApiKeys('acme')).map((key) => key.id)).toEqual(['key-3']);
      expect(await store.listApiKeys('missing')).toEqual([]);
    });

    it('revokeApiKey keeps the first revocation time', async () => {
      const { store } = useStore();
      await store.createApiKey(newKey());

      const first = await store.revokeApiKey('default', 'key-1', T0 + MINUTE);
      const second = await store.revokeApiKey('default', 'key-1', T0 + 2 * MINUTE);

      expect(first?.revokedAt).toBe(T0 + MINUTE);
      expect(second?.revokedAt).toBe(T0 + MINUTE);
      expect((await store.findApiKeyByHash('a'.repeat(64)))?.revokedAt).toBe(T0 + MINUTE);
    });

    it('revokeApiKey leaves keys of other spaces alone', async () => {
      const { store } = useStore();
      await store.createApiKey(newKey());

      expect(await store.revokeApiKey('other', 'key-1', T0 + MINUTE)).toBeNull();
      expect(await store.revokeApiKey('default', 'key-9', T0 + MINUTE)).toBeNull();
      expect((await store.findApiKeyByHash('a'.repeat(64)))?.revokedAt).toBeNull();
    });

    it('touchApiKey writes at most once per interval', async () => {
      const { store } = useStore();
      await store.createApiKey(newKey());

      expect(await store.touchApiKey('default', 'key-1', T0 + SECOND, MINUTE)).toBe(true);
      expect(await store.touchApiKey('default', 'key-1', T0 + 30 * SECOND, MINUTE)).toBe(false);
      expect((await store.findApiKeyByHash('a'.repeat(64)))?.lastUsedAt).toBe(T0 + SECOND);

      expect(await store.touchApiKey('default', 'key-1', T0 + SECOND + MINUTE, MINUTE)).toBe(true);
      expect((await store.findApiKeyByHash('a'.repeat(64)))?.lastUsedAt).toBe(T0 + SECOND + MINUTE);
    });

    it('touchApiKey leaves keys of other spaces alone', async () => {
      const { store } = useStore();
      await store.createApiKey(newKey());

      expect(await store.touchApiKey('other', 'key-1', T0, MINUTE)).toBe(false);
      expect((await store.findApiKeyByHash('a'.repeat(64)))?.lastUsedAt).toBeNull();
    });

    it('keys and spaces survive a reopen', async () => {
      const context = useStore();
      await addSpace(context.store, 'acme');
      await context.store.createApiKey(newKey({ spaceId: 'acme' }));

      const store = await context.reopen();

      expect(await store.getSpace('acme')).not.toBeNull();
      expect((await store.findApiKeyByHash('a'.repeat(64)))?.spaceId).toBe('acme');
    });
  });
}
