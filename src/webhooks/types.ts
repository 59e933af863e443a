import type { ChannelId, EventType } from '../routing/types.js';

/**
 * Outbound status webhooks: endpoints a space registers, and the deliveries made to them.
 * Times are epoch milliseconds.
 */

/** Event types an endpoint can subscribe to. */
export const WEBHOOK_EVENT_TYPES = [
  'message.sent',
  'message.delivered',
  'message.read',
  'message.failed',
  'message.expired',
  'message.fallback',
  'message.inbound',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** A registered receiver. The signing secret is not part of it: only the sender reads the secret. */
export interface WebhookEndpoint {
  id: string;
  spaceId: string;
  url: string;
  /** Subscribed event types, without duplicates, in `WEBHOOK_EVENT_TYPES` order. */
  events: WebhookEventType[];
  description: string | null;
  createdAt: number;
}

export interface NewWebhookEndpoint extends WebhookEndpoint {
  /** `whsec_` and the base64 key; stored so that deliveries can be signed. */
  secret: string;
}

export type CreateEndpointResult = { result: 'created' } | { result: 'limit-reached' };

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * One event for one endpoint. The id is the `webhook-id` header, the same on every try.
 *
 * Status lifecycle: `pending` until a try gets a 2xx response (`succeeded`) or the last try
 * fails (`dead`). A replay moves a `dead` delivery back to `pending` with a fresh try budget.
 */
export interface WebhookDelivery {
  id: string;
  spaceId: string;
  endpointId: string;
  /** Null for `message.inbound`, which belongs to no sent message. */
  messageId: string | null;
  /** The event's position in its message's timeline; null for `message.inbound`. */
  seq: number | null;
  type: WebhookEventType;
  /** The JSON body exactly as it is signed and sent. */
  body: string;
  status: DeliveryStatus;
  /** Finished tries since the delivery was created or last replayed. */
  attempts: number;
  runAt: number;
  /** HTTP status of the last try; null before the first try or when no response came. */
  lastStatus: number | null;
  /** Reason the last try failed; null before the first try and after a success. */
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

/** A delivery leased to one sender, with what it needs to make the request. */
export interface ClaimedDelivery extends WebhookDelivery {
  url: string;
  secret: string;
}

export interface NewWebhookDelivery {
  id: string;
  spaceId: string;
  endpointId: string;
  messageId: string | null;
  seq: number | null;
  type: WebhookEventType;
  body: string;
  runAt: number;
  createdAt: number;
}

/** The two outbox tables the dispatcher reads, each with its own cursor. */
export type OutboxSource = 'events' | 'inbound';

/** A row of the `events` table with what the webhook body needs from other tables. */
export interface OutboxEvent {
  /** The `events.id` the cursor advances over. */
  id: number;
  spaceId: string;
  messageId: string;
  seq: number;
  type: EventType;
  step: number | null;
  attempt: number | null;
  data: Record<string, unknown>;
  createdAt: number;
  /** The send request's `metadata`. */
  metadata: Record<string, unknown> | null;
  /** Channel of the event's step; null for events without a step. */
  channel: ChannelId | null;
  /** The provider's id of the event's attempt, as its send call returned it; null before that. */
  attemptProviderMessageId: string | null;
  /** For receipt events: the stored receipt of that attempt and state, if any. */
  receipt: { providerMessageId: string; providerTimestamp: number | null } | null;
}

/** A row of the `inbound_messages` table. */
export interface OutboxInbound {
  id: number;
  spaceId: string;
  channel: ChannelId;
  providerMessageId: string;
  address: string;
  text: string | null;
  providerTimestamp: number;
  receivedAt: number;
}

export interface OutboxPage<T> {
  items: T[];
  /** Cursor position once these items are fanned out. */
  nextPosition: number;
}

/** The fields of an endpoint that fan-out uses. */
export type Subscription = Pick<WebhookEndpoint, 'id' | 'spaceId' | 'events' | 'createdAt'>;

export type DeliveryOutcome =
  | { status: 'succeeded'; responseStatus: number; now: number }
  /** Another try at `runAt`. */
  | { status: 'pending'; responseStatus: number | null; error: string; runAt: number; now: number }
  | { status: 'dead'; responseStatus: number | null; error: string; now: number };

export interface DeliveryPage {
  items: WebhookDelivery[];
  nextCursor: string | null;
}

export type ReplayResult =
  | { result: 'replayed'; delivery: WebhookDelivery }
  | { result: 'not-found' }
  /** Only dead deliveries can be replayed. */
  | { result: 'not-dead'; status: DeliveryStatus };

/**
 * Storage of endpoints, deliveries and the outbox cursors. Every endpoint and delivery query
 * of the API is scoped by space; the dispatcher and sender work across spaces.
 */
export interface WebhookStore {
  /** Insert an endpoint unless its space has `maxEndpoints` already. */
  createEndpoint(endpoint: NewWebhookEndpoint, maxEndpoints: number): Promise<CreateEndpointResult>;
  getEndpoint(spaceId: string, endpointId: string): Promise<WebhookEndpoint | null>;
  /** Endpoints of a space, oldest first. */
  listEndpoints(spaceId: string): Promise<WebhookEndpoint[]>;
  /** Delete an endpoint and all its deliveries; false when the space has no such endpoint. */
  deleteEndpoint(spaceId: string, endpointId: string): Promise<boolean>;

  /** Every endpoint of every space, for fan-out. */
  listSubscriptions(): Promise<Subscription[]>;
  /** The stored (sealed) secret of every endpoint, for re-encryption under a new key. */
  listEndpointSecrets(): Promise<{ spaceId: string; endpointId: string; secret: string }[]>;
  /** Replace an endpoint's stored secret when it still equals `previous`. */
  replaceEndpointSecret(spaceId: string, endpointId: string, previous: string, next: string): Promise<boolean>;
  /** The id of the last row of `source` that was fanned out. */
  outboxPosition(source: OutboxSource): Promise<number>;
  /** The largest id in the table of `source`, or 0 when it is empty. */
  outboxHead(source: OutboxSource): Promise<number>;
  /**
   * Rows of `events` with `after < id <= upTo`, of the spaces in `spaceIds` and the types in
   * `types`, oldest first, at most `limit`.
   */
  readOutboxEvents(after: number, upTo: number, spaceIds: string[], types: EventType[], limit: number): Promise<OutboxPage<OutboxEvent>>;
  /** Rows of `inbound_messages` with `after < id <= upTo`, of the spaces in `spaceIds`, oldest first, at most `limit`. */
  readOutboxInbound(after: number, upTo: number, spaceIds: string[], limit: number): Promise<OutboxPage<OutboxInbound>>;
  /**
   * Insert `deliveries` and move the cursor of `source` from `from` to `to`, in one transaction.
   * Returns false, having written nothing, when the cursor is no longer at `from` because
   * another dispatcher moved it.
   */
  commitFanOut(source: OutboxSource, from: number, to: number, deliveries: NewWebhookDelivery[]): Promise<boolean>;

  /**
   * Lease up to `limit` due pending deliveries to `owner`, oldest `runAt` first. A delivery is
   * left out while an earlier event of its message for the same endpoint is pending, and
   * while its endpoint has `maxPerEndpoint` deliveries in flight, counting `inFlight`.
   */
  claimDeliveries(options: ClaimOptions): Promise<ClaimedDelivery[]>;
  /** Record the outcome of a try of a delivery still leased by `owner`; false when the lease was lost. */
  finishDelivery(deliveryId: string, owner: string, outcome: DeliveryOutcome): Promise<boolean>;
  /** Clear the lease of a delivery held by `owner` without counting a try (a stopped sender). */
  releaseDelivery(deliveryId: string, owner: string): Promise<void>;
  /** Clear every delivery lease (single-process start-up: nothing else can hold one). */
  releaseAllDeliveryLeases(): Promise<number>;
  /** The earliest `runAt` of a pending, unleased delivery that waits for no earlier event of its message, or null. */
  nextDeliveryAt(): Promise<number | null>;
  /** Delete up to `limit` succeeded deliveries last updated before `before`; returns how many. */
  pruneSucceeded(before: number, limit: number): Promise<number>;

  /** Deliveries of one endpoint, newest first, optionally of one status. */
  listDeliveries(spaceId: string, endpointId: string, filter: DeliveryFilter): Promise<DeliveryPage>;
  /** Move a dead delivery back to `pending`, due at `now`, with no tries counted. */
  replayDelivery(spaceId: string, endpointId: string, deliveryId: string, now: number): Promise<ReplayResult>;
}

export interface ClaimOptions {
  owner: string;
  now: number;
  limit: number;
  leaseMs: number;
  maxPerEndpoint: number;
  /** Deliveries this sender has in flight, by endpoint id. */
  inFlight: ReadonlyMap<string, number>;
}

export interface DeliveryFilter {
  status?: DeliveryStatus;
  limit: number;
  /** Opaque, from a previous page's `nextCursor`. */
  cursor?: string;
}
