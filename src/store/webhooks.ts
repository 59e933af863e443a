import type { ExpressionBuilder, Insertable, Kysely, Selectable } from 'kysely';
import type { ChannelId, EventType } from '../routing/types.js';
import type {
  ClaimedDelivery,
  ClaimOptions,
  CreateEndpointResult,
  DeliveryFilter,
  DeliveryOutcome,
  DeliveryPage,
  NewWebhookDelivery,
  NewWebhookEndpoint,
  OutboxEvent,
  OutboxInbound,
  OutboxPage,
  OutboxSource,
  ReplayResult,
  Subscription,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookEventType,
  WebhookStore,
} from '../webhooks/types.js';
import { chunkRows } from './chunks.js';
import type { StoreDialect } from './dialect.js';
import { fromJson, toJson } from './json.js';
import { decodeCursor, encodeCursor } from './message-views.js';
import type { Database, WebhookDeliveriesTable, WebhookEndpointsTable } from './schema.js';

const DELIVERY_COLUMNS = 16;

/** Due rows read per claim for each row claimed, so that busy endpoints leave room for others. */
const CANDIDATES_PER_CLAIM = 4;

/**
 * `WebhookStore` on the shared Kysely database.
 *
 * The outbox is read by id after a cursor, which needs rows to become visible in id order:
 * the writers take `StoreDialect.lockOutbox` before they insert outbox rows.
 */
