import type { Insertable, Transaction } from 'kysely';
import type { Logger } from 'pino';
import { chunkRows } from './chunks.js';
import type { StoreDialect } from './dialect.js';
import { insertJobRows, newJobRow } from './jobs.js';
import { toJson } from './json.js';
import { markReceiptApplied } from './receipts.js';
import type { AttemptsTable, Database, EventsTable, ProviderKeysTable, StepsTable } from './schema.js';
import { ConflictError, type DecisionWrite } from './types.js';

const STEP_COLUMNS = 10;
const ATTEMPT_COLUMNS = 11;
const EVENT_COLUMNS = 8;
const PROVIDER_KEY_COLUMNS = 8;

/**
 * Write one engine decision in the caller's transaction: the message row (guarded by its
 * version), every step and attempt of the new state, events, jobs, provider keys and the applied
 * receipt. Throws `ConflictError`, having written nothing, when the message is past
 * `write.version`.
 */
export async function applyDecision(trx: Transaction<Database>, dialect: StoreDialect, logger: Logger, write: DecisionWrite): Promise<void> {
  await updateMessage(trx, write);
  await upsertSteps(trx, write, dialect.maxParameters);
  await upsertAttempts(trx, write, dialect.maxParameters);

  if (write.state.completedAt !== null) {
    // A finished message needs no more work. Leased jobs stay: their worker completes them.
    await trx
      .deleteFrom('jobs')
      .where('space_id', '=', write.spaceId)
      .where('message_id', '=', write.messageId)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', write.now)]))
      .execute();
  }
  if (write.doneJobId !== undefined) {
    await trx.deleteFrom('jobs').where('id', '=', write.doneJobId).where('space_id', '=', write.spaceId).execute();
  }
  const jobRows = write.jobs.map((job) => newJobRow(write.spaceId, write.messageId, job, write.now));
  await insertJobRows(trx, jobRows, dialect.maxParameters);

  await insertProviderKeys(trx, write, dialect.maxParameters, logger);
  if (write.appliedReceipt !== undefined) {
    await markReceiptApplied(trx, write.appliedReceipt.receiptId, write.appliedReceipt.ref, write.now);
  }
  // Last, so that the outbox lock is held for as short a time as possible.
  await insertEvents(trx, dialect, write);
}

async function updateMessage(trx: Transaction<Database>, write: DecisionWrite): Promise<void> {
  const { state } = write;
  const result = await trx
    .updateTable('messages')
    .set((eb) => ({
      status: state.status,
      current_step: state.currentStep,
      succeeded_step: state.succeededStep,
      expires_at: state.expiresAt,
      completed_at: state.completedAt,
      updated_at: write.now,
      version: eb('version', '+', 1),
    }))
    .where('id', '=', write.messageId)
    .where('space_id', '=', write.spaceId)
    .where('version', '=', write.version)
    .executeTakeFirst();
  if (result.numUpdatedRows > 0n) return;

  const current = await trx
    .selectFrom('messages')
    .select('version')
    .where('id', '=', write.messageId)
    .where('space_id', '=', write.spaceId)
    .executeTakeFirst();
  if (current === undefined) {
    throw new Error(`Cannot apply a decision: message ${write.messageId} not found in space ${write.spaceId}`);
  }
  throw new ConflictError(
    `Message ${write.messageId} is at version ${current.version}, not ${write.version}: load it again and decide anew`,
  );
}

async function upsertSteps(trx: Transaction<Database>, write: DecisionWrite, maxParameters: number): Promise<void> {
  const rows: Array<Insertable<StepsTable>> = write.state.steps.map((step) => ({
    space_id: write.spaceId,
    message_id: write.messageId,
    idx: step.index,
    channel: step.channel,
    condition: step.condition,
    fallback_after_ms: step.fallbackAfterMs,
    status: step.status,
    reason: step.reason,
    started_at: step.startedAt,
    ended_at: step.endedAt,
  }));
  for (const chunk of chunkRows(rows, STEP_COLUMNS, maxParameters)) {
    await trx
      .insertInto('steps')
      .values(chunk)
      .onConflict((oc) =>
        oc.columns(['message_id', 'idx']).doUpdateSet((eb) => ({
          channel: eb.ref('excluded.channel'),
          condition: eb.ref('excluded.condition'),
          fallback_after_ms: eb.ref('excluded.fallback_after_ms'),
          status: eb.ref('excluded.status'),
          reason: eb.ref('excluded.reason'),
          started_at: eb.ref('excluded.started_at'),
          ended_at: eb.ref('excluded.ended_at'),
        })),
      )
      .execute();
  }
}

