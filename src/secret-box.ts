import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** One AES-256 key with the id stored beside everything it encrypts. */
export interface EncryptionKey {
  id: string;
  key: Buffer;
}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

/** Returns the id of a key given without one: the first 8 hex digits of its SHA-256. */
export function derivedKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/**
 * Parses one key in the form `id:base64` or plain `base64` (32 bytes, standard or url-safe
 * alphabet). `name` is the setting the value came from; errors name it and never the value.
 */
export function parseEncryptionKey(value: string, name: string): EncryptionKey {
  const colon = value.indexOf(':');
  const id = colon < 0 ? null : value.slice(0, colon);
  const encoded = colon < 0 ? value : value.slice(colon + 1);
  if (id !== null && !KEY_ID_PATTERN.test(id)) {
    throw new SecretBoxError(`${name}: a key id must be 1 to 32 letters, digits, "-" or "_" before the ":".`);
  }
  const key = Buffer.from(encoded.trim(), encoded.includes('-') || encoded.includes('_') ? 'base64url' : 'base64');
  if (key.length !== 32) {
    throw new SecretBoxError(`${name} must hold 32 bytes in base64 (it decodes to ${key.length}). Generate one with: openssl rand -base64 32`);
  }
  return { id: id ?? derivedKeyId(key), key };
}

/**
 * Encrypts secrets at rest with AES-256-GCM. The first key encrypts, and every key decrypts
 * what was written under its id. So a new key can go in front while stored values still name
 * an older one. The associated data binds a value to its place (such as a space and a
 * channel), so a value copied to another row does not decrypt.
 *
 * A sealed value reads `v1.<key id>.<iv>.<tag>.<ciphertext>`, base64url parts.
 */
export class SecretBox {
  readonly #keys: Map<string, Buffer>;
  readonly #current: EncryptionKey;

  constructor(keys: readonly EncryptionKey[]) {
    const [current] = keys;
    if (current === undefined) throw new SecretBoxError('a secret box needs at least one key');
    this.#current = current;
    this.#keys = new Map();
    for (const key of keys) {
      if (key.key.length !== 32) throw new SecretBoxError(`key ${key.id} is ${key.key.length} bytes long; AES-256 needs 32`);
      if (this.#keys.has(key.id)) throw new SecretBoxError(`key id ${key.id} appears twice`);
      this.#keys.set(key.id, key.key);
    }
  }

  /** Id of the key that encrypts. */
  get keyId(): string {
    return this.#current.id;
  }

  /** Tells whether a value sealed under `keyId` can be opened. */
  hasKey(keyId: string): boolean {
    return this.#keys.has(keyId);
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#current.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, this.#current.id, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.');
  }

  /** Throws `SecretBoxError` when the value is malformed, its key is unknown, or it fails authentication. */
  open(sealed: string, context: string): string {
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== VERSION) throw new SecretBoxError('the stored value is not a sealed v1 value');
    const [, keyId = '', ivText = '', tagText = '', ciphertextText = ''] = parts;
    const key = this.#keys.get(keyId);
    if (key === undefined) {
      throw new SecretBoxError(`the stored value is encrypted with key "${keyId}", which is not configured; add it to ENCRYPTION_OLD_KEYS`);
    }
    const iv = Buffer.from(ivText, 'base64url');
    const tag = Buffer.from(tagText, 'base64url');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SecretBoxError('the stored value has a malformed iv or tag');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(Buffer.from(ciphertextText, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError(`the stored value does not authenticate under key "${keyId}": it was changed or belongs elsewhere`);
    }
  }

  /** Id of the key a sealed value names, or null when the value is not sealed. */
  static keyIdOf(sealed: string): string | null {
    const parts = sealed.split('.');
    return parts.length === 5 && parts[0] === VERSION ? (parts[1] ?? null) : null;
  }
}
