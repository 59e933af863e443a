import type { Generated } from 'kysely';
import type {
  AttemptStatus,
  ChannelId,
  Condition,
  EventType,
  MessageStatus,
  ReceiptState,
  StepStatus,
} from '../routing/types.js';
import type { DeliveryStatus, OutboxSource, WebhookEventType } from '../webhooks/types.js';
import type { JobKind } from './types.js';

/**
 * Row types of every table, for Kysely. Times are epoch milliseconds. Columns documented as
 * JSON contain JSON text, encoded and decoded by `json.ts`.
 *
 * NOTE: time columns are `bigint` in the migration because epoch milliseconds overflow a 32-bit
 * integer. SQLite reads them back as numbers; node-postgres returns `bigint` as a string unless
 * a type parser for OID 20 is set, which the PostgreSQL store must do.
 */
export interface Database {
  spaces: SpacesTable;
  profiles: ProfilesTable;
  messages: MessagesTable;
  steps: StepsTable;
  attempts: AttemptsTable;
  provider_keys: ProviderKeysTable;
  receipts: ReceiptsTable;
  events: EventsTable;
  jobs: JobsTable;
  inbound_messages: InboundMessagesTable;
  unreachable_addresses: UnreachableAddressesTable;
  app_feed: AppFeedTable;
  app_devices: AppDevicesTable;
  api_keys: ApiKeysTable;
  idempotency_keys: IdempotencyKeysTable;
  rule_sets: RuleSetsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_outbox: WebhookOutboxTable;
  channel_settings: ChannelSettingsTable;
}

export interface SpacesTable {
  id: string;
  name: string;
  created_at: number;
}

export interface ProfilesTable {
  space_id: string;
  profile_id: string;
  /** JSON object of channel addresses. */
  addresses: string;
  /** JSON object of merge-field properties. */
  properties: string;
  /** JSON array of channel ids. */
  opt_outs: string;
  time_zone: string | null;
  created_at: number;
  updated_at: number;
}

export interface MessagesTable {
  id: string;
  space_id: string;
  profile_id: string | null;
  status: MessageStatus;
  current_step: number;
  succeeded_step: number | null;
  /** Optimistic concurrency token, raised by one on every decision. */
  version: number;
  /** JSON object: the addresses of the request's `to`. */
  to_addresses: string;
  /** JSON `MessageContent`. */
  content: string;
  /** JSON object or null. */
  metadata: string | null;
  conversation_id: string | null;
  /** JSON: the request body as accepted. */
  request: string;
  expires_at: number | null;
  send_at: number | null;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
}

export interface StepsTable {
  space_id: string;
  message_id: string;
  idx: number;
  channel: ChannelId;
  condition: Condition;
  fallback_after_ms: number | null;
  status: StepStatus;
  reason: string | null;
  started_at: number | null;
  ended_at: number | null;
}

export interface AttemptsTable {
  space_id: string;
  message_id: string;
  step_idx: number;
  number: number;
  status: AttemptStatus;
  /** Set by `claimAttempt`; null for attempts first written by a decision. */
  idempotency_key: string | null;
  provider_message_id: string | null;
  error_code: string | null;
  error_message: string | null;
  started_at: number;
  updated_at: number;
  /** The address the attempt was sent to; set by `claimAttempt`. */
  address: string | null;
}

/** Messages people sent to the business, by channel. */
export interface InboundMessagesTable {
  /** Autoincrement; the order in which the webhook dispatcher reads the rows. */
  id: Generated<number>;
  space_id: string;
  channel: ChannelId;
  provider_message_id: string;
  /** The sender: a phone number in E.164 or a page-scoped id. */
  address: string;
  text: string | null;
  provider_timestamp: number;
  received_at: number;
}

/** Addresses a provider reported as reaching nobody; a later inbound message from one clears it. */
export interface UnreachableAddressesTable {
  space_id: string;
  channel: ChannelId;
  address: string;
  error_code: string;
  marked_at: number;
}

/** One row per match key per part of an accepted attempt. */
export interface ProviderKeysTable {
  space_id: string;
  channel: ChannelId;
  key: string;
  message_id: string;
  step_idx: number;
  attempt: number;
  part: number;
  parts: number;
}

export interface ReceiptsTable {
  id: string;
  space_id: string;
  channel: ChannelId;
  /** Canonical match key of the provider message id. */
  key: string;
  provider_message_id: string;
  state: ReceiptState;
  error_code: string | null;
  provider_timestamp: number | null;
  received_at: number;
  applied_at: number | null;
  /** The attempt the receipt was applied to; null until then. */
  message_id: string | null;
  step_idx: number | null;
  attempt: number | null;
  part: number | null;
}

