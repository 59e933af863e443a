import type { Kysely, Selectable } from 'kysely';
import type { Addresses } from '../channels/types.js';
import type { AttemptState, MessageState, StepState } from '../routing/types.js';
import { fromJson } from './json.js';
import { getProfile } from './profiles.js';
import type { AttemptsTable, Database, MessagesTable, StepsTable } from './schema.js';
import type { LoadedMessage, MessageContent } from './types.js';

export function rowToAttempt(row: Selectable<AttemptsTable>): AttemptState {
  return {
    number: row.number,
    status: row.status,
    providerMessageId: row.provider_message_id,
    errorCode: row.error_code,
    errorMessage: row.error_message,
    startedAt: row.started_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Build the steps of one message, each with its attempts. Both row lists must belong to that
 * message and be ordered: steps by index, attempts by step and number.
 */
export function assembleSteps<A>(
  stepRows: Array<Selectable<StepsTable>>,
  attemptRows: Array<Selectable<AttemptsTable>>,
  toAttempt: (row: Selectable<AttemptsTable>) => A,
): Array<Omit<StepState, 'attempts'> & { attempts: A[] }> {
  const attemptsByStep = new Map<number, A[]>();
  for (const row of attemptRows) {
    const list = attemptsByStep.get(row.step_idx) ?? [];
    list.push(toAttempt(row));
    attemptsByStep.set(row.step_idx, list);
  }
  return stepRows.map((row) => ({
    index: row.idx,
    channel: row.channel,
    condition: row.condition,
    fallbackAfterMs: row.fallback_after_ms,
    status: row.status,
    reason: row.reason,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    attempts: attemptsByStep.get(row.idx) ?? [],
  }));
}

export function rowToMessageState(row: Selectable<MessagesTable>, steps: StepState[]): MessageState {
  return {
    status: row.status,
    currentStep: row.current_step,
    succeededStep: row.succeeded_step,
    expiresAt: row.expires_at,
    completedAt: row.completed_at,
    steps,
  };
}

export async function loadMessage(db: Kysely<Database>, spaceId: string, messageId: string): Promise<LoadedMessage | null> {
  const row = await db
    .selectFrom('messages')
    .selectAll()
    .where('id', '=', messageId)
    .where('space_id', '=', spaceId)
    .executeTakeFirst();
  if (row === undefined) return null;

  const stepRows = await db
    .selectFrom('steps')
    .selectAll()
    .where('message_id', '=', messageId)
    .where('space_id', '=', spaceId)
    .orderBy('idx')
    .execute();
  const attemptRows = await db
    .selectFrom('attempts')
    .selectAll()
    .where('message_id', '=', messageId)
    .where('space_id', '=', spaceId)
    .orderBy('step_idx')
    .orderBy('number')
    .execute();
  const profile = row.profile_id === null ? null : await getProfile(db, spaceId, row.profile_id);

  return {
    id: row.id,
    spaceId: row.space_id,
    profileId: row.profile_id,
    version: row.version,
    state: rowToMessageState(row, assembleSteps(stepRows, attemptRows, rowToAttempt)),
    to: fromJson<Addresses>(row.to_addresses),
    content: fromJson<MessageContent>(row.content),
    metadata: row.metadata === null ? null : fromJson<Record<string, unknown>>(row.metadata),
    profile,
  };
}
