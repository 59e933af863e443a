import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  IdempotencyReservationLostError,
  type IdempotencyReservation,
  type NewMessage,
  type StoredResponse,
} from '../store/types.js';
import type { ApiDeps } from './deps.js';
import { problem, sendProblem } from './problem.js';

/** How long a completed request's response is replayed to retries with its key. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * How long a reservation blocks other requests with its key. A request that has not stored its
 * messages by then (its process crashed, or it is still running) loses the key to the next
 * request with the same body, and its own write then stores nothing.
 */
export const IDEMPOTENCY_LOCK_MS = 60 * 1000;

/** Seconds a client is asked to wait before retrying a request whose key is in use. */
const IN_USE_RETRY_AFTER_SECONDS = 1;

/** Expired records are deleted at most this often, after a request with a key. */
const SWEEP_INTERVAL_MS = 60 * 1000;
const SWEEP_BATCH = 500;

/** Request header that carries the key, and response header that marks a replayed response. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const REPLAYED_HEADER = 'Idempotent-Replayed';

interface RequestState {
  reservation: IdempotencyReservation;
  completed: boolean;
}

/**
 * `Idempotency-Key` handling of the routes that accept messages. A key is scoped by space and
 * route, and remembered for 24 hours with the SHA-256 of the canonical JSON request body:
 *
 * - the first request with a key reserves it (`processing`), and the transaction that writes
 *   its messages stores its response and marks the key `completed`;
 * - a later request with the same key and body gets the stored response again, with
 *   `Idempotent-Replayed: true`, and nothing is written or sent;
 * - the same key with a different body gets 422;
 * - the same key and body while the first request is still `processing` gets 409 with
 *   `Retry-After`.
 *
 * A request that ends without storing messages (a validation error, a failure) deletes its
 * reservation, so the key can be used again.
 *
 * Install `preHandler` and `onResponse` on the route, and write the messages with
 * `storeMessages`.
 */
export class Idempotency {
  readonly #states = new WeakMap<FastifyRequest, RequestState>();
  #lastSweepAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly deps: Pick<ApiDeps, 'store' | 'now'>) {}

  /** Reserves the request's key, or replies with the stored response or a problem. */
  readonly preHandler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const key = request.headers[IDEMPOTENCY_KEY_HEADER];
    if (typeof key !== 'string') return undefined;

    const now = this.deps.now();
    const route = `${request.method} ${request.routeOptions.url ?? request.url}`;
    const claim = await this.deps.store.reserveIdempotencyKey({
      spaceId: request.spaceId,
      route,
      key,
      requestHash: hashBody(request.body),
      now,
      expiresAt: now + IDEMPOTENCY_TTL_MS,
      lockedUntil: now + IDEMPOTENCY_LOCK_MS,
    });

    switch (claim.result) {
      case 'reserved':
        this.#states.set(request, { reservation: claim.reservation, completed: false });
        return undefined;
      case 'completed':
        request.log.info({ idempotencyKey: key, status: claim.response.status }, 'idempotent request replayed');
        return reply.header(REPLAYED_HEADER, 'true').status(claim.response.status).send(claim.response.body);
      case 'mismatch':
        return sendProblem(
          reply,
          problem(
            'idempotency-key-reused',
            `Idempotency-Key ${JSON.stringify(key)} was used with a different request body in the last 24 hours. Send a new key with a new request.`,
          ),
        );
      case 'in-progress':
        return sendKeyInUse(reply, key);
      default: {
        const unexpected: never = claim;
        throw new Error(`Unexpected idempotency claim ${JSON.stringify(unexpected)}`);
      }
    }
  };

  /**
   * Deletes the reservation of a request that stored no messages, and now and then deletes
   * expired records. Failures are logged only, because the response is already sent.
   */
  readonly onResponse = async (request: FastifyRequest): Promise<void> => {
    const state = this.#states.get(request);
    if (state === undefined) return;
    this.#states.delete(request);

    if (!state.completed) {
      try {
        await this.deps.store.releaseIdempotencyKey(state.reservation);
      } catch (error) {
        request.log.error(
          { err: error, idempotencyKey: state.reservation.key },
          `releasing an idempotency key failed, so the key stays in use for up to ${IDEMPOTENCY_LOCK_MS / 1000} s`,
        );
      }
    }
    await this.#sweep(request);
  };

  /**
   * Writes accepted messages, and with a reserved key, `response` in the same transaction.
   * Returns false after replying 409 when the reservation timed out and another request with
   * the key took it over. Nothing was written then.
   */
  async storeMessages(request: FastifyRequest, reply: FastifyReply, messages: NewMessage[], response: StoredResponse): Promise<boolean> {
    const state = this.#states.get(request);
    if (state === undefined) {
      await this.deps.store.createMessages(messages);
      return true;
    }

    try {
      await this.deps.store.createMessages(messages, { idempotency: { reservation: state.reservation, response } });
    } catch (error) {
      if (!(error instanceof IdempotencyReservationLostError)) throw error;
      request.log.warn({ idempotencyKey: state.reservation.key }, 'idempotency key was taken over by another request, so nothing was stored');
      sendKeyInUse(reply, state.reservation.key);
      return false;
    }
    state.completed = true;
    return true;
  }

  async #sweep(request: FastifyRequest): Promise<void> {
    const now = this.deps.now();
    if (now - this.#lastSweepAt < SWEEP_INTERVAL_MS) return;
    this.#lastSweepAt = now;
    try {
      let deleted = 0;
      let batch: number;
      do {
        batch = await this.deps.store.deleteExpiredIdempotencyKeys(now, SWEEP_BATCH);
        deleted += batch;
      } while (batch === SWEEP_BATCH);
      if (deleted > 0) request.log.info({ deleted }, 'expired idempotency keys deleted');
    } catch (error) {
      request.log.error({ err: error }, 'deleting expired idempotency keys failed; the next sweep tries again');
    }
  }
}

function sendKeyInUse(reply: FastifyReply, key: string): FastifyReply {
  reply.header('Retry-After', String(IN_USE_RETRY_AFTER_SECONDS));
  return sendProblem(
    reply,
    problem(
      'idempotency-key-in-use',
      `A request with Idempotency-Key ${JSON.stringify(key)} is still being processed. Retry after it finishes to get its response.`,
    ),
  );
}

/**
 * SHA-256 (hex) of the canonical JSON of a parsed body: no whitespace, and the keys of every
 * object sorted by UTF-16 code units, so bodies that differ only in key order or spacing hash
 * alike. The walk uses its own stack, so a deeply nested body cannot overflow the call stack.
 */
export function hashBody(body: unknown): string {
  const hash = createHash('sha256');
  // Entries are values still to write, or literal text between them.
  const pending: Array<{ value: unknown } | string> = [{ value: body }];
  while (pending.length > 0) {
    const item = pending.pop()!;
    if (typeof item === 'string') {
      hash.update(item, 'utf8');
      continue;
    }

    const { value } = item;
    if (Array.isArray(value)) {
      hash.update('[');
      pending.push(']');
      for (let index = value.length - 1; index >= 0; index -= 1) {
        pending.push({ value: value[index] });
        if (index > 0) pending.push(',');
      }
    } else if (typeof value === 'object' && value !== null) {
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      hash.update('{');
      pending.push('}');
      for (let index = keys.length - 1; index >= 0; index -= 1) {
        const key = keys[index]!;
        pending.push({ value: record[key] });
        pending.push(`${index > 0 ? ',' : ''}${JSON.stringify(key)}:`);
      }
    } else {
      hash.update(JSON.stringify(value) ?? 'null', 'utf8');
    }
  }
  return hash.digest('hex');
}
