import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { resolveEncryptionKeys } from '../src/encryption-keys.js';
import { derivedKeyId, SecretBox, SecretBoxError } from '../src/secret-box.js';

const CONTEXT = 'webhook-secret:default:endpoint-1';

function encodedKey(id?: string): { value: string; material: Buffer } {
  const material = randomBytes(32);
  const encoded = material.toString('base64');
  return { value: id === undefined ? encoded : `${id}:${encoded}`, material };
}

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

describe('resolveEncryptionKeys', () => {
  let dataDir = '';

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cascade-keys-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses an old key reusing the current id', async () => {
    const current = encodedKey('k1');
    const older = encodedKey('k1');

    await expect(resolveEncryptionKeys(current.value, [older.value], dataDir)).rejects.toThrow(/id "k1", the id of the current key/);
  });

  it('refuses an empty key file and keeps it', async () => {
    const file = join(dataDir, 'encryption-key');
    await writeFile(file, '\n');

    await expect(resolveEncryptionKeys(null, [], dataDir)).rejects.toThrow(/encryption-key is empty/);
    expect(await readFile(file, 'utf8')).toBe('\n');
  });

  it('generates a key file with mode 0600', async () => {
    const nested = join(dataDir, 'nested', 'data');

    const source = await resolveEncryptionKeys(null, [], nested);

    const file = join(nested, 'encryption-key');
    expect(source.origin).toBe('generated');
    expect(source.file).toBe(file);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const stored = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
    expect(stored).toHaveLength(32);
    expect(source.box.keyId).toBe(derivedKeyId(stored));
  });

  it('reuses the generated key file', async () => {
    const first = await resolveEncryptionKeys(null, [], dataDir);
    const sealed = first.box.seal('whsec_c2VjcmV0', CONTEXT);

    const second = await resolveEncryptionKeys(null, [], dataDir);

    expect(second.origin).toBe('file');
    expect(second.file).toBe(join(dataDir, 'encryption-key'));
    expect(second.box.keyId).toBe(first.box.keyId);
    expect(second.box.open(sealed, CONTEXT)).toBe('whsec_c2VjcmV0');
  });

  it('reads an id:base64 key from the file', async () => {
    const { value, material } = encodedKey('from-file');
    await writeFile(join(dataDir, 'encryption-key'), `${value}\n`);

    const source = await resolveEncryptionKeys(null, [], dataDir);
    const sealed = new SecretBox([{ id: 'from-file', key: material }]).seal('secret', CONTEXT);

    expect(source.origin).toBe('file');
    expect(source.box.keyId).toBe('from-file');
    expect(source.box.open(sealed, CONTEXT)).toBe('secret');
  });

  it('ENCRYPTION_KEY wins over the file', async () => {
    const generated = await resolveEncryptionKeys(null, [], dataDir);
    const fileBefore = await readFile(join(dataDir, 'encryption-key'), 'utf8');
    const configured = encodedKey('configured');

    const source = await resolveEncryptionKeys(configured.value, [], dataDir);

    expect(source.origin).toBe('environment');
    expect(source.file).toBeNull();
    expect(source.box.keyId).toBe('configured');
    expect(source.box.hasKey(generated.box.keyId)).toBe(false);
    expect(await readFile(join(dataDir, 'encryption-key'), 'utf8')).toBe(fileBefore);
  });

  it('ENCRYPTION_KEY does not create a key file', async () => {
    await resolveEncryptionKeys(encodedKey().value, [], dataDir);

    expect(existsSync(join(dataDir, 'encryption-key'))).toBe(false);
  });

  it('old keys open older values and never seal', async () => {
    const older = encodedKey('2024');
    const oldest = encodedKey();
    const sealedUnder2024 = (await resolveEncryptionKeys(older.value, [], dataDir)).box.seal('from 2024', CONTEXT);
    const sealedUnderOldest = (await resolveEncryptionKeys(oldest.value, [], dataDir)).box.seal('from before', CONTEXT);

    const source = await resolveEncryptionKeys(encodedKey('2025').value, [older.value, oldest.value], dataDir);

    expect(source.box.keyId).toBe('2025');
    expect(source.box.open(sealedUnder2024, CONTEXT)).toBe('from 2024');
    expect(source.box.open(sealedUnderOldest, CONTEXT)).toBe('from before');
    expect(SecretBox.keyIdOf(source.box.seal('new', CONTEXT))).toBe('2025');
  });

  it('old keys apply to a generated key too', async () => {
    const older = encodedKey('2024');
    const sealed = (await resolveEncryptionKeys(older.value, [], dataDir)).box.seal('from 2024', CONTEXT);

    const source = await resolveEncryptionKeys(null, [older.value], dataDir);

    expect(source.origin).toBe('generated');
    expect(source.box.keyId).not.toBe('2024');
    expect(source.box.open(sealed, CONTEXT)).toBe('from 2024');
  });

  it('accepts the current key among old keys', async () => {
    const current = encodedKey('2025');

    const source = await resolveEncryptionKeys(current.value, [current.value], dataDir);

    expect(source.box.keyId).toBe('2025');
  });

  it('names the key of an older value', async () => {
    const sealed = (await resolveEncryptionKeys(encodedKey('2024').value, [], dataDir)).box.seal('from 2024', CONTEXT);
    const source = await resolveEncryptionKeys(encodedKey('2025').value, [], dataDir);

    expect(() => source.box.open(sealed, CONTEXT)).toThrow(SecretBoxError);
    expect(() => source.box.open(sealed, CONTEXT)).toThrow('"2024"');
  });

  it('an invalid old key names its position', async () => {
    const short = randomBytes(31).toString('base64');

    await expect(resolveEncryptionKeys(null, [encodedKey().value, short], dataDir)).rejects.toThrow('ENCRYPTION_OLD_KEYS item 2');
  });
});

