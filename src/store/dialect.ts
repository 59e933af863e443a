import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, JobsTable } from './schema.js';

export type DialectName = 'sqlite' | 'postgres';

/**
 * The parts of a `Store` that differ between SQL dialects. Everything else the store does is
 * written once with Kysely and runs on both.
 */
export interface StoreDialect {
  readonly name: DialectName;
  /** Largest number of bound parameters one statement may carry; multi-row inserts stay below it. */
  readonly maxParameters: number;
  /**
   * Lease up to `limit` due jobs to `owner` in one statement and return the updated rows, whose
   * `claims` already counts this claim.
   */
  claimJobs(db: Kysely<Database>, owner: string, now: number, limit: number, leaseMs: number): Promise<Array<Selectable<JobsTable>>>;
  /**
   * Called in a transaction right before it adds rows to an outbox table (`events` or
   * `inbound_messages`), which the webhook dispatcher reads in id order after a cursor. Rows
   * must become visible in id order, or the dispatcher passes a row that commits late.
   */
  lockOutbox(trx: Transaction<Database>, source: 'events' | 'inbound'): Promise<void>;
  /**
   * Called first in every grouped write transaction. A lock taken later in a transaction that
   * already holds row locks can deadlock with another transaction that holds the lock and wants
   * those rows, so locks that writes may need are taken here, before any row lock.
   */
  beginWrite(trx: Transaction<Database>): Promise<void>;
  /**
   * Called in a transaction right before it adds an entry to one app user's feed, which apps
   * read by `seq` after a cursor: entries of one user must become visible in `seq` order.
   */
  lockFeed(trx: Transaction<Database>, spaceId: string, appUserId: string): Promise<void>;
}
