import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { AttemptStatus, ChannelId, ReceiptState } from '../routing/types.js';
import { claimAttempt } from './attempts.js';
import { applyDecision } from './decisions.js';
import type { StoreDialect } from './dialect.js';
import * as jobs from './jobs.js';
import { loadMessage } from './message-state.js';
import { getMessage, listMessages } from './message-views.js';
import { createMessages } from './messages.js';
import { migrateToLatest } from './migrations/index.js';
import * as profiles from './profiles.js';
import * as facts from './provider-facts.js';
import * as receipts from './receipts.js';
import type { Database } from './schema.js';
import type {
  AttemptClaim,
  AttemptRef,
  DecisionWrite,
  InboundMessage,
  Job,
  LoadedMessage,
  MessageFilter,
  MessagePage,
  MessageView,
  NewJob,
  NewMessage,
  NewReceipt,
  Profile,
  ProfileInput,
  Store,
  StoredReceipt,
} from './types.js';

/**
 * The `Store` of every dialect: shared Kysely queries, with what differs between dialects
 * supplied by `StoreDialect`.
 */
export class KyselyStore implements Store {
  readonly dialect: StoreDialect['name'];

  constructor(
    private readonly db: Kysely<Database>,
    private readonly sqlDialect: StoreDialect,
    private readonly logger: Logger,
  ) {
    this.dialect = sqlDialect.name;
  }

  migrate(): Promise<void> {
    return migrateToLatest(this.db, this.sqlDialect.name, this.logger);
  }

  close(): Promise<void> {
    return this.db.destroy();
  }

  createMessages(messages: NewMessage[]): Promise<void> {
    return createMessages(this.db, this.sqlDialect, messages);
  }

  getMessage(spaceId: string, messageId: string): Promise<MessageView | null> {
    return getMessage(this.db, spaceId, messageId);
  }

  listMessages(spaceId: string, filter: MessageFilter): Promise<MessagePage> {
    return listMessages(this.db, spaceId, filter);
  }

  getProfile(spaceId: string, profileId: string): Promise<Profile | null> {
    return profiles.getProfile(this.db, spaceId, profileId);
  }

  putProfile(spaceId: string, profileId: string, input: ProfileInput, now: number): Promise<{ created: boolean; profile: Profile }> {
    return profiles.putProfile(this.db, spaceId, profileId, input, now);
  }

  patchProfile(spaceId: string, profileId: string, input: ProfileInput, now: number): Promise<Profile | null> {
    return profiles.patchProfile(this.db, spaceId, profileId, input, now);
  }

  deleteProfile(spaceId: string, profileId: string): Promise<boolean> {
    return profiles.deleteProfile(this.db, spaceId, profileId);
  }

  enqueue(spaceId: string, messageId: string, job: NewJob): Promise<void> {
    return jobs.enqueue(this.db, spaceId, messageId, job, Date.now());
  }

  claimJobs(owner: string, now: number, limit: number, leaseMs: number): Promise<Job[]> {
    return jobs.claimJobs(this.db, this.sqlDialect, owner, now, limit, leaseMs);
  }

  completeJob(jobId: string, owner: string): Promise<void> {
    return jobs.completeJob(this.db, jobId, owner);
  }

  rescheduleJob(jobId: string, owner: string, runAt: number): Promise<void> {
    return jobs.rescheduleJob(this.db, jobId, owner, runAt);
  }

  nextJobAt(): Promise<number | null> {
    return jobs.nextJobAt(this.db);
  }

  releaseAllLeases(): Promise<number> {
    return jobs.releaseAllLeases(this.db);
  }

  loadMessage(spaceId: string, messageId: string): Promise<LoadedMessage | null> {
    return loadMessage(this.db, spaceId, messageId);
  }

  claimAttempt(
    spaceId: string,
    messageId: string,
    step: number,
    attempt: number,
    idempotencyKey: string,
    now: number,
    address: string | null = null,
  ): Promise<AttemptClaim> {
    return claimAttempt(this.db, spaceId, messageId, step, attempt, idempotencyKey, now, address);
  }

  applyDecision(write: DecisionWrite): Promise<void> {
    return applyDecision(this.db, this.sqlDialect, this.logger, write);
  }

  insertReceipt(receipt: NewReceipt): Promise<StoredReceipt | null> {
    return receipts.insertReceipt(this.db, receipt);
  }

  findAttemptByKeys(spaceId: string, channel: ChannelId, keys: string[]): Promise<AttemptRef | null> {
    return receipts.findAttemptByKeys(this.db, spaceId, channel, keys);
  }

  pendingReceipts(spaceId: string, channel: ChannelId, keys: string[]): Promise<StoredReceipt[]> {
    return receipts.pendingReceipts(this.db, spaceId, channel, keys);
  }

  markReceiptApplied(receiptId: string, ref: AttemptRef, now: number): Promise<void> {
    return receipts.markReceiptApplied(this.db, receiptId, ref, now);
  }

  countPartsWithReceipt(ref: Omit<AttemptRef, 'part' | 'parts'>, state: ReceiptState): Promise<number> {
    return receipts.countPartsWithReceipt(this.db, ref, state);
  }

  recordInbound(message: InboundMessage): Promise<boolean> {
    return facts.recordInbound(this.db, message);
  }

  lastInboundAt(spaceId: string, channel: ChannelId, address: string): Promise<number | null> {
    return facts.lastInboundAt(this.db, spaceId, channel, address);
  }

  markUnreachable(spaceId: string, channel: ChannelId, address: string, errorCode: string, now: number): Promise<void> {
    return facts.markUnreachable(this.db, spaceId, channel, address, errorCode, now);
  }

  isUnreachable(spaceId: string, channel: ChannelId, address: string): Promise<boolean> {
    return facts.isUnreachable(this.db, spaceId, channel, address);
  }

  attemptIdsBefore(spaceId: string, channel: ChannelId, address: string, before: number, statuses: AttemptStatus[]): Promise<string[]> {
    return facts.attemptIdsBefore(this.db, spaceId, channel, address, before, statuses);
  }
}
