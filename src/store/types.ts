import type { Addresses } from '../channels/types.js';
import type {
  AttemptState,
  AttemptStatus,
  ChannelId,
  MessageState,
  MessageStatus,
  ReceiptState,
  RoutingEvent,
  StepPlan,
} from '../routing/types.js';

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

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  migrate(): Promise<void>;
  close(): Promise<void>;

  // Messages, written by the API.

  /**
   * Insert messages with their steps, the start job of each (run at `sendAt` or now) and an
   * `expire` job when `expiresAt` is set, and merge `to` into each profile, all in one
   * transaction.
   */
  createMessages(messages: NewMessage[]): Promise<void>;
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
  /** Put a job back with a new `runAt`, keeping it only if `owner` still leases it. */
  rescheduleJob(jobId: string, owner: string, runAt: number): Promise<void>;
  /** The earliest `runAt` of a job that is not leased, or null when there is none. */
  nextJobAt(): Promise<number | null>;
  /** Clear every lease (single-process start-up: nothing else can hold one). */
  releaseAllLeases(): Promise<number>;

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
  /** The attempt part a provider id belongs to, trying `keys` in order. */
  findAttemptByKeys(spaceId: string, channel: ChannelId, keys: string[]): Promise<AttemptRef | null>;
  /** Receipts stored under these keys that are not applied yet (they arrived before the send call returned). */
  pendingReceipts(spaceId: string, channel: ChannelId, keys: string[]): Promise<StoredReceipt[]>;
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
}