describe('loadConfig encryption keys', () => {
  it('leaves both settings empty by default', () => {
    const config = loadConfig({});

    expect(config.encryptionKey).toBeNull();
    expect(config.encryptionOldKeys).toEqual([]);
  });

  it('reads one key and a comma list of old keys', () => {
    const current = encodedKey('2025').value;
    const older = encodedKey('2024').value;
    const oldest = encodedKey().value;

    const config = loadConfig({ ENCRYPTION_KEY: ` ${current} `, ENCRYPTION_OLD_KEYS: `${older}, ${oldest},` });

    expect(config.encryptionKey).toBe(current);
    expect(config.encryptionOldKeys).toEqual([older, oldest]);
  });

  it('rejects a short ENCRYPTION_KEY without quoting it', () => {
    const short = randomBytes(31).toString('base64');

    const error = configError({ ENCRYPTION_KEY: short });

    expect(error.message).toContain('ENCRYPTION_KEY');
    expect(error.message).not.toContain(short);
    expect(error.message).not.toContain(short.slice(0, 8));
  });

  it('rejects an invalid key id without quoting the key', () => {
    const { value } = encodedKey();
    const encoded = `bad id!:${value}`;

    const error = configError({ ENCRYPTION_KEY: encoded });

    expect(error.message).toContain('ENCRYPTION_KEY');
    expect(error.message).not.toContain(value);
    expect(error.message).not.toContain('bad id!');
  });

  it('rejects two keys in ENCRYPTION_KEY', () => {
    const first = encodedKey('a').value;
    const second = encodedKey('b').value;

    const error = configError({ ENCRYPTION_KEY: `${first},${second}` });

    expect(error.message).toContain('ENCRYPTION_KEY');
    expect(error.message).toContain('ENCRYPTION_OLD_KEYS');
    expect(error.message).not.toContain(first);
    expect(error.message).not.toContain(second);
  });

  it('names the invalid item of ENCRYPTION_OLD_KEYS', () => {
    const valid = encodedKey('2024').value;
    const short = `2023:${randomBytes(31).toString('base64')}`;

    const error = configError({ ENCRYPTION_OLD_KEYS: `${valid},${short}` });

    expect(error.message).toContain('ENCRYPTION_OLD_KEYS item 2');
    expect(error.message).not.toContain(valid);
    expect(error.message).not.toContain(short);
  });

  it('names ENCRYPTION_OLD_KEYS for a single invalid key', () => {
    const short = randomBytes(16).toString('base64');

    const error = configError({ ENCRYPTION_OLD_KEYS: short });

    expect(error.message).toContain('ENCRYPTION_OLD_KEYS');
    expect(error.message).not.toContain(short);
  });
});