/** A decision never changes the idempotency key that `claimAttempt` stored on an attempt. */
async function upsertAttempts(trx: Transaction<Database>, write: DecisionWrite, maxParameters: number): Promise<void> {
  const rows: Array<Insertable<AttemptsTable>> = write.state.steps.flatMap((step) =>
    step.attempts.map((attempt) => ({
      space_id: write.spaceId,
      message_id: write.messageId,
      step_idx: step.index,
      number: attempt.number,
      status: attempt.status,
      idempotency_key: null,
      provider_message_id: attempt.providerMessageId,
      error_code: attempt.errorCode,
      error_message: attempt.errorMessage,
      started_at: attempt.startedAt,
      updated_at: attempt.updatedAt,
    })),
  );
  for (const chunk of chunkRows(rows, ATTEMPT_COLUMNS, maxParameters)) {
    await trx
      .insertInto('attempts')
      .values(chunk)
      .onConflict((oc) =>
        oc.columns(['message_id', 'step_idx', 'number']).doUpdateSet((eb) => ({
          status: eb.ref('excluded.status'),
          provider_message_id: eb.ref('excluded.provider_message_id'),
          error_code: eb.ref('excluded.error_code'),
          error_message: eb.ref('excluded.error_message'),
          started_at: eb.ref('excluded.started_at'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }
}

/**
 * Append events after the message's last `seq`. The version check in the same transaction
 * serialises decisions on one message, so no other writer takes the same numbers.
 */
async function insertEvents(trx: Transaction<Database>, dialect: StoreDialect, write: DecisionWrite): Promise<void> {
  if (write.events.length === 0) return;
  await dialect.lockOutbox(trx, 'events');
  const last = await trx
    .selectFrom('events')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .where('space_id', '=', write.spaceId)
    .where('message_id', '=', write.messageId)
    .executeTakeFirst();
  const first = (last?.seq ?? 0) + 1;
  const rows: Array<Insertable<EventsTable>> = write.events.map((event, offset) => ({
    space_id: write.spaceId,
    message_id: write.messageId,
    seq: first + offset,
    type: event.type,
    step: event.step,
    attempt: event.attempt,
    data: toJson(event.data),
    created_at: write.now,
  }));
  for (const chunk of chunkRows(rows, EVENT_COLUMNS, dialect.maxParameters)) {
    await trx.insertInto('events').values(chunk).execute();
  }
}

/**
 * Store one row per match key per part. A key already stored for another attempt keeps its
 * first owner, and the clash is logged.
 */
async function insertProviderKeys(trx: Transaction<Database>, write: DecisionWrite, maxParameters: number, logger: Logger): Promise<void> {
  if (write.providerKeys === undefined) return;
  const { step, attempt, keys } = write.providerKeys;
  const rows: Array<Insertable<ProviderKeysTable>> = [];
  const seen = new Set<string>();
  keys.parts.forEach((partKeys, part) => {
    for (const key of partKeys) {
      // A key listed twice (two forms that normalise alike) belongs to its first part.
      if (seen.has(key)) continue;
      seen.add(key);
      rows.push({
        space_id: write.spaceId,
        channel: keys.channel,
        key,
        message_id: write.messageId,
        step_idx: step,
        attempt,
        part,
        parts: keys.parts.length,
      });
    }
  });
  if (rows.length === 0) return;

  const inserted = new Set<string>();
  for (const chunk of chunkRows(rows, PROVIDER_KEY_COLUMNS, maxParameters)) {
    const returned = await trx
      .insertInto('provider_keys')
      .values(chunk)
      .onConflict((oc) => oc.columns(['space_id', 'channel', 'key']).doNothing())
      .returning('key')
      .execute();
    for (const row of returned) inserted.add(row.key);
  }
  const clashing = rows.filter((row) => !inserted.has(row.key)).map((row) => row.key);
  if (clashing.length === 0) return;

  const owners = await trx
    .selectFrom('provider_keys')
    .selectAll()
    .where('space_id', '=', write.spaceId)
    .where('channel', '=', keys.channel)
    .where('key', 'in', clashing)
    .execute();
  for (const owner of owners) {
    const sameAttempt = owner.message_id === write.messageId && owner.step_idx === step && owner.attempt === attempt;
    if (sameAttempt) continue;
    logger.warn(
      {
        spaceId: write.spaceId,
        channel: keys.channel,
        key: owner.key,
        messageId: write.messageId,
        step,
        attempt,
        ownerMessageId: owner.message_id,
        ownerStep: owner.step_idx,
        ownerAttempt: owner.attempt,
      },
      'provider message id already belongs to another attempt; receipts for it go to the first one',
    );
  }
}
