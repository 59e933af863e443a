import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { fromJson, toJson } from './json.js';
import type { Database, IdempotencyKeysTable } from './schema.js';
import {
  IdempotencyReservationLostError,
  type IdempotencyClaim,
  type IdempotencyKeyRef,
  type IdempotencyRequest,
  type IdempotencyReservation,
  type StoredResponse,
} from './types.js';

/**
 * Idempotency records. A record moves `processing` → `completed` once, in the transaction that
 * writes the request's messages, or is deleted while `processing` when the request lets go.
 * Every change of a `processing` record is a compare-and-set on its `token`, so a request whose
 * reservation timed out and was taken over can no longer complete or delete it.
 */

/**
 * Reserve the key of `request`, or return the state of the record that has it. Call inside a
 * transaction so that the insert, the read and the take-over see one state.
 */
export async function reserveIdempotencyKey(db: Kysely<Database>, request: IdempotencyRequest): Promise<IdempotencyClaim> {
  const token = randomUUID();
  const reservation: IdempotencyReservation = { spaceId: request.spaceId, route: request.route, key: request.key, token };
  const fresh = {
    request_hash: request.requestHash,
    state: 'processing' as const,
    token,
    locked_until: request.lockedUntil,
    response_status: null,
    response_body: null,
    created_at: request.now,
    expires_at: request.expiresAt,
  };

  const inserted = await db
    .insertInto('idempotency_keys')
    .values({ space_id: request.spaceId, route: request.route, idempotency_key: request.key, ...fresh })
    .onConflict((conflict) => conflict.columns(['space_id', 'route', 'idempotency_key']).doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1) return { result: 'reserved', reservation };

  const existing = await findRecord(db, request);
  // The record was deleted between the insert and the read. Only a concurrent release or sweep
  // on another connection does that, and the caller's retry then finds the key free.
  if (existing === undefined) return { result: 'in-progress', lockedUntil: request.now };

  const expired = existing.expires_at <= request.now;
  if (!expired && existing.request_hash !== request.requestHash) return { result: 'mismatch' };
  if (!expired && existing.state === 'completed') {
    return { result: 'completed', response: { status: existing.response_status ?? 200, body: fromJson<unknown>(existing.response_body ?? 'null') } };
  }
  const lockedUntil = existing.locked_until ?? 0;
  if (!expired && lockedUntil > request.now) return { result: 'in-progress', lockedUntil };

  // An expired record, or a reservation whose holder did not finish in time (a crash, or a
  // request that ran past its lock): nothing was written under it, so the key is taken over.
  const taken = await db
    .updateTable('idempotency_keys')
    .set(fresh)
    .where('space_id', '=', request.spaceId)
    .where('route', '=', request.route)
    .where('idempotency_key', '=', request.key)
    .where('token', '=', existing.token)
    .executeTakeFirst();
  if (Number(taken.numUpdatedRows) === 1) return { result: 'reserved', reservation };
  return { result: 'in-progress', lockedUntil: request.lockedUntil };
}

/**
 * Store the response of a held reservation and mark it `completed`. Call in the transaction
 * that writes the request's messages; the throw rolls them back when the reservation was lost.
 */
export async function completeIdempotencyKey(
  db: Kysely<Database>,
  reservation: IdempotencyReservation,
  response: StoredResponse,
): Promise<void> {
  const result = await db
    .updateTable('idempotency_keys')
    .set({ state: 'completed', locked_until: null, response_status: response.status, response_body: toJson(response.body) })
    .where('space_id', '=', reservation.spaceId)
    .where('route', '=', reservation.route)
    .where('idempotency_key', '=', reservation.key)
    .where('token', '=', reservation.token)
    .where('state', '=', 'processing')
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) throw new IdempotencyReservationLostError(reservation);
}

export async function releaseIdempotencyKey(db: Kysely<Database>, reservation: IdempotencyReservation): Promise<void> {
  await db
    .deleteFrom('idempotency_keys')
    .where('space_id', '=', reservation.spaceId)
    .where('route', '=', reservation.route)
    .where('idempotency_key', '=', reservation.key)
    .where('token', '=', reservation.token)
    .where('state', '=', 'processing')
    .execute();
}

/** Delete up to `limit` expired records, oldest expiry first, and return how many went. */
export async function deleteExpiredIdempotencyKeys(db: Kysely<Database>, now: number, limit: number): Promise<number> {
  const result = await db
    .deleteFrom('idempotency_keys')
    .where((eb) =>
      eb(
        eb.refTuple('space_id', 'route', 'idempotency_key'),
        'in',
        eb
          .selectFrom('idempotency_keys')
          .select(['space_id', 'route', 'idempotency_key'])
          .where('expires_at', '<=', now)
          .orderBy('expires_at')
          .limit(limit)
          .$asTuple('space_id', 'route', 'idempotency_key'),
      ),
    )
    .where('expires_at', '<=', now)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

function findRecord(db: Kysely<Database>, ref: IdempotencyKeyRef): Promise<Selectable<IdempotencyKeysTable> | undefined> {
  return db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('space_id', '=', ref.spaceId)
    .where('route', '=', ref.route)
    .where('idempotency_key', '=', ref.key)
    .executeTakeFirst();
}
