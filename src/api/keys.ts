import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ApiKeyRecord, Store } from '../store/types.js';

/** The space of the configured `API_KEY`, created by the first migration. */
export const DEFAULT_SPACE_ID = 'default';

/**
 * Scopes an API key can have. A key without a scope list has all of them. `admin` lets a key
 * manage the keys of its own space through `/v1/keys`, and grants nothing in other spaces.
 */
export const SCOPES = ['messages:write', 'messages:read', 'profiles:read', 'profiles:write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** Scope names accepted when a key is issued: every scope, and `profiles:*` for both profile scopes. */
export const REQUESTABLE_SCOPES = [...SCOPES, 'profiles:*'] as const;

function isScope(name: string): name is Scope {
  return (SCOPES as readonly string[]).includes(name);
}

/** Expand `profiles:*`, drop duplicates and unknown names, and order the result as `SCOPES`. */
export function expandScopes(names: readonly string[]): Scope[] {
  const selected = new Set<string>();
  for (const name of names) {
    if (name === 'profiles:*') {
      selected.add('profiles:read');
      selected.add('profiles:write');
    } else {
      selected.add(name);
    }
  }
  return SCOPES.filter((scope) => selected.has(scope));
}

/** Returns whether a key with `granted` scopes (null: every scope) has `scope`. */
export function hasScope(granted: readonly Scope[] | null, scope: Scope): boolean {
  return granted === null || granted.includes(scope);
}

/** Returns whether a key with `granted` scopes has every scope of `requested` (null: every scope). */
export function coversScopes(granted: readonly Scope[] | null, requested: readonly Scope[] | null): boolean {
  if (granted === null) return true;
  if (requested === null) return false;
  return requested.every((scope) => granted.includes(scope));
}

const KEY_MARKER = 'csk_';
/** 32 random bytes: 256 bits of secret, written as 43 base64url characters. */
const SECRET_BYTES = 32;
/** 8 random bytes, written as 16 hex characters. */
const KEY_ID_BYTES = 8;
const MAX_PREFIX_LENGTH = 12;

export interface GeneratedKey {
  id: string;
  /** The whole key, `csk_<id>_<secret>`. Returned to the client once and never stored. */
  key: string;
  hash: string;
  prefix: string;
}

export function newKeyId(): string {
  return randomBytes(KEY_ID_BYTES).toString('hex');
}

/** Generate a key `csk_<id>_<secret>`; the id is hex, so the first `_` after `csk_` ends it. */
export function generateKey(): GeneratedKey {
  const id = newKeyId();
  const key = `${KEY_MARKER}${id}_${randomBytes(SECRET_BYTES).toString('base64url')}`;
  return { id, key, hash: hashKey(key), prefix: keyPrefix(key) };
}

/**
 * Returns the hex SHA-256 of the whole key. A fast hash is enough for issued keys. Slow password
 * hashes (bcrypt, scrypt, Argon2) make guessing a leaked hash's input expensive, but guessing
 * 256 random bits is out of reach anyway, and a slow hash would cost CPU time on every request.
 * NOTE: a short or guessable `API_KEY` gets the same fast hash, so a leaked database exposes it
 * to offline guessing. Configure a long random `API_KEY`.
 */
export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * Returns the first characters of a key, shown to tell keys apart: 12 of an issued key (`csk_`
 * and 8 characters of its id, no secret), and at most a quarter of a configured key of another form.
 */
export function keyPrefix(key: string): string {
  return key.slice(0, Math.min(MAX_PREFIX_LENGTH, Math.floor(key.length / 4)));
}

/** A key that passed verification: active, with its space and scopes. */
export interface VerifiedKey {
  id: string;
  spaceId: string;
  prefix: string;
  /** Null: every scope of the space. */
  scopes: Scope[] | null;
}

export interface ApiKeysOptions {
  store: Store;
  /** Epoch milliseconds. */
  now(): number;
  logger: Logger;
  /** How long a verified key is trusted without reading the store again. */
  cacheTtlMs?: number;
  maxCacheEntries?: number;
}

interface CacheEntry {
  key: VerifiedKey;
  expiresAt: number;
  /** Last use time this process wrote or read; `#touch` writes the next one `LAST_USED_INTERVAL_MS` later at the earliest. */
  lastUsedAt: number | null;
}

/** `lastUsedAt` is written at most this often per key and process. */
export const LAST_USED_INTERVAL_MS = 60_000;

/**
 * Issues, verifies and revokes API keys. Verified keys are cached in memory by hash.
 *
 * NOTE: a revocation clears the cache of this process only. Other processes sharing the
 * database accept a revoked key until their cached entry expires, at most `cacheTtlMs` (30 s by
 * default) after the revocation.
 */
export class ApiKeys {
  readonly #store: Store;
  readonly #now: () => number;
  readonly #logger: Logger;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #cache = new Map<string, CacheEntry>();
  /** Raised by every revocation, so that a lookup that overlapped one does not cache its result. */
  #revocations = 0;

  constructor(options: ApiKeysOptions) {
    this.#store = options.store;
    this.#now = options.now;
    this.#logger = options.logger;
    this.#ttlMs = options.cacheTtlMs ?? 30_000;
    this.#maxEntries = options.maxCacheEntries ?? 10_000;
  }

  /** Verifies `key` and returns its space and scopes, or null when the key is unknown or revoked. */
  async verify(key: string): Promise<VerifiedKey | null> {
    const hash = hashKey(key);
    const now = this.#now();
    let entry = this.#cache.get(hash);
    if (entry !== undefined && entry.expiresAt <= now) {
      this.#cache.delete(hash);
      entry = undefined;
    }

    if (entry === undefined) {
      const revocationsBefore = this.#revocations;
      const record = await this.#store.findApiKeyByHash(hash);
      if (record === null || record.revokedAt !== null) return null;
      entry = { key: toVerifiedKey(record), expiresAt: now + this.#ttlMs, lastUsedAt: record.lastUsedAt };
      if (revocationsBefore === this.#revocations) this.#remember(hash, entry);
    }

    await this.#touch(entry, now);
    return entry.key;
  }

  /** Issue a new key of `spaceId`, which must exist. The returned `key` is stored nowhere. */
  async issue(spaceId: string, input: { name: string | null; scopes: Scope[] | null }): Promise<{ record: ApiKeyRecord; key: string }> {
    const generated = generateKey();
    const record: ApiKeyRecord = {
      id: generated.id,
      spaceId,
      hash: generated.hash,
      prefix: generated.prefix,
      name: input.name,
      scopes: input.scopes,
      origin: 'api',
      createdAt: this.#now(),
      revokedAt: null,
      lastUsedAt: null,
    };
    const inserted = await this.#store.createApiKey(record);
    // A clash between keys of 256 random bits is practically impossible, so it means a broken random source.
    if (!inserted) throw new Error('A generated API key clashed with a stored one; the random source is broken.');
    this.#logger.info({ spaceId, keyId: record.id, prefix: record.prefix, scopes: record.scopes }, 'API key issued');
    return { record, key: generated.key };
  }

  list(spaceId: string): Promise<ApiKeyRecord[]> {
    return this.#store.listApiKeys(spaceId);
  }

  /** Revoke a key of `spaceId` and drop it from this process's cache; null when the space has no such key. */
  async revoke(spaceId: string, keyId: string): Promise<ApiKeyRecord | null> {
    this.#revocations += 1;
    const record = await this.#store.revokeApiKey(spaceId, keyId, this.#now());
    if (record === null) return null;
    this.#cache.delete(record.hash);
    this.#logger.info({ spaceId, keyId, prefix: record.prefix }, 'API key revoked');
    return record;
  }

  /**
   * Store the configured key of the default space (`API_KEY` or the generated key file) as a
   * key with every scope, unless it is stored already. Configured keys of earlier starts with
   * another value are revoked, so changing `API_KEY` retires the old key. A configured key that
   * was revoked through the API stays revoked.
   */
  async ensureConfiguredKey(key: string): Promise<void> {
    if (key.length === 0) throw new Error('The API key is empty. Configure a non-empty API_KEY.');
    const hash = hashKey(key);
    const existing = await this.#store.findApiKeyByHash(hash);

    if (existing === null) {
      const id = newKeyId();
      const inserted = await this.#store.createApiKey({
        id,
        spaceId: DEFAULT_SPACE_ID,
        hash,
        prefix: keyPrefix(key),
        name: 'API_KEY',
        scopes: null,
        origin: 'config',
        createdAt: this.#now(),
      });
      if (inserted) this.#logger.info({ spaceId: DEFAULT_SPACE_ID, keyId: id, prefix: keyPrefix(key) }, 'configured API key stored');
    } else if (existing.spaceId !== DEFAULT_SPACE_ID) {
      throw new Error(`API_KEY is an API key of space ${existing.spaceId}. Configure a separate key for the default space.`);
    } else if (existing.revokedAt !== null) {
      this.#logger.warn(
        { spaceId: DEFAULT_SPACE_ID, keyId: existing.id, prefix: existing.prefix },
        'the configured API key was revoked, so requests with it are rejected; configure a new API_KEY',
      );
    }

    for (const old of await this.#store.listApiKeys(DEFAULT_SPACE_ID)) {
      if (old.origin === 'config' && old.hash !== hash && old.revokedAt === null) await this.revoke(DEFAULT_SPACE_ID, old.id);
    }
  }

  #remember(hash: string, entry: CacheEntry): void {
    if (this.#cache.size >= this.#maxEntries) {
      // Maps iterate in insertion order, so the first key is the oldest entry.
      const oldest = this.#cache.keys().next();
      if (oldest.done !== true) this.#cache.delete(oldest.value);
    }
    this.#cache.set(hash, entry);
  }

  async #touch(entry: CacheEntry, now: number): Promise<void> {
    if (entry.lastUsedAt !== null && now - entry.lastUsedAt < LAST_USED_INTERVAL_MS) return;
    entry.lastUsedAt = now;
    try {
      await this.#store.touchApiKey(entry.key.spaceId, entry.key.id, now, LAST_USED_INTERVAL_MS);
    } catch (error) {
      // The request is authenticated already, so it goes on. The next write is tried a minute later.
      this.#logger.warn({ err: error, spaceId: entry.key.spaceId, keyId: entry.key.id }, 'recording the last use of an API key failed');
    }
  }
}

function toVerifiedKey(record: ApiKeyRecord): VerifiedKey {
  return {
    id: record.id,
    spaceId: record.spaceId,
    prefix: record.prefix,
    scopes: record.scopes === null ? null : record.scopes.filter(isScope),
  };
}
