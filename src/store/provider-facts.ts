import type { Kysely } from 'kysely';
import type { AttemptStatus, ChannelId } from '../routing/types.js';
import type { StoreDialect } from './dialect.js';
import type { Database } from './schema.js';
import type { InboundMessage } from './types.js';

/** Most attempts one watermark is applied to; older ones are left to their receipt timeout. */
const MAX_WATERMARK_ATTEMPTS = 500;

/**
 * Store an inbound message once per provider message id, and clear any unreachable mark of its
 * sender, since a person who writes can be reached. Returns false for a duplicate.
 */
export async function recordInbound(db: Kysely<Database>, dialect: StoreDialect, message: InboundMessage): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    await dialect.lockOutbox(trx, 'inbound');
    const inserted = await trx
      .insertInto('inbound_messages')
      .values({
        space_id: message.spaceId,
        channel: message.channel,
        provider_message_id: message.providerMessageId,
        address: message.address,
        text: message.text,
        provider_timestamp: message.providerTimestamp,
        received_at: message.receivedAt,
      })
      .onConflict((oc) => oc.columns(['space_id', 'channel', 'provider_message_id']).doNothing())
      .returning('provider_message_id')
      .executeTakeFirst();
    await trx
      .deleteFrom('unreachable_addresses')
      .where('space_id', '=', message.spaceId)
      .where('channel', '=', message.channel)
      .where('address', '=', message.address)
      .execute();
    return inserted !== undefined;
  });
}

export async function lastInboundAt(db: Kysely<Database>, spaceId: string, channel: ChannelId, address: string): Promise<number | null> {
  const row = await db
    .selectFrom('inbound_messages')
    .select((eb) => eb.fn.max('provider_timestamp').as('at'))
    .where('space_id', '=', spaceId)
    .where('channel', '=', channel)
    .where('address', '=', address)
    .executeTakeFirst();
  const at = row?.at;
  return at === null || at === undefined ? null : Number(at);
}

export async function markUnreachable(
  db: Kysely<Database>,
  spaceId: string,
  channel: ChannelId,
  address: string,
  errorCode: string,
  now: number,
): Promise<void> {
  await db
    .insertInto('unreachable_addresses')
    .values({ space_id: spaceId, channel, address, error_code: errorCode, marked_at: now })
    .onConflict((oc) => oc.columns(['space_id', 'channel', 'address']).doUpdateSet({ error_code: errorCode, marked_at: now }))
    .execute();
}

export async function isUnreachable(db: Kysely<Database>, spaceId: string, channel: ChannelId, address: string): Promise<boolean> {
  const row = await db
    .selectFrom('unreachable_addresses')
    .select('address')
    .where('space_id', '=', spaceId)
    .where('channel', '=', channel)
    .where('address', '=', address)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Provider message ids of attempts on `channel` to `address` that started at or before `before`
 * and are in one of `statuses`, oldest first.
 */
export async function attemptIdsBefore(
  db: Kysely<Database>,
  spaceId: string,
  channel: ChannelId,
  address: string,
  before: number,
  statuses: AttemptStatus[],
): Promise<string[]> {
  const rows = await db
    .selectFrom('attempts')
    .innerJoin('steps', (join) => join.onRef('steps.message_id', '=', 'attempts.message_id').onRef('steps.idx', '=', 'attempts.step_idx'))
    .select('attempts.provider_message_id')
    .where('attempts.space_id', '=', spaceId)
    .where('attempts.address', '=', address)
    .where('attempts.started_at', '<=', before)
    .where('attempts.status', 'in', statuses)
    .where('attempts.provider_message_id', 'is not', null)
    .where('steps.channel', '=', channel)
    .orderBy('attempts.started_at')
    .limit(MAX_WATERMARK_ATTEMPTS)
    .execute();
  return rows.flatMap((row) => (row.provider_message_id === null ? [] : [row.provider_message_id]));
}