export class KyselyWebhookStore implements WebhookStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly sqlDialect: StoreDialect,
  ) {}

  async createEndpoint(endpoint: NewWebhookEndpoint, maxEndpoints: number): Promise<CreateEndpointResult> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('webhook_endpoints')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('space_id', '=', endpoint.spaceId)
        .executeTakeFirstOrThrow();
      if (Number(row.count) >= maxEndpoints) return { result: 'limit-reached' };

      await trx
        .insertInto('webhook_endpoints')
        .values({
          id: endpoint.id,
          space_id: endpoint.spaceId,
          url: endpoint.url,
          events: toJson(endpoint.events),
          description: endpoint.description,
          secret: endpoint.secret,
          created_at: endpoint.createdAt,
        })
        .execute();
      return { result: 'created' };
    });
  }

  async getEndpoint(spaceId: string, endpointId: string): Promise<WebhookEndpoint | null> {
    const row = await this.db
      .selectFrom('webhook_endpoints')
      .select(ENDPOINT_COLUMNS)
      .where('space_id', '=', spaceId)
      .where('id', '=', endpointId)
      .executeTakeFirst();
    return row === undefined ? null : toEndpoint(row);
  }

  async listEndpoints(spaceId: string): Promise<WebhookEndpoint[]> {
    const rows = await this.db
      .selectFrom('webhook_endpoints')
      .select(ENDPOINT_COLUMNS)
      .where('space_id', '=', spaceId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toEndpoint);
  }

  async deleteEndpoint(spaceId: string, endpointId: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('webhook_deliveries').where('space_id', '=', spaceId).where('endpoint_id', '=', endpointId).execute();
      const result = await trx.deleteFrom('webhook_endpoints').where('space_id', '=', spaceId).where('id', '=', endpointId).executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }

  async listEndpointSecrets(): Promise<{ spaceId: string; endpointId: string; secret: string }[]> {
    const rows = await this.db.selectFrom('webhook_endpoints').select(['id', 'space_id', 'secret']).orderBy('space_id').orderBy('id').execute();
    return rows.map((row) => ({ spaceId: row.space_id, endpointId: row.id, secret: row.secret }));
  }

  async replaceEndpointSecret(spaceId: string, endpointId: string, previous: string, next: string): Promise<boolean> {
    const result = await this.db
      .updateTable('webhook_endpoints')
      .set({ secret: next })
      .where('space_id', '=', spaceId)
      .where('id', '=', endpointId)
      .where('secret', '=', previous)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async listSubscriptions(): Promise<Subscription[]> {
    const rows = await this.db.selectFrom('webhook_endpoints').select(['id', 'space_id', 'events', 'created_at']).execute();
    return rows.map((row) => ({
      id: row.id,
      spaceId: row.space_id,
      events: fromJson<WebhookEventType[]>(row.events),
      createdAt: Number(row.created_at),
    }));
  }

  async outboxPosition(source: OutboxSource): Promise<number> {
    const row = await this.db.selectFrom('webhook_outbox').select('position').where('source', '=', source).executeTakeFirst();
    if (row === undefined) throw new Error(`The webhook outbox has no cursor for ${source}; run the database migrations.`);
    return Number(row.position);
  }

  async outboxHead(source: OutboxSource): Promise<number> {
    const table = source === 'events' ? 'events' : 'inbound_messages';
    const row = await this.db
      .selectFrom(table)
      .select((eb) => eb.fn.max('id').as('head'))
      .executeTakeFirst();
    const head = row?.head;
    return head === null || head === undefined ? 0 : Number(head);
  }

  async readOutboxEvents(after: number, upTo: number, spaceIds: string[], types: EventType[], limit: number): Promise<OutboxPage<OutboxEvent>> {
    if (upTo <= after || spaceIds.length === 0 || types.length === 0) return { items: [], nextPosition: Math.max(after, upTo) };

    const rows = await this.db
      .selectFrom('events as e')
      .innerJoin('messages as m', 'm.id', 'e.message_id')
      .leftJoin('steps as s', (join) => join.onRef('s.message_id', '=', 'e.message_id').onRef('s.idx', '=', 'e.step'))
      .leftJoin('attempts as a', (join) =>
        join.onRef('a.message_id', '=', 'e.message_id').onRef('a.step_idx', '=', 'e.step').onRef('a.number', '=', 'e.attempt'),
      )
      .select(['e.id', 'e.space_id', 'e.message_id', 'e.seq', 'e.type', 'e.step', 'e.attempt', 'e.data', 'e.created_at', 'm.metadata', 's.channel'])
      .select('a.provider_message_id as attempt_provider_message_id')
      .where('e.id', '>', after)
      .where('e.id', '<=', upTo)
      .where('e.space_id', 'in', spaceIds)
      .where('e.type', 'in', types)
      .orderBy('e.id')
      .limit(limit)
      .execute();

    const receipts = await this.#receiptsOf(rows.filter((row) => row.type === 'receipt.applied' || row.type === 'receipt.late').map((row) => row.message_id));
    const items = rows.map((row): OutboxEvent => {
      const data = fromJson<Record<string, unknown>>(row.data);
      const receiptKey = `${row.message_id}/${row.step}/${row.attempt}/${String(data.state)}`;
      return {
        id: Number(row.id),
        spaceId: row.space_id,
        messageId: row.message_id,
        seq: row.seq,
        type: row.type,
        step: row.step,
        attempt: row.attempt,
        data,
        createdAt: Number(row.created_at),
        metadata: row.metadata === null ? null : fromJson<Record<string, unknown>>(row.metadata),
        channel: row.channel,
        attemptProviderMessageId: row.attempt_provider_message_id,
        receipt: receipts.get(receiptKey) ?? null,
      };
    });
    const last = items[items.length - 1];
    return { items, nextPosition: items.length === limit && last !== undefined ? last.id : upTo };
  }

  /** Stored delivered and read receipts of these messages, by message, step, attempt and state. */
  async #receiptsOf(messageIds: string[]): Promise<Map<string, NonNullable<OutboxEvent['receipt']>>> {
    const found = new Map<string, NonNullable<OutboxEvent['receipt']>>();
    if (messageIds.length === 0) return found;

    const rows = await this.db
      .selectFrom('receipts')
      .select(['message_id', 'step_idx', 'attempt', 'part', 'state', 'provider_message_id', 'provider_timestamp'])
      .where('message_id', 'in', [...new Set(messageIds)])
      .where('state', 'in', ['delivered', 'read'])
      .orderBy('part')
      .execute();
    for (const row of rows) {
      const key = `${row.message_id}/${row.step_idx}/${row.attempt}/${row.state}`;
      const timestamp = row.provider_timestamp === null ? null : Number(row.provider_timestamp);
      const seen = found.get(key);
      if (seen === undefined) {
        found.set(key, { providerMessageId: row.provider_message_id, providerTimestamp: timestamp });
      } else if (timestamp !== null && (seen.providerTimestamp === null || timestamp > seen.providerTimestamp)) {
        // A message sent in parts counts as delivered when its last part is.
        seen.providerTimestamp = timestamp;
      }
    }
    return found;
  }

  async readOutboxInbound(after: number, upTo: number, spaceIds: string[], limit: number): Promise<OutboxPage<OutboxInbound>> {
    if (upTo <= after || spaceIds.length === 0) return { items: [], nextPosition: Math.max(after, upTo) };

    const rows = await this.db
      .selectFrom('inbound_messages')
      .selectAll()
      .where('id', '>', after)
      .where('id', '<=', upTo)
      .where('space_id', 'in', spaceIds)
      .orderBy('id')
      .limit(limit)
      .execute();
    const items = rows.map(
      (row): OutboxInbound => ({
        id: Number(row.id),
        spaceId: row.space_id,
        channel: row.channel as ChannelId,
        providerMessageId: row.provider_message_id,
        address: row.address,
        text: row.text,
        providerTimestamp: Number(row.provider_timestamp),
        receivedAt: Number(row.received_at),
      }),
    );
    const last = items[items.length - 1];
    return { items, nextPosition: items.length === limit && last !== undefined ? last.id : upTo };
  }

  async commitFanOut(source: OutboxSource, from: number, to: number, deliveries: NewWebhookDelivery[]): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const moved = await trx
        .updateTable('webhook_outbox')
        .set({ position: to })
        .where('source', '=', source)
        .where('position', '=', from)
        .executeTakeFirst();
      if (moved.numUpdatedRows === 0n) return false;

      const rows = deliveries.map(toDeliveryRow);
      for (const chunk of chunkRows(rows, DELIVERY_COLUMNS, this.sqlDialect.maxParameters)) {
        await trx
          .insertInto('webhook_deliveries')
          .values(chunk)
          .onConflict((oc) => oc.columns(['endpoint_id', 'message_id', 'seq']).doNothing())
          .execute();
      }
      return true;
    });
  }

  async claimDeliveries(options: ClaimOptions): Promise<ClaimedDelivery[]> {
    const { owner, now, limit, leaseMs, maxPerEndpoint, inFlight } = options;
    if (limit <= 0) return [];

    const candidates = await this.#dueCandidates(now, limit * CANDIDATES_PER_CLAIM, maxPerEndpoint);
    const chosen: string[] = [];
    const chosenPerEndpoint = new Map<string, number>();
    for (const candidate of candidates) {
      const busy = (inFlight.get(candidate.endpoint_id) ?? 0) + (chosenPerEndpoint.get(candidate.endpoint_id) ?? 0);
      if (busy >= maxPerEndpoint) continue;
      chosenPerEndpoint.set(candidate.endpoint_id, (chosenPerEndpoint.get(candidate.endpoint_id) ?? 0) + 1);
      chosen.push(candidate.id);
      if (chosen.length === limit) break;
    }
    if (chosen.length === 0) return [];

    // The conditions are checked again, so a row another sender leased in the meantime is skipped.
    const leased = await this.db
      .updateTable('webhook_deliveries')
      .set({ lease_owner: owner, lease_until: now + leaseMs })
      .where('id', 'in', chosen)
      .where('status', '=', 'pending')
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
      .returningAll()
      .execute();
    if (leased.length === 0) return [];

    const endpoints = await this.db
      .selectFrom('webhook_endpoints')
      .select(['id', 'url', 'secret'])
      .where('id', 'in', [...new Set(leased.map((row) => row.endpoint_id))])
      .execute();
    const byId = new Map(endpoints.map((endpoint) => [endpoint.id, endpoint]));
    const claimed: ClaimedDelivery[] = [];
    for (const row of leased) {
      const endpoint = byId.get(row.endpoint_id);
      // A delivery whose endpoint was deleted after the lease is gone with it; there is nothing to send.
      if (endpoint !== undefined) claimed.push({ ...toDelivery(row), url: endpoint.url, secret: endpoint.secret });
    }
    return claimed.sort((a, b) => a.runAt - b.runAt);
  }

  /**
   * Due, unleased pending deliveries that may be sent now: none of them waits for an earlier
   * pending event of its message to the same endpoint. At most `perEndpoint` rows of each
   * endpoint are returned, so one endpoint's backlog cannot fill the whole list.
   */
  async #dueCandidates(now: number, limit: number, perEndpoint: number): Promise<Array<{ id: string; endpoint_id: string }>> {
    const ranked = this.db
      .selectFrom('webhook_deliveries as d')
      .select((eb) => [
        'd.id',
        'd.endpoint_id',
        'd.run_at',
        eb.fn.agg<number>('row_number').over((over) => over.partitionBy('d.endpoint_id').orderBy('d.run_at').orderBy('d.id')).as('rank'),
      ])
      .where('d.status', '=', 'pending')
      .where('d.run_at', '<=', now)
      .where((eb) => eb.or([eb('d.lease_until', 'is', null), eb('d.lease_until', '<=', now)]))
      .where((eb) => eb.not(eb.exists(earlierPending(eb))))
      .as('ranked');
    return this.db
      .selectFrom(ranked)
      .select(['ranked.id', 'ranked.endpoint_id'])
      .where('ranked.rank', '<=', perEndpoint)
      .orderBy('ranked.run_at')
      .orderBy('ranked.id')
      .limit(limit)
      .execute();
  }

  async finishDelivery(deliveryId: string, owner: string, outcome: DeliveryOutcome): Promise<boolean> {
    const result = await this.db
      .updateTable('webhook_deliveries')
      .set((eb) => ({
        status: outcome.status,
        attempts: eb('attempts', '+', 1),
        run_at: outcome.status === 'pending' ? outcome.runAt : eb.ref('run_at'),
        lease_owner: null,
        lease_until: null,
        last_status: outcome.responseStatus,
        last_error: outcome.status === 'succeeded' ? null : outcome.error,
        updated_at: outcome.now,
      }))
      .where('id', '=', deliveryId)
      .where('lease_owner', '=', owner)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async releaseDelivery(deliveryId: string, owner: string): Promise<void> {
    await this.db
      .updateTable('webhook_deliveries')
      .set({ lease_owner: null, lease_until: null })
      .where('id', '=', deliveryId)
      .where('lease_owner', '=', owner)
      .execute();
  }

  async releaseAllDeliveryLeases(): Promise<number> {
    const result = await this.db
      .updateTable('webhook_deliveries')
      .set({ lease_owner: null, lease_until: null })
      .where('lease_owner', 'is not', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async nextDeliveryAt(): Promise<number | null> {
    const row = await this.db
      .selectFrom('webhook_deliveries as d')
      .select((eb) => eb.fn.min('d.run_at').as('at'))
      .where('d.status', '=', 'pending')
      .where('d.lease_owner', 'is', null)
      .where((eb) => eb.not(eb.exists(earlierPending(eb))))
      .executeTakeFirst();
    const at = row?.at;
    return at === null || at === undefined ? null : Number(at);
  }

  async pruneSucceeded(before: number, limit: number): Promise<number> {
    const old = this.db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('status', '=', 'succeeded')
      .where('updated_at', '<', before)
      .limit(limit);
    const result = await this.db.deleteFrom('webhook_deliveries').where('id', 'in', old).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async listDeliveries(spaceId: string, endpointId: string, filter: DeliveryFilter): Promise<DeliveryPage> {
    let query = this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('space_id', '=', spaceId)
      .where('endpoint_id', '=', endpointId);
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    if (filter.cursor !== undefined) query = query.where('id', '<', decodeCursor(filter.cursor));
    const rows = await query
      .orderBy('id', 'desc')
      .limit(filter.limit + 1)
      .execute();

    const page = rows.slice(0, filter.limit);
    const last = page[page.length - 1];
    return { items: page.map(toDelivery), nextCursor: rows.length > filter.limit && last !== undefined ? encodeCursor(last.id) : null };
  }

  async replayDelivery(spaceId: string, endpointId: string, deliveryId: string, now: number): Promise<ReplayResult> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('webhook_deliveries')
        .select('status')
        .where('space_id', '=', spaceId)
        .where('endpoint_id', '=', endpointId)
        .where('id', '=', deliveryId)
        .executeTakeFirst();
      if (row === undefined) return { result: 'not-found' };
      if (row.status !== 'dead') return { result: 'not-dead', status: row.status };

      const updated = await trx
        .updateTable('webhook_deliveries')
        .set({ status: 'pending', attempts: 0, run_at: now, lease_owner: null, lease_until: null, updated_at: now })
        .where('id', '=', deliveryId)
        .where('status', '=', 'dead')
        .returningAll()
        .executeTakeFirstOrThrow();
      return { result: 'replayed', delivery: toDelivery(updated) };
    });
  }
}

