import type { Insertable, Kysely } from 'kysely';
import { chunkRows } from './chunks.js';
import type { StoreDialect } from './dialect.js';
import { insertJobRows, newJobRow } from './jobs.js';
import { toJson } from './json.js';
import { mergeAddressesIntoProfiles } from './profiles.js';
import type { Database, JobsTable, MessagesTable, StepsTable } from './schema.js';
import type { NewMessage } from './types.js';

const MESSAGE_COLUMNS = 17;
const STEP_COLUMNS = 10;

/**
 * Insert messages with their pending steps, their start jobs and their `expire` jobs, and merge
 * each `to` into its profile, in one transaction. Rows go in as multi-row inserts, so a batch of
 * thousands takes a few dozen statements.
 */
export async function createMessages(db: Kysely<Database>, dialect: StoreDialect, messages: NewMessage[]): Promise<void> {
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
    const start = { kind: 'route-step', step: null, attempt: null, runAt: message.sendAt ?? message.createdAt } as const;
    jobRows.push(newJobRow(message.spaceId, message.id, start, message.createdAt));
    if (message.expiresAt !== null) {
      const expire = { kind: 'expire', step: null, attempt: null, runAt: message.expiresAt } as const;
      jobRows.push(newJobRow(message.spaceId, message.id, expire, message.createdAt));
    }
  }

  await db.transaction().execute(async (trx) => {
    await mergeAddressesIntoProfiles(trx, messages, dialect.maxParameters);
    for (const chunk of chunkRows(messageRows, MESSAGE_COLUMNS, dialect.maxParameters)) {
      await trx.insertInto('messages').values(chunk).execute();
    }
    for (const chunk of chunkRows(stepRows, STEP_COLUMNS, dialect.maxParameters)) {
      await trx.insertInto('steps').values(chunk).execute();
    }
    await insertJobRows(trx, jobRows, dialect.maxParameters);
  });
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
