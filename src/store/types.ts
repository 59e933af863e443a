import type { AppFeedStore } from '../channels/app/types.js';
import type { Addresses } from '../channels/types.js';
import type {
  AttemptState,
  AttemptStatus,
  ChannelId,
  Condition,
  MessageState,
  MessageStatus,
  ReceiptState,
  RoutingEvent,
  StepPlan,
} from '../routing/types.js';
import type { WebhookStore } from '../webhooks/types.js';

/**
 * The storage seam. One implementation per dialect (SQLite now, PostgreSQL later), each
 * checked by the same contract tests. Every method takes the space id and scopes every query
 * by it. Times are epoch milliseconds.
 */

export interface MessageContent {
  body: string;
  title: string | null;
  customBody: Record<string, Record<string, unknown>>;
  channelOptions: Record<string, Record<string, unknown>>;
}

export interface NewMessage {
  id: string;
  spaceId: string;
  profileId: string | null;
  /** Addresses given in the request's `to`, without `profileId`. */
  to: Addresses;
  content: MessageContent;
  metadata: Record<string, unknown> | null;
  conversationId: string | null;
  steps: StepPlan[];
  expiresAt: number | null;
  sendAt: number | null;
  createdAt: number;
  /** The request body as accepted, echoed by the API. */
  request: unknown;
}

