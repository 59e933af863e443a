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
