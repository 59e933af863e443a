import { join } from 'node:path';
import type { Logger } from 'pino';
import { openPostgresStore } from './postgres.js';
import { openSqliteStore } from './sqlite.js';
import type { Store } from './types.js';

export interface CreateStoreOptions {
  /** A `postgres://` URL selects PostgreSQL; null or empty selects SQLite in `dataDir`. */
  databaseUrl?: string | null;
  dataDir: string;
  logger: Logger;
}

/** Open the store the configuration selects. Call `migrate()` on it before use. */
export async function createStore(options: CreateStoreOptions): Promise<Store> {
  const url = options.databaseUrl ?? '';
  if (url === '') {
    return openSqliteStore({ file: join(options.dataDir, 'cascade.sqlite'), logger: options.logger });
  }
  // Only the scheme goes into errors, because the rest of the URL may contain a password.
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') {
    return openPostgresStore({ url, logger: options.logger });
  }
  throw new Error(
    scheme === undefined
      ? 'Invalid DATABASE_URL: expected a postgres:// URL, or leave it unset to use SQLite'
      : `Unsupported DATABASE_URL scheme "${scheme}": expected postgres://, or leave it unset to use SQLite`,
  );
}