export interface Profile {
  spaceId: string;
  profileId: string;
  addresses: Addresses;
  properties: Record<string, unknown>;
  /** Channels the person opted out of. */
  optOuts: ChannelId[];
  timeZone: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface ProfileInput {
  addresses?: Addresses;
  properties?: Record<string, unknown>;
  optOuts?: ChannelId[];
  timeZone?: string | null;
}

/** A message with everything the delivery layer needs to run the engine and render. */
export interface LoadedMessage {
  id: string;
  spaceId: string;
  profileId: string | null;
  /** Optimistic concurrency token; `applyDecision` fails with `ConflictError` when stale. */
  version: number;
  state: MessageState;
  to: Addresses;
  content: MessageContent;
  metadata: Record<string, unknown> | null;
  profile: Profile | null;
}

export interface ReceiptView {
  state: ReceiptState;
  errorCode: string | null;
  providerMessageId: string;
  providerTimestamp: number | null;
  receivedAt: number;
}

export interface AttemptView extends AttemptState {
  receipts: ReceiptView[];
}

export interface EventView extends RoutingEvent {
  seq: number;
  createdAt: number;
}

export interface MessageView {
  id: string;
  spaceId: string;
  profileId: string | null;
  status: MessageStatus;
  succeededStep: number | null;
  createdAt: number;
  updatedAt: number;
  completedAt: number | null;
  expiresAt: number | null;
  sendAt: number | null;
  metadata: Record<string, unknown> | null;
  request: unknown;
  steps: Array<Omit<MessageState['steps'][number], 'attempts'> & { attempts: AttemptView[] }>;
  events: EventView[];
}

export interface MessageFilter {
  profileId?: string;
  status?: MessageStatus;
  /** Only messages created at or after this time. */
  since?: number;
  limit: number;
  /** Opaque, from a previous page's `nextCursor`. */
  cursor?: string;
}

export interface MessagePage {
  items: MessageView[];
  nextCursor: string | null;
}

export const JOB_KINDS = ['route-step', 'retry', 'receipt-timeout', 'expire', 'cancel'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/**
 * Durable work. `route-step` with `step` null starts the message; with a step and attempt it
 * makes that send call.
 */
export interface NewJob {
  kind: JobKind;
  step: number | null;
  attempt: number | null;
  runAt: number;
}

export interface Job extends NewJob {
  id: string;
  spaceId: string;
  messageId: string;
  leaseOwner: string | null;
  leaseUntil: number | null;
  /** How many times the job has been claimed before this claim. */
  claims: number;
}

export interface ProviderKeys {
  channel: ChannelId;
  /** One entry per message part; each part's `Channel.matchKeys` output. */
  parts: string[][];
}

/** Everything one engine decision changes, written in one transaction. */
export interface DecisionWrite {
  spaceId: string;
  messageId: string;
  /** The version the decision was made on. */
  version: number;
  state: MessageState;
  events: RoutingEvent[];
  jobs: NewJob[];
  /** The job this decision finishes; deleted in the same transaction. */
  doneJobId?: string;
  /** Provider ids of an attempt that was just accepted, for matching its receipts. */
  providerKeys?: { step: number; attempt: number; keys: ProviderKeys };
  /** A receipt this decision applies; linked to its attempt and marked applied in the same transaction. */
  appliedReceipt?: { receiptId: string; ref: AttemptRef };
  now: number;
}

export interface AttemptRef {
  spaceId: string;
  messageId: string;
  step: number;
  attempt: number;
  /** 0-based part of the provider message the key belongs to. */
  part: number;
  /** Number of parts of the attempt. */
  parts: number;
}

export interface NewReceipt {
  spaceId: string;
  channel: ChannelId;
  /** The canonical match key of the receipt's provider message id. */
  key: string;
  providerMessageId: string;
  state: ReceiptState;
  errorCode: string | null;
  providerTimestamp: number | null;
  receivedAt: number;
}

export interface StoredReceipt extends NewReceipt {
  id: string;
  appliedAt: number | null;
}

/** A message a person sent to the business. */
export interface InboundMessage {
  spaceId: string;
  channel: ChannelId;
  providerMessageId: string;
  /** The sender: a phone number in E.164 or a page-scoped id. */
  address: string;
  text: string | null;
  providerTimestamp: number;
  receivedAt: number;
}

/** A tenant: its own API keys, profiles and messages. */
export interface Space {
  id: string;
  name: string;
  createdAt: number;
}

/** An API key as stored: its SHA-256 hash and a short prefix, never the key itself. */
export interface ApiKeyRecord {
  id: string;
  spaceId: string;
  /** Hex SHA-256 of the whole key. */
  hash: string;
  /** The key's first characters, shown to tell keys apart. */
  prefix: string;
  name: string | null;
  /** Scope names; null grants every scope of the space, including scopes added later. */
  scopes: string[] | null;
  /** `config` for the default space's key from `API_KEY` or the key file, `api` for issued keys. */
  origin: 'api' | 'config';
  createdAt: number;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

export type NewApiKey = Omit<ApiKeyRecord, 'revokedAt' | 'lastUsedAt'>;

/**
 * Space of a receipt that arrived before its attempt was known on a channel shared by every
 * space (one SMSC or Graph API connection): it moves into the attempt's space when applied.
 */
export const UNSCOPED_SPACE_ID = '';

export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** A `MessageFilter.cursor` that no page of `listMessages` returned. */
export class InvalidCursorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidCursorError';
  }
}

export type AttemptClaim =
  /** The attempt row was created in state `sending`: the caller may call the provider. */
  | { result: 'claimed' }
  /** An attempt row already exists; its state decides what the caller does. */
  | { result: 'exists'; status: AttemptState['status'] };

/**
 * One `Idempotency-Key` of one space and route. The same key on another route or in another
 * space is another key.
 */
export interface IdempotencyKeyRef {
  spaceId: string;
  /** Method and path pattern of the route, such as `POST /v1/messages`. */
  route: string;
  key: string;
}

export interface IdempotencyRequest extends IdempotencyKeyRef {
  /** SHA-256 (hex) of the canonical JSON request body. */
  requestHash: string;
  now: number;
  /** When a record made now stops counting. */
  expiresAt: number;
  /** Until when a reservation made now blocks other requests with the key. */
  lockedUntil: number;
}

/** A key held by one request until its messages are written or it lets go. */
export interface IdempotencyReservation extends IdempotencyKeyRef {
  /** Random id of the holding request. */
  token: string;
}

/** The response a completed idempotent request returned, replayed to later requests with its key. */
export interface StoredResponse {
  status: number;
  body: unknown;
}

export type IdempotencyClaim =
  /** The key was free, expired, or held by a request whose reservation timed out; it is now held for the caller. */
  | { result: 'reserved'; reservation: IdempotencyReservation }
  /** A request with the same body completed within the record's lifetime. */
  | { result: 'completed'; response: StoredResponse }
  /** The key was used with a different body within the record's lifetime. */
  | { result: 'mismatch' }
  /** A request with the same body has reserved the key until `lockedUntil`. */
  | { result: 'in-progress'; lockedUntil: number };

export interface CreateMessagesOptions {
  /**
   * Mark this reservation `completed` with `response` in the transaction that writes the
   * messages. When the reservation is no longer held, nothing is written and the call rejects
   * with `IdempotencyReservationLostError`.
   */
  idempotency?: { reservation: IdempotencyReservation; response: StoredResponse };
}

/** A reservation timed out and another request took over its key. */
export class IdempotencyReservationLostError extends Error {
  constructor(ref: IdempotencyKeyRef) {
    super(`The reservation of Idempotency-Key ${JSON.stringify(ref.key)} on ${ref.route} was taken over by another request`);
    this.name = 'IdempotencyReservationLostError';
  }
}

/** One step of a stored rule set, in the form of a send request's `rules` entries. */
export type RuleSpec = ChannelId | { channel: ChannelId; fallbackAfter?: string; fallbackUnless?: Condition };

export interface RuleSet {
  spaceId: string;
  name: string;
  /** The rules as given, checked like a send request's `rules`. */
  rules: RuleSpec[];
  /** Whether sends that give neither `rules` nor `ruleSet` use this rule set. */
  isDefault: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface RuleSetInput {
  rules: RuleSpec[];
  /** true makes it the space's default and clears the old default; undefined keeps a replaced rule set's flag. */
  isDefault?: boolean;
}

export type PutRuleSetResult =
  | { result: 'created' | 'replaced'; ruleSet: RuleSet }
  /** The space has `maxRuleSets` rule sets already, so a new one was not created. */
  | { result: 'limit-reached' };

/** One channel's settings of one space, as stored: credentials sealed, and a masked copy for display. */
export interface StoredChannelSettings {
  spaceId: string;
  channel: ChannelId;
  /** The settings with every credential masked. */
  masked: Record<string, unknown>;
  /** The settings as JSON, sealed by `SecretBox`. */
  sealed: string;
  /** Id of the key `sealed` is encrypted with. */
  keyId: string;
  createdAt: number;
  updatedAt: number;
}

export interface NewChannelSettings {
  spaceId: string;
  channel: ChannelId;
  masked: Record<string, unknown>;
  sealed: string;
  keyId: string;
  now: number;
}

export interface ChannelSettingsStore {
  /** Create or replace the settings; `created` is true when there were none. */
  put(input: NewChannelSettings): Promise<{ created: boolean; settings: StoredChannelSettings }>;
  get(spaceId: string, channel: ChannelId): Promise<StoredChannelSettings | null>;
  /** Every configured channel of a space, by channel name. */
  list(spaceId: string): Promise<StoredChannelSettings[]>;
  delete(spaceId: string, channel: ChannelId): Promise<boolean>;
  /** Up to `limit` rows of every space sealed with a key other than `keyId`, by space and channel, after `after`. */
  listSealedWithOtherKey(keyId: string, after: { spaceId: string; channel: ChannelId } | null, limit: number): Promise<StoredChannelSettings[]>;
  /** Replace the sealed value when it still equals `previous`; false when it changed meanwhile. */
  reseal(spaceId: string, channel: ChannelId, previous: string, sealed: string, keyId: string): Promise<boolean>;
}

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  /** Channel settings of each space, credentials sealed. */
  readonly channelSettings: ChannelSettingsStore;
  /** Feeds and devices of the app channel's users. */
  readonly appFeed: AppFeedStore;
  /** Outbound webhook endpoints, their deliveries and the outbox cursors. */
  readonly webhooks: WebhookStore;
  migrate(): Promise<void>;
  close(): Promise<void>;

