import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { AttemptClaim } from './types.js';

/**
 * Create attempt `attempt` of `step` in state `sending` unless it exists. The insert selects
 * from the step row, so it also checks that the step exists in `spaceId`. The attempts primary
 * key makes the insert a compare-and-set when two workers race for one attempt.
 */
export async function claimAttempt(
  db: Kysely<Database>,
  spaceId: string,
  messageId: string,
  step: number,
  attempt: number,
  idempotencyKey: string,
  now: number,
  address: string | null = null,
): Promise<AttemptClaim> {
  const inserted = await db
    .insertInto('attempts')
    .columns([
      'space_id',
      'message_id',
      'step_idx',
      'number',
      'status',
      'idempotency_key',
      'provider_message_id',
      'error_code',
      'error_message',
      'started_at',
      'updated_at',
      'address',
    ])
    .expression((eb) =>
      eb
        .selectFrom('steps')
        .select((select) => [
          'space_id',
          'message_id',
          'idx',
          select.val(attempt).as('number'),
          select.val('sending').as('status'),
          select.val(idempotencyKey).as('idempotency_key'),
          select.val(null).as('provider_message_id'),
          select.val(null).as('error_code'),
          select.val(null).as('error_message'),
          select.val(now).as('started_at'),
          select.val(now).as('updated_at'),
          select.val(address).as('address'),
        ])
        .where('space_id', '=', spaceId)
        .where('message_id', '=', messageId)
        .where('idx', '=', step),
    )
    .onConflict((oc) => oc.columns(['message_id', 'step_idx', 'number']).doNothing())
    .returning('number')
    .executeTakeFirst();
  if (inserted !== undefined) return { result: 'claimed' };

  const existing = await db
    .selectFrom('attempts')
    .select('status')
    .where('space_id', '=', spaceId)
    .where('message_id', '=', messageId)
    .where('step_idx', '=', step)
    .where('number', '=', attempt)
    .executeTakeFirst();
  if (existing === undefined) {
    throw new Error(`Cannot claim attempt ${attempt}: step ${step} of message ${messageId} not found in space ${spaceId}`);
  }
  return { result: 'exists', status: existing.status };
}
