import type { Insertable, Kysely } from 'kysely';
import { chunkRows } from './chunks.js';
import type { StoreDialect } from './dialect.js';
import type { GroupCommit } from './group-commit.js';
import { insertJobRows, newJobRow } from './jobs.js';
import { toJson } from './json.js';
import { mergeAddressesIntoProfiles } from './profiles.js';
import type { Database, JobsTable, MessagesTable, StepsTable } from './schema.js';
import type { NewMessage } from './types.js';

const MESSAGE_COLUMNS = 17;
const STEP_COLUMNS = 10;

/**
 * Maximum number of messages that one combined insert takes from concurrent `createMessages`
 * calls. It bounds the size of one insert and how much is written again, one call at a time,
 * after a combined insert fails. A single call with more messages is still inserted alone.
 */
const MAX_COMBINED_MESSAGES = 1_000;

interface MessageSubmission {
  messages: NewMessage[];
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Combines the `createMessages` calls of one event-loop turn into one set of multi-row inserts,
 * written as one write of the store's group commit. Every call's promise settles after the
 * commit. When the combined insert fails, it has written nothing, and each call is submitted
 * again on its own, so only the calls whose messages fail reject, and they write nothing.
 */
export class MessageWriter {
  #open: MessageSubmission[] | null = null;
  #openCount = 0;

  constructor(
    private readonly writes: GroupCommit,
    private readonly dialect: StoreDialect,
  ) {}

  create(messages: NewMessage[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const submission = { messages, resolve, reject };
      if (this.#open !== null && this.#openCount + messages.length <= MAX_COMBINED_MESSAGES) {
        this.#open.push(submission);
        this.#openCount += messages.length;
        return;
      }
      const batch = [submission];
      this.#open = batch;
      this.#openCount = messages.length;
      this.writes
        .run((trx) => {
          // Calls made from here on start the next batch.
          if (this.#open === batch) this.#open = null;
          return insertMessages(trx, this.dialect, batch.flatMap((item) => item.messages));
        })
        .then(
          () => {
            for (const item of batch) item.resolve();
          },
          (error: unknown) => this.#retryAlone(batch, error),
        );
    });
  }

  #retryAlone(batch: MessageSubmission[], error: unknown): void {
    if (batch.length === 1) {
      batch[0]!.reject(error);
      return;
    }
    for (const item of batch) {
      this.writes.run((trx) => insertMessages(trx, this.dialect, item.messages)).then(item.resolve, item.reject);
    }
  }
}

/**
 * Insert messages with their pending steps, their start jobs and their `expire` jobs, and merge
 * each `to` into its profile, in the caller's transaction. Rows go in as multi-row inserts, so
 * a batch of thousands takes a few dozen statements.
 */
export async function insertMessages(trx: Kysely<Database>, dialect: StoreDialect, messages: NewMessage[]): Promise<void> {
  if (messages.length === 0) return;

  const messageRows: Array<Insertable<MessagesTable>> = [];
  const stepRows: Array<Insertable<StepsTable>> = [];
  const jobRows: Array<Insertable<JobsTable>> = [];
  for (const message of messages) {
    messageRows.push(toMessageRow(message));
    message.steps.forEach((plan, index) => {
      stepRows.push({
        space_id: message.spaceId,
        message_id: message.id,
        idx: index,
        channel: plan.channel,
        condition: plan.condition,
        fallback_after_ms: plan.fallbackAfterMs,
        status: 'pending',
        reason: null,
        started_at: null,
        ended_at: null,
      });
    });
    const start = { kind: 'route-step', step: null, attempt: null, runAt: startRunAt(message) } as const;
    jobRows.push(newJobRow(message.spaceId, message.id, start, message.createdAt));
    if (message.expiresAt !== null) {
      const expire = { kind: 'expire', step: null, attempt: null, runAt: message.expiresAt } as const;
      jobRows.push(newJobRow(message.spaceId, message.id, expire, message.createdAt));
    }
  }

  await mergeAddressesIntoProfiles(trx, messages, dialect.maxParameters);
  for (const chunk of chunkRows(messageRows, MESSAGE_COLUMNS, dialect.maxParameters)) {
    await trx.insertInto('messages').values(chunk).execute();
  }
  for (const chunk of chunkRows(stepRows, STEP_COLUMNS, dialect.maxParameters)) {
    await trx.insertInto('steps').values(chunk).execute();
  }
  await insertJobRows(trx, jobRows, dialect.maxParameters);
}

function startRunAt(message: NewMessage): number {
  return message.sendAt ?? message.createdAt;
}

/** Return the earliest `runAt` among the jobs `insertMessages` writes for `messages`, or Infinity for none. */
export function earliestJobRunAt(messages: NewMessage[]): number {
  let earliest = Infinity;
  for (const message of messages) {
    earliest = Math.min(earliest, startRunAt(message), message.expiresAt ?? Infinity);
  }
  return earliest;
}

function toMessageRow(message: NewMessage): Insertable<MessagesTable> {
  return {
    id: message.id,
    space_id: message.spaceId,
    profile_id: message.profileId,
    status: 'processing',
    current_step: 0,
    succeeded_step: null,
    version: 0,
    to_addresses: toJson(message.to),
    content: toJson(message.content),
    metadata: message.metadata === null ? null : toJson(message.metadata),
    conversation_id: message.conversationId,
    request: toJson(message.request),
    expires_at: message.expiresAt,
    send_at: message.sendAt,
    created_at: message.createdAt,
    updated_at: message.createdAt,
    completed_at: null,
  };
}