const ENDPOINT_COLUMNS = ['id', 'space_id', 'url', 'events', 'description', 'created_at'] as const;

/** Pending deliveries of an earlier event of the same message to the same endpoint as the outer row `d`. */
function earlierPending(eb: ExpressionBuilder<Database & { d: WebhookDeliveriesTable }, 'd'>) {
  return eb
    .selectFrom('webhook_deliveries as earlier')
    .select('earlier.id')
    .whereRef('earlier.endpoint_id', '=', 'd.endpoint_id')
    .whereRef('earlier.message_id', '=', 'd.message_id')
    .whereRef('earlier.seq', '<', 'd.seq')
    .where('earlier.status', '=', 'pending');
}

function toEndpoint(row: Omit<Selectable<WebhookEndpointsTable>, 'secret'>): WebhookEndpoint {
  return {
    id: row.id,
    spaceId: row.space_id,
    url: row.url,
    events: fromJson<WebhookEventType[]>(row.events),
    description: row.description,
    createdAt: Number(row.created_at),
  };
}

function toDelivery(row: Selectable<WebhookDeliveriesTable>): WebhookDelivery {
  return {
    id: row.id,
    spaceId: row.space_id,
    endpointId: row.endpoint_id,
    messageId: row.message_id,
    seq: row.seq,
    type: row.type,
    body: row.body,
    status: row.status,
    attempts: row.attempts,
    runAt: Number(row.run_at),
    lastStatus: row.last_status,
    lastError: row.last_error,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toDeliveryRow(delivery: NewWebhookDelivery): Insertable<WebhookDeliveriesTable> {
  return {
    id: delivery.id,
    space_id: delivery.spaceId,
    endpoint_id: delivery.endpointId,
    message_id: delivery.messageId,
    seq: delivery.seq,
    type: delivery.type,
    body: delivery.body,
    status: 'pending',
    attempts: 0,
    run_at: delivery.runAt,
    lease_owner: null,
    lease_until: null,
    last_status: null,
    last_error: null,
    created_at: delivery.createdAt,
    updated_at: delivery.createdAt,
  };
}
