import type { Kysely, Selectable } from 'kysely';
import { fromJson } from './json.js';
import { assembleSteps, rowToAttempt } from './message-state.js';
import type { AttemptsTable, Database, EventsTable, MessagesTable, ReceiptsTable } from './schema.js';
import {
  InvalidCursorError,
  type AttemptView,
  type EventView,
  type MessageFilter,
  type MessagePage,
  type MessageView,
  type ReceiptView,
} from './types.js';

export async function getMessage(db: Kysely<Database>, spaceId: string, messageId: string): Promise<MessageView | null> {
  const row = await db
    .selectFrom('messages')
    .selectAll()
    .where('id', '=', messageId)
    .where('space_id', '=', spaceId)
    .executeTakeFirst();
  if (row === undefined) return null;
  const [view] = await buildViews(db, spaceId, [row]);
  return view ?? null;
}

/** List messages newest first. Ids are UUIDv7, so id order is creation order. */
export async function listMessages(db: Kysely<Database>, spaceId: string, filter: MessageFilter): Promise<MessagePage> {
  if (!Number.isInteger(filter.limit) || filter.limit < 1) {
    throw new RangeError(`Invalid message list limit ${filter.limit}: expected a positive integer`);
  }
  let query = db.selectFrom('messages').selectAll().where('space_id', '=', spaceId);
  if (filter.profileId !== undefined) query = query.where('profile_id', '=', filter.profileId);
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  if (filter.since !== undefined) query = query.where('created_at', '>=', filter.since);
  if (filter.cursor !== undefined) query = query.where('id', '<', decodeCursor(filter.cursor));

  // One row past the page shows whether another page follows.
  const rows = await query.orderBy('id', 'desc').limit(filter.limit + 1).execute();
  const pageRows = rows.slice(0, filter.limit);
  const last = pageRows[pageRows.length - 1];
  const nextCursor = rows.length > filter.limit && last !== undefined ? encodeCursor(last.id) : null;
  return { items: await buildViews(db, spaceId, pageRows), nextCursor };
}

export function encodeCursor(messageId: string): string {
  return Buffer.from(messageId, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const messageId = Buffer.from(cursor, 'base64url').toString('utf8');
  // Buffer decoding skips characters outside the alphabet, so only a round trip proves the input was ours.
  if (messageId === '' || encodeCursor(messageId) !== cursor) {
    throw new InvalidCursorError(`Invalid cursor "${cursor.slice(0, 100)}": pass the nextCursor of a previous page`);
  }
  return messageId;
}

/** Load the steps, attempts, receipts and events of `rows` with one query per table. */
async function buildViews(db: Kysely<Database>, spaceId: string, rows: Array<Selectable<MessagesTable>>): Promise<MessageView[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((row) => row.id);

  const stepRows = await db
    .selectFrom('steps')
    .selectAll()
    .where('space_id', '=', spaceId)
    .where('message_id', 'in', ids)
    .orderBy('message_id')
    .orderBy('idx')
    .execute();
  const attemptRows = await db
    .selectFrom('attempts')
    .selectAll()
    .where('space_id', '=', spaceId)
    .where('message_id', 'in', ids)
    .orderBy('message_id')
    .orderBy('step_idx')
    .orderBy('number')
    .execute();
  const receiptRows = await db
    .selectFrom('receipts')
    .selectAll()
    .where('space_id', '=', spaceId)
    .where('message_id', 'in', ids)
    .orderBy('received_at')
    .orderBy('id')
    .execute();
  const eventRows = await db
    .selectFrom('events')
    .selectAll()
    .where('space_id', '=', spaceId)
    .where('message_id', 'in', ids)
    .orderBy('message_id')
    .orderBy('seq')
    .execute();

  const stepsByMessage = groupBy(stepRows, (row) => row.message_id);
  const attemptsByMessage = groupBy(attemptRows, (row) => row.message_id);
  const eventsByMessage = groupBy(eventRows, (row) => row.message_id);
  const receiptsByAttempt = groupBy(receiptRows, (row) => attemptKey(row.message_id ?? '', row.step_idx ?? -1, row.attempt ?? -1));

  const toAttemptView = (row: Selectable<AttemptsTable>): AttemptView => ({
    ...rowToAttempt(row),
    receipts: (receiptsByAttempt.get(attemptKey(row.message_id, row.step_idx, row.number)) ?? []).map(rowToReceiptView),
  });

  return rows.map((row) => ({
    id: row.id,
    spaceId: row.space_id,
    profileId: row.profile_id,
    status: row.status,
    succeededStep: row.succeeded_step,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    completedAt: row.completed_at,
    expiresAt: row.expires_at,
    sendAt: row.send_at,
    metadata: row.metadata === null ? null : fromJson<Record<string, unknown>>(row.metadata),
    request: fromJson<unknown>(row.request),
    steps: assembleSteps(stepsByMessage.get(row.id) ?? [], attemptsByMessage.get(row.id) ?? [], toAttemptView),
    events: (eventsByMessage.get(row.id) ?? []).map(rowToEventView),
  }));
}

function rowToReceiptView(row: Selectable<ReceiptsTable>): ReceiptView {
  return {
    state: row.state,
    errorCode: row.error_code,
    providerMessageId: row.provider_message_id,
    providerTimestamp: row.provider_timestamp,
    receivedAt: row.received_at,
  };
}

function rowToEventView(row: Selectable<EventsTable>): EventView {
  return {
    type: row.type,
    step: row.step,
    attempt: row.attempt,
    data: fromJson<Record<string, unknown>>(row.data),
    seq: row.seq,
    createdAt: row.created_at,
  };
}

function attemptKey(messageId: string, step: number, attempt: number): string {
  return `${messageId}/${step}/${attempt}`;
}

function groupBy<T>(rows: T[], keyOf: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const key = keyOf(row);
    const list = groups.get(key);
    if (list === undefined) groups.set(key, [row]);
    else list.push(row);
  }
  return groups;
}
