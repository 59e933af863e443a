import type { Kysely, Selectable } from 'kysely';
import { uuidv7 } from '../ids.js';
import type { ChannelId, ReceiptState } from '../routing/types.js';
import type { Database, ReceiptsTable } from './schema.js';
import { UNSCOPED_SPACE_ID, type AttemptRef, type NewReceipt, type StoredReceipt } from './types.js';


export async function insertReceipt(db: Kysely<Database>, receipt: NewReceipt): Promise<StoredReceipt | null> {
  const row = await db
    .insertInto('receipts')
    .values({
      id: uuidv7(receipt.receivedAt),
      space_id: receipt.spaceId,
      channel: receipt.channel,
      key: receipt.key,
      provider_message_id: receipt.providerMessageId,
      state: receipt.state,
      error_code: receipt.errorCode,
      provider_timestamp: receipt.providerTimestamp,
      received_at: receipt.receivedAt,
      applied_at: null,
      message_id: null,
      step_idx: null,
      attempt: null,
      part: null,
    })
    .onConflict((oc) => oc.columns(['space_id', 'channel', 'key', 'state']).doNothing())
    .returningAll()
    .executeTakeFirst();
  return row === undefined ? null : rowToReceipt(row);
}

export async function findAttemptByKeys(
  db: Kysely<Database>,
  spaceId: string | null,
  channel: ChannelId,
  keys: string[],
): Promise<AttemptRef | null> {
  if (keys.length === 0) return null;
  let query = db.selectFrom('provider_keys').selectAll();
  if (spaceId !== null) query = query.where('space_id', '=', spaceId);
  const rows = await query
    .where('channel', '=', channel)
    .where('key', 'in', keys)
    .execute();
  for (const key of keys) {
    const row = rows.find((candidate) => candidate.key === key);
    if (row !== undefined) {
      return {
        spaceId: row.space_id,
        messageId: row.message_id,
        step: row.step_idx,
        attempt: row.attempt,
        part: row.part,
        parts: row.parts,
      };
    }
  }
  return null;
}

export async function pendingReceipts(
  db: Kysely<Database>,
  spaceId: string,
  channel: ChannelId,
  keys: string[],
): Promise<StoredReceipt[]> {
  if (keys.length === 0) return [];
  const rows = await db
    .selectFrom('receipts')
    .selectAll()
    .where('space_id', 'in', [spaceId, UNSCOPED_SPACE_ID])
    .where('channel', '=', channel)
    .where('key', 'in', keys)
    .where('applied_at', 'is', null)
    .orderBy('received_at')
    .orderBy('id')
    .execute();
  return rows.map(rowToReceipt);
}

/**
 * Link a receipt to its attempt and mark it applied. Marking it again keeps the first
 * `appliedAt`. A receipt stored before its space was known moves into `ref.spaceId`. Throws
 * when the receipt is in another space.
 */
export async function markReceiptApplied(db: Kysely<Database>, receiptId: string, ref: AttemptRef, now: number): Promise<void> {
  const result = await db
    .updateTable('receipts')
    .set((eb) => ({
      message_id: ref.messageId,
      step_idx: ref.step,
      attempt: ref.attempt,
      part: ref.part,
      applied_at: eb.fn.coalesce('applied_at', eb.val(now)),
      space_id: ref.spaceId,
    }))
    .where('id', '=', receiptId)
    .where('space_id', 'in', [ref.spaceId, UNSCOPED_SPACE_ID])
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) {
    throw new Error(`Cannot mark receipt ${receiptId} applied: not found in space ${ref.spaceId}`);
  }
}

export async function countPartsWithReceipt(
  db: Kysely<Database>,
  ref: Omit<AttemptRef, 'part' | 'parts'>,
  state: ReceiptState,
): Promise<number> {
  const row = await db
    .selectFrom('receipts')
    .select((eb) => eb.fn.count<number>('part').distinct().as('parts'))
    .where('space_id', '=', ref.spaceId)
    .where('message_id', '=', ref.messageId)
    .where('step_idx', '=', ref.step)
    .where('attempt', '=', ref.attempt)
    .where('state', '=', state)
    .executeTakeFirst();
  return Number(row?.parts ?? 0);
}

/**
 * Receipts stored before their attempt was known, received between `after` and `before`,
 * whose key an attempt has recorded since: a process stopped between recording the attempt
 * and applying them. Oldest first, at most `limit`.
 */
export async function matchedUnappliedReceipts(
  db: Kysely<Database>,
  after: number,
  before: number,
  limit: number,
): Promise<Array<{ receipt: StoredReceipt; ref: AttemptRef }>> {
  const rows = await db
    .selectFrom('receipts as r')
    .innerJoin('provider_keys as k', (join) => join.onRef('k.channel', '=', 'r.channel').onRef('k.key', '=', 'r.key'))
    .selectAll('r')
    .select(['k.space_id as ref_space_id', 'k.message_id as ref_message_id', 'k.step_idx as ref_step', 'k.attempt as ref_attempt', 'k.part as ref_part', 'k.parts as ref_parts'])
    .where('r.applied_at', 'is', null)
    .where('r.received_at', '>', after)
    .where('r.received_at', '<', before)
    // A receipt of a known space matches only that space's attempts.
    .where((eb) => eb.or([eb('r.space_id', '=', UNSCOPED_SPACE_ID), eb('r.space_id', '=', eb.ref('k.space_id'))]))
    .orderBy('r.received_at')
    .orderBy('r.id')
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    receipt: rowToReceipt(row),
    ref: { spaceId: row.ref_space_id, messageId: row.ref_message_id, step: row.ref_step, attempt: row.ref_attempt, part: row.ref_part, parts: row.ref_parts },
  }));
}

function rowToReceipt(row: Selectable<ReceiptsTable>): StoredReceipt {
  return {
    id: row.id,
    spaceId: row.space_id,
    channel: row.channel,
    key: row.key,
    providerMessageId: row.provider_message_id,
    state: row.state,
    errorCode: row.error_code,
    providerTimestamp: row.provider_timestamp,
    receivedAt: row.received_at,
    appliedAt: row.applied_at,
  };
}