  // Messages, written by the API.

  /**
   * Insert messages with their steps, the start job of each (run at `sendAt` or now) and an
   * `expire` job when `expiresAt` is set, and merge `to` into each profile, all in one
   * transaction. Concurrent calls may share that transaction. Each call resolves only after
   * the commit that contains its messages, and a call that fails has written nothing and does
   * not fail the calls it shared the transaction with.
   */
  createMessages(messages: NewMessage[], options?: CreateMessagesOptions): Promise<void>;
  getMessage(spaceId: string, messageId: string): Promise<MessageView | null>;
  listMessages(spaceId: string, filter: MessageFilter): Promise<MessagePage>;

  // Profiles.

  getProfile(spaceId: string, profileId: string): Promise<Profile | null>;
  /** Replace a profile; returns whether it was created. */
  putProfile(spaceId: string, profileId: string, input: ProfileInput, now: number): Promise<{ created: boolean; profile: Profile }>;
  /** Merge into a profile; null values remove keys. Null when the profile does not exist. */
  patchProfile(spaceId: string, profileId: string, input: ProfileInput, now: number): Promise<Profile | null>;
  deleteProfile(spaceId: string, profileId: string): Promise<boolean>;

  // Jobs.

  /** Enqueue one job outside a decision (cancel requests). */
  enqueue(spaceId: string, messageId: string, job: NewJob): Promise<void>;
  /** Lease up to `limit` due jobs (`runAt <= now`, lease absent or expired), oldest first. */
  claimJobs(owner: string, now: number, limit: number, leaseMs: number): Promise<Job[]>;
  /** Delete a job still leased by `owner`. */
  completeJob(jobId: string, owner: string): Promise<void>;
  /** Extend the leases `owner` still holds on `jobIds` to `until`, so that long provider calls keep their job; returns how many were extended. */
  renewLeases(owner: string, jobIds: readonly string[], until: number): Promise<number>;
  /** Put a job back with a new `runAt`, keeping it only if `owner` still leases it. */
  rescheduleJob(jobId: string, owner: string, runAt: number): Promise<void>;
  /** The earliest `runAt` of a job that is not leased, or null when there is none. */
  nextJobAt(): Promise<number | null>;
  /** Clear every lease (single-process start-up: nothing else can hold one). */
  releaseAllLeases(): Promise<number>;
  /**
   * Call `listener` after every commit of this store that added jobs or moved a job's `runAt`
   * (`createMessages`, `enqueue`, `applyDecision`, `rescheduleJob`), with the earliest `runAt`
   * among them, before the call that wrote them resolves. Returns a function that removes the
   * listener. Jobs written by other processes and leases that expire are not reported.
   */
  onJobsCommitted(listener: (earliestRunAt: number) => void): () => void;

