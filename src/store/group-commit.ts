import { sql, type Kysely, type Transaction } from 'kysely';
import { setImmediate as afterIoCallbacks } from 'node:timers/promises';
import type { Database } from './schema.js';

/** A function that writes through `trx` only, inside a transaction that it does not own. */
export type Write<R> = (trx: Transaction<Database>) => Promise<R>;

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

interface Submission {
  write: Write<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Group commit: writes submitted in the same event-loop turn share one transaction, and each
 * submitter's promise settles only after that transaction commits.
 *
 * The first submission waits for `setImmediate`, which runs after the I/O callbacks of the
 * current turn, so that the HTTP requests, SMPP responses and receipts handled in that turn
 * share its transaction. Writes submitted while a group commits go into the next group.
 *
 * Each write of a group runs in its own savepoint. A write that throws is rolled back to its
 * savepoint and rejects with its error, while the others commit. When the transaction itself
 * fails, it has written nothing, and every write of the group runs again in a transaction of
 * its own, so an error reaches only the writes that fail on their own.
 *
 * NOTE: a write must not wait for another store call. The group keeps the only SQLite
 * connection until it commits, so that call would wait forever.
 */
export class GroupCommit {
  #queue: Submission[] = [];
  #draining: Promise<void> | null = null;

  /**
   * @param begin Runs first in every transaction this class opens, such as to take locks in a
   *   fixed order before any row lock.
   */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly begin: (trx: Transaction<Database>) => Promise<void> = async () => {},
  ) {}

  /** Run `write` in a transaction, possibly shared, and return its result once that transaction committed. */
  run<R>(write: Write<R>): Promise<R> {
    const committed = new Promise<R>((resolve, reject) => {
      this.#queue.push({ write, resolve: resolve as (value: unknown) => void, reject });
    });
    this.#draining ??= this.#drain();
    return committed;
  }

  /** Resolve once every write submitted so far has committed or failed. */
  async settled(): Promise<void> {
    while (this.#draining !== null) await this.#draining;
  }

  async #drain(): Promise<void> {
    try {
      await afterIoCallbacks();
      while (this.#queue.length > 0) {
        const group = this.#queue;
        this.#queue = [];
        await this.#commit(group);
      }
    } finally {
      this.#draining = null;
    }
  }

  async #commit(group: Submission[]): Promise<void> {
    if (group.length === 1) {
      await this.#commitAlone(group[0]!);
      return;
    }
    let outcomes: Outcome[];
    try {
      outcomes = await this.db.transaction().execute(async (trx) => {
        await this.begin(trx);
        const results: Outcome[] = [];
        for (const submission of group) results.push(await runInSavepoint(trx, submission.write));
        return results;
      });
    } catch {
      // The shared transaction rolled back, so nothing of the group was written.
      for (const submission of group) await this.#commitAlone(submission);
      return;
    }
    group.forEach((submission, index) => {
      const outcome = outcomes[index]!;
      if (outcome.ok) submission.resolve(outcome.value);
      else submission.reject(outcome.error);
    });
  }

  async #commitAlone(submission: Submission): Promise<void> {
    try {
      submission.resolve(
        await this.db.transaction().execute(async (trx) => {
          await this.begin(trx);
          return submission.write(trx);
        }),
      );
    } catch (error) {
      submission.reject(error);
    }
  }
}

/**
 * Run one write of a group and undo only its changes when it throws. If SQLite already rolled
 * back the whole transaction, which it does after some I/O and out-of-memory errors, the
 * `rollback to` throws and the caller retries each write alone.
 */
async function runInSavepoint(trx: Transaction<Database>, write: Write<unknown>): Promise<Outcome> {
  await sql`savepoint group_write`.execute(trx);
  try {
    const value = await write(trx);
    await sql`release group_write`.execute(trx);
    return { ok: true, value };
  } catch (error) {
    await sql`rollback to group_write`.execute(trx);
    await sql`release group_write`.execute(trx);
    return { ok: false, error };
  }
}
