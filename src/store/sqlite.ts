import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, sql, SqliteDialect } from 'kysely';
import { pino, type Logger } from 'pino';
import type { StoreDialect } from './dialect.js';
import { KyselyStore } from './kysely-store.js';
import type { Database } from './schema.js';
import { withStatementCache } from './statement-cache.js';
import type { Store } from './types.js';

/**
 * Prepared statements kept per database. Cascade runs a few dozen distinct short queries, plus
 * multi-row inserts whose SQL varies with the row count. A prepared multi-row insert took about
 * 35 bytes of resident memory per character of SQL (better-sqlite3 12.11 on Node.js 20), so
 * these limits cap the cache at about 7 MB. An insert of up to about 35 messages stays short
 * enough to be kept.
 */
const STATEMENT_CACHE = { maxEntries: 100, maxSqlLength: 2_000 };

/**
 * SQLite specifics. SQLite mode is one process on one connection, so claiming needs no row
 * locks: one UPDATE leases the oldest due jobs atomically.
 */
export const sqliteDialect: StoreDialect = {
  name: 'sqlite',
  // One connection commits one transaction at a time, so rows become visible in id order anyway.
  async lockOutbox() {},
  async beginWrite() {},
  async lockFeed() {},
  // SQLite's default SQLITE_MAX_VARIABLE_NUMBER has been 32766 since 3.32.0, and better-sqlite3 12.11 bundles SQLite 3.53.
  maxParameters: 32_000,
  async claimJobs(db, owner, now, limit, leaseMs) {
    const due = db
      .selectFrom('jobs')
      .select('id')
      .where('run_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
      .orderBy('run_at')
      // Ties go in insertion order, which `jobs_run_at_idx` stores as (run_at, rowid), so SQLite
      // reads due jobs in index order and stops at `limit`. Ordering ties by `id` made it sort
      // every job of a tie, such as a batch of 1,000 messages accepted in one millisecond.
      .orderBy(sql`rowid`)
      .limit(limit);
    return db
      .updateTable('jobs')
      .set((eb) => ({ lease_owner: owner, lease_until: now + leaseMs, claims: eb('claims', '+', 1) }))
      .where('id', 'in', due)
      .returningAll()
      .execute();
  },
};

export interface SqliteStoreOptions {
  /** Path of the database file; its directory is created when missing. */
  file: string;
  logger?: Logger;
}

/**
 * Open (or create) a SQLite database file as a `Store`. Call `migrate()` before use.
 *
 * Pragmas: WAL journal, `synchronous=NORMAL` (a commit survives a process crash, and may be
 * lost only on power loss), foreign keys on, and a 5 s busy timeout for other connections
 * such as a backup tool.
 */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  const logger = options.logger ?? pino({ enabled: false });
  const file = options.file === ':memory:' ? options.file : resolve(options.file);
  if (file !== ':memory:') await mkdir(dirname(file), { recursive: true });

  const database = new BetterSqlite3(file);
  try {
    const journalMode: unknown = database.pragma('journal_mode = WAL', { simple: true });
    if (journalMode !== 'wal') logger.warn({ file, journalMode }, 'SQLite did not switch to WAL mode');
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
    database.pragma('busy_timeout = 5000');
  } catch (error) {
    database.close();
    throw new Error(`Failed to configure SQLite database ${file}`, { cause: error });
  }

  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database, STATEMENT_CACHE) }) });
  logger.info({ file }, 'SQLite database opened');
  return new KyselyStore(db, sqliteDialect, logger);
}