  // Routing.

  loadMessage(spaceId: string, messageId: string): Promise<LoadedMessage | null>;
  /**
   * Create attempt `attempt` of `step` in state `sending`, unless it exists. This is the
   * compare-and-set that keeps a retried job from starting a second call for one attempt.
   */
  claimAttempt(
    spaceId: string,
    messageId: string,
    step: number,
    attempt: number,
    idempotencyKey: string,
    now: number,
    address?: string | null,
  ): Promise<AttemptClaim>;
  /** Write a decision; throws `ConflictError` when the message's version moved on. */
  applyDecision(write: DecisionWrite): Promise<void>;

  // Receipts.

  /** Store a receipt once per (space, channel, key, state); null when it was stored before. */
  insertReceipt(receipt: NewReceipt): Promise<StoredReceipt | null>;
  /** The attempt part a provider id belongs to, trying `keys` in order; a null space searches every space. */
  findAttemptByKeys(spaceId: string | null, channel: ChannelId, keys: string[]): Promise<AttemptRef | null>;
  /**
   * Receipts stored under these keys, in `spaceId` or not yet assigned a space, that are not
   * applied yet (they arrived before the send call returned).
   */
  pendingReceipts(spaceId: string, channel: ChannelId, keys: string[]): Promise<StoredReceipt[]>;
  /**
   * Unapplied receipts received between `after` and `before` whose key an attempt recorded
   * after they were stored, with that attempt; oldest first, at most `limit`.
   */
  matchedUnappliedReceipts(after: number, before: number, limit: number): Promise<Array<{ receipt: StoredReceipt; ref: AttemptRef }>>;
  /** Link a receipt to its attempt and mark it applied. */
  markReceiptApplied(receiptId: string, ref: AttemptRef, now: number): Promise<void>;
  /** How many distinct parts of an attempt have a stored receipt in `state`. */
  countPartsWithReceipt(ref: Omit<AttemptRef, 'part' | 'parts'>, state: ReceiptState): Promise<number>;