export interface EventsTable {
  id: Generated<number>;
  space_id: string;
  message_id: string;
  /** 1-based position in the message's timeline, without gaps. */
  seq: number;
  type: EventType;
  step: number | null;
  attempt: number | null;
  /** JSON object. */
  data: string;
  created_at: number;
}

export interface JobsTable {
  id: string;
  space_id: string;
  message_id: string;
  kind: JobKind;
  step: number | null;
  attempt: number | null;
  run_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  /** Times the job was claimed so far. */
  claims: number;
  created_at: number;
}

/** Messages handed to the app channel, one row per app user and message. */
export interface AppFeedTable {
  /** Position in the feed. One sequence serves every app user, so it grows within each feed. */
  seq: Generated<number>;
  space_id: string;
  app_user_id: string;
  message_id: string;
  /** `<messageId>_<step>_<attempt>` of the attempt that added the row, carried by its receipts. */
  provider_message_id: string;
  title: string | null;
  body: string;
  /** JSON object or null. */
  data: string | null;
  sent_on: number;
  delivered_at: number | null;
  read_at: number | null;
}

/** Devices of app users. A device without a push subscription polls the inbox. */
export interface AppDevicesTable {
  space_id: string;
  app_user_id: string;
  device_id: string;
  push_endpoint: string | null;
  push_p256dh: string | null;
  push_auth: string | null;
  created_at: number;
  last_seen_at: number;
}

/** API keys of the spaces. The key itself is never stored, only its hash. */
export interface ApiKeysTable {
  id: string;
  space_id: string;
  /** Hex SHA-256 of the whole key, unique across spaces. */
  hash: string;
  /** The key's first characters, shown to tell keys apart. */
  prefix: string;
  name: string | null;
  /** JSON array of scope names, or null for a key with every scope of its space. */
  scopes: string | null;
  /** `config` for the default space's key from `API_KEY` or the key file, `api` for issued keys. */
  origin: 'api' | 'config';
  created_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
}

/** One `Idempotency-Key` per space and route, with the response of the request that used it. */
export interface IdempotencyKeysTable {
  space_id: string;
  /** Method and path pattern of the route, such as `POST /v1/messages`. */
  route: string;
  idempotency_key: string;
  /** SHA-256 (hex) of the canonical JSON request body. */
  request_hash: string;
  state: 'processing' | 'completed';
  /** Random id of the request that owns the reservation. Writes by any other request change nothing. */
  token: string;
  /** While `processing`: until when the reservation blocks other requests with the key. */
  locked_until: number | null;
  response_status: number | null;
  /** JSON: the response body, set when `completed`. */
  response_body: string | null;
  created_at: number;
  /** The record is ignored from this time on, and deleted later. */
  expires_at: number;
}

/** Named fallback routes of a space. */
export interface RuleSetsTable {
  space_id: string;
  name: string;
  /** JSON array: the rules as given, in the form of a send request's `rules`. */
  rules: string;
  /** 1 for the space's default rule set, else 0; a partial unique index allows one per space. */
  is_default: number;
  created_at: number;
  updated_at: number;
}

/** Receivers of outbound status webhooks, per space. */
export interface WebhookEndpointsTable {
  id: string;
  space_id: string;
  url: string;
  /** JSON array of subscribed webhook event types. */
  events: string;
  description: string | null;
  /** The `whsec_` signing secret, sealed by `SecretBox` with the space and endpoint as associated data. Rows written before encryption hold it in clear until start-up seals them. */
  secret: string;
  created_at: number;
}

/** One webhook event for one endpoint, with its retry state. */
export interface WebhookDeliveriesTable {
  /** Sent as `webhook-id`, the same on every try. */
  id: string;
  space_id: string;
  endpoint_id: string;
  /** Null for inbound messages. */
  message_id: string | null;
  /** The event's `events.seq`; null for inbound messages. */
  seq: number | null;
  type: WebhookEventType;
  /** The JSON body as signed and sent. */
  body: string;
  status: DeliveryStatus;
  /** Finished tries since creation or the last replay. */
  attempts: number;
  run_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

/** How far the webhook dispatcher has read each outbox table. */
export interface WebhookOutboxTable {
  source: OutboxSource;
  /** The id of the last row fanned out. */
  position: number;
}

/** One channel's settings of one space. */
export interface ChannelSettingsTable {
  space_id: string;
  channel: string;
  /** JSON object of the settings with every credential masked. */
  masked: string;
  /** The settings as JSON, sealed by `SecretBox` with the space and channel as associated data. */
  sealed: string;
  key_id: string;
  created_at: number;
  updated_at: number;
}
