import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ApiKeySource {
  key: string;
  /** Source of the key: the environment, a file in the data folder, or generated now. */
  origin: 'environment' | 'file' | 'generated';
  file: string | null;
}

/**
 * The API key of the default space: `API_KEY` when set, else the one stored in
 * `<dataDir>/api-key`, else a new random key written there (mode 0600).
 */
export async function resolveApiKey(configured: string | null, dataDir: string): Promise<ApiKeySource> {
  if (configured !== null) return { key: configured, origin: 'environment', file: null };
  const file = join(dataDir, 'api-key');
  try {
    const stored = (await readFile(file, 'utf8')).trim();
    if (stored.length > 0) return { key: stored, origin: 'file', file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const key = `csk_${randomBytes(24).toString('base64url')}`;
  await writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return { key, origin: 'generated', file };
}
