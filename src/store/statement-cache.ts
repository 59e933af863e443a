import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

export interface StatementCacheOptions {
  /** Maximum number of statements kept. A miss with a full cache drops the least recently used one. */
  maxEntries: number;
  /** Longer SQL is prepared on every call and not kept. */
  maxSqlLength: number;
}

/**
 * Wrap a better-sqlite3 database for Kysely's `SqliteDialect` so that `prepare` reuses the
 * statement prepared before for the same SQL text. Kysely's SQLite driver (0.28) calls
 * `prepare` for every query, which took about 13% of the server's busy time in the accept
 * benchmark of `npm run bench` before this cache.
 *
 * A statement that is mid-iteration (`busy`) is not handed out again: that call gets a fresh
 * statement. Kept statements are dropped, not finalized, on eviction; better-sqlite3 finalizes
 * them when they are garbage-collected or the database closes.
 */
export function withStatementCache(database: BetterSqlite3.Database, options: StatementCacheOptions): SqliteDatabase {
  const entries = new Map<string, { statement: BetterSqlite3.Statement; lastUsed: number }>();
  let uses = 0;

  // A hit only stamps the entry, because moving it to the end of the Map on every hit cost
  // about 1 µs per query in a micro-benchmark on Node.js 20. The scan for the least recently
  // used entry runs only on a miss with a full cache.
  const evictLeastRecentlyUsed = (): void => {
    let oldestSql: string | null = null;
    let oldestUse = Infinity;
    for (const [sql, entry] of entries) {
      if (entry.lastUsed < oldestUse) {
        oldestUse = entry.lastUsed;
        oldestSql = sql;
      }
    }
    if (oldestSql !== null) entries.delete(oldestSql);
  };

  return {
    close: () => {
      entries.clear();
      database.close();
    },
    prepare: (sql) => {
      uses += 1;
      const cached = entries.get(sql);
      if (cached !== undefined && !cached.statement.busy) {
        cached.lastUsed = uses;
        return cached.statement;
      }
      const statement = database.prepare(sql);
      if (cached === undefined && sql.length <= options.maxSqlLength) {
        if (entries.size >= options.maxEntries) evictLeastRecentlyUsed();
        entries.set(sql, { statement, lastUsed: uses });
      }
      return statement;
    },
  };
}
