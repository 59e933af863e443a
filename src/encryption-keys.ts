import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseEncryptionKey, SecretBox, SecretBoxError, type EncryptionKey } from './secret-box.js';

export interface EncryptionKeySource {
  box: SecretBox;
  /** Origin of the current key: the environment, a file in the data folder, or generated now. */
  origin: 'environment' | 'file' | 'generated';
  file: string | null;
}

/**
 * Resolves the keys that encrypt provider credentials and webhook secrets at rest:
 * `ENCRYPTION_KEY` when set, else the key stored in `<dataDir>/encryption-key`, else 32 random
 * bytes written there (mode 0600). `ENCRYPTION_OLD_KEYS` adds keys that only decrypt, for
 * values written before a rotation.
 */
export async function resolveEncryptionKeys(configured: string | null, oldKeys: readonly string[], dataDir: string): Promise<EncryptionKeySource> {
  const older = oldKeys.map((value, index) => parseEncryptionKey(value, `ENCRYPTION_OLD_KEYS item ${index + 1}`));
  const withOlder = (current: EncryptionKey) => {
    // An old key under the current key's id would be dropped, and what it sealed could not be read.
    if (older.some((key) => key.id === current.id && !key.key.equals(current.key))) {
      throw new SecretBoxError(`ENCRYPTION_OLD_KEYS has a key with id "${current.id}", the id of the current key, but other key bytes; give the new key its own id.`);
    }
    return new SecretBox([current, ...older.filter((key) => key.id !== current.id)]);
  };
  if (configured !== null) {
    return { box: withOlder(parseEncryptionKey(configured, 'ENCRYPTION_KEY')), origin: 'environment', file: null };
  }
  const file = join(dataDir, 'encryption-key');
  try {
    const stored = (await readFile(file, 'utf8')).trim();
    if (stored.length === 0) {
      // A new key would leave every value sealed with the lost one unreadable, so nothing is generated.
      throw new Error(`${file} is empty. Restore the key it held, or delete the file to generate a new key; credentials stored under the old key then have to be entered again.`);
    }
    return { box: withOlder(parseEncryptionKey(stored, file)), origin: 'file', file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const encoded = randomBytes(32).toString('base64');
  await writeFile(file, `${encoded}\n`, { mode: 0o600, flag: 'wx' });
  return { box: withOlder(parseEncryptionKey(encoded, file)), origin: 'generated', file };
}
