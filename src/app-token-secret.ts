import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface AppTokenSecretSource {
  secret: string;
  /** Origin of the secret: the environment, a file in the data folder, or generated now. */
  origin: 'environment' | 'file' | 'generated';
  file: string | null;
}

/**
 * Resolves the key that signs app tokens: `APP_TOKEN_SECRET` when set, else the one stored in
 * `<dataDir>/app-token-secret`, else 32 random bytes written there (mode 0600). Every process
 * that serves the same app users needs the same secret, and changing it invalidates every token.
 */
export async function resolveAppTokenSecret(configured: string | null, dataDir: string): Promise<AppTokenSecretSource> {
  if (configured !== null) return { secret: configured, origin: 'environment', file: null };
  const file = join(dataDir, 'app-token-secret');
  try {
    const stored = (await readFile(file, 'utf8')).trim();
    if (stored.length > 0) return { secret: stored, origin: 'file', file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return { secret, origin: 'generated', file };
}