  // Facts learned from providers.

  /** Store an inbound message once and clear the sender's unreachable mark; false for a duplicate. */
  recordInbound(message: InboundMessage): Promise<boolean>;
  /** When `address` last wrote on `channel` (provider time), or null. */
  lastInboundAt(spaceId: string, channel: ChannelId, address: string): Promise<number | null>;
  /** Remember that `address` reaches nobody on `channel`, so later steps skip it. */
  markUnreachable(spaceId: string, channel: ChannelId, address: string, errorCode: string, now: number): Promise<void>;
  isUnreachable(spaceId: string, channel: ChannelId, address: string): Promise<boolean>;
  /** Provider ids of attempts on `channel` to `address` started at or before `before`, in `statuses`. */
  attemptIdsBefore(spaceId: string, channel: ChannelId, address: string, before: number, statuses: AttemptStatus[]): Promise<string[]>;

  // Spaces and API keys.

  createSpace(space: Space): Promise<void>;
  getSpace(spaceId: string): Promise<Space | null>;
  /** Every space, oldest first. */
  listSpaces(): Promise<Space[]>;
  /** Insert a key of an existing space; false when a key with the same hash exists already. */
  createApiKey(key: NewApiKey): Promise<boolean>;
  /**
   * The key with this hash, revoked or not, or null. NOTE: unlike the other key queries it is not
   * scoped by space, because the presented key is what selects the space.
   */
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | null>;
  /** Keys of a space, revoked ones included, oldest first. */
  listApiKeys(spaceId: string): Promise<ApiKeyRecord[]>;
  /** Set `revokedAt` to `now` unless it is set already; null when the space has no such key. */
  revokeApiKey(spaceId: string, keyId: string, now: number): Promise<ApiKeyRecord | null>;
  /** Set `lastUsedAt` to `now` unless it is later than `now - minIntervalMs`; returns whether it was set. */
  touchApiKey(spaceId: string, keyId: string, now: number, minIntervalMs: number): Promise<boolean>;

  // Idempotency keys.

  /** Reserve an idempotency key for a request, or return what an earlier request with the key left. */
  reserveIdempotencyKey(request: IdempotencyRequest): Promise<IdempotencyClaim>;
  /** Delete a reservation that is still `processing` and held by its token, so the key can be used again. */
  releaseIdempotencyKey(reservation: IdempotencyReservation): Promise<void>;
  /** Delete up to `limit` records, of every space, that expired at or before `now`; returns how many. */
  deleteExpiredIdempotencyKeys(now: number, limit: number): Promise<number>;

  // Rule sets.

  /** Create or replace a rule set; `isDefault` true clears the space's previous default in the same transaction. */
  putRuleSet(spaceId: string, name: string, input: RuleSetInput, options: { now: number; maxRuleSets: number }): Promise<PutRuleSetResult>;
  getRuleSet(spaceId: string, name: string): Promise<RuleSet | null>;
  /** The rule sets with these names; names without one are left out. */
  getRuleSets(spaceId: string, names: string[]): Promise<RuleSet[]>;
  getDefaultRuleSet(spaceId: string): Promise<RuleSet | null>;
  /** Every rule set of the space, by name. */
  listRuleSets(spaceId: string): Promise<RuleSet[]>;
  deleteRuleSet(spaceId: string, name: string): Promise<boolean>;
}
