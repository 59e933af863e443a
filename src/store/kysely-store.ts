import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { AppFeedStore } from '../channels/app/types.js';
import { KyselyAppFeedStore } from './app-feed.js';
import type { AttemptStatus, ChannelId, ReceiptState } from '../routing/types.js';
import type { WebhookStore } from '../webhooks/types.js';
import { claimAttempt } from './attempts.js';
import { applyDecision } from './decisions.js';
import type { StoreDialect } from './dialect.js';
import { GroupCommit } from './group-commit.js';
import * as idempotency from './idempotency.js';
import * as jobs from './jobs.js';
import { loadMessage } from './message-state.js';
import { getMessage, listMessages } from './message-views.js';
import { earliestJobRunAt, insertMessages, MessageWriter } from './messages.js';
import { migrateToLatest } from './migrations/index.js';
import * as profiles from './profiles.js';
import * as facts from './provider-facts.js';
import * as receipts from './receipts.js';
import * as ruleSets from './rulesets.js';
import * as spaces from './spaces.js';
import { KyselyWebhookStore } from './webhooks.js';
import { KyselyChannelSettingsStore } from './channel-settings.js';
import type { Database } from './schema.js';
import type {
  ApiKeyRecord,
  AttemptClaim,
  AttemptRef,
  ChannelSettingsStore,
  CreateMessagesOptions,
  DecisionWrite,
  IdempotencyClaim,
  IdempotencyRequest,
  IdempotencyReservation,
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
  NewApiKey,
  ProfileInput,
  PutRuleSetResult,
  RuleSet,
  RuleSetInput,
  Space,
  Store,
  StoredReceipt,
} from './types.js';

/**
 * The `Store` of every dialect: shared Kysely queries, with what differs between dialects
 * supplied by `StoreDialect`.
 *
 * The writes of the API and the delivery loop (`createMessages`, `applyDecision`,
 * `claimAttempt`, `completeJob`, `rescheduleJob`, `markUnreachable`) go through one
 * `GroupCommit`: the calls of one event-loop turn share a transaction, each call's promise
 * settles after that transaction commits, and a call that fails writes nothing and fails alone.
 * SQLite writes every page a transaction changed to its WAL at commit, so this divides that cost
 * among the calls. Other writes commit on their own as before.
 */
export class KyselyStore implements Store {
  readonly dialect: StoreDialect['name'];
  readonly appFeed: AppFeedStore;
  readonly webhooks: WebhookStore;
  readonly channelSettings: ChannelSettingsStore;
  readonly #writes: GroupCommit;
  readonly #messages: MessageWriter;
  readonly #jobListeners = new Set<(earliestRunAt: number) => void>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly sqlDialect: StoreDialect,
    private readonly logger: Logger,
    /** Schema of the tables on PostgreSQL, when it is not the first one on the default search path. */
    private readonly schema: string | null = null,
  ) {
    this.dialect = sqlDialect.name;
    this.appFeed = new KyselyAppFeedStore(db, sqlDialect);
    this.webhooks = new KyselyWebhookStore(db, sqlDialect);
    this.channelSettings = new KyselyChannelSettingsStore(db);
    this.#writes = new GroupCommit(db, (trx) => sqlDialect.beginWrite(trx));
    this.#messages = new MessageWriter(this.#writes, sqlDialect);
  }

  migrate(): Promise<void> {
    return migrateToLatest(this.db, this.sqlDialect.name, this.logger, this.schema);
  }

  async close(): Promise<void> {
    await this.#writes.settled();
    await this.db.destroy();
  }

  async createMessages(messages: NewMessage[], options: CreateMessagesOptions = {}): Promise<void> {
    await this.#createMessages(messages, options);
    this.#reportJobs(earliestJobRunAt(messages));
  }

  #createMessages(messages: NewMessage[], options: CreateMessagesOptions): Promise<void> {
    const { idempotency: completion } = options;
    if (completion !== undefined) {
      // Not combined with other calls' inserts, because this call's messages must roll back
      // alone when its reservation was lost. The write still shares the group's transaction.
      return this.#writes.run(async (trx) => {
        await idempotency.completeIdempotencyKey(trx, completion.reservation, completion.response);
        await insertMessages(trx, this.sqlDialect, messages);
      });
    }
    if (messages.length === 0) return Promise.resolve();
    return this.#messages.create(messages);
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

  async enqueue(spaceId: string, messageId: string, job: NewJob): Promise<void> {
    await jobs.enqueue(this.db, spaceId, messageId, job, Date.now());
    this.#reportJobs(job.runAt);
  }

  claimJobs(owner: string, now: number, limit: number, leaseMs: number): Promise<Job[]> {
    return jobs.claimJobs(this.db, this.sqlDialect, owner, now, limit, leaseMs);
  }

  completeJob(jobId: string, owner: string): Promise<void> {
    return this.#writes.run((trx) => jobs.completeJob(trx, jobId, owner));
  }

  renewLeases(owner: string, jobIds: readonly string[], until: number): Promise<number> {
    return this.#writes.run((trx) => jobs.renewLeases(trx, owner, jobIds, until));
  }

  async rescheduleJob(jobId: string, owner: string, runAt: number): Promise<void> {
    await this.#writes.run((trx) => jobs.rescheduleJob(trx, jobId, owner, runAt));
    this.#reportJobs(runAt);
  }

  nextJobAt(): Promise<number | null> {
    return jobs.nextJobAt(this.db);
  }

  releaseAllLeases(): Promise<number> {
    return jobs.releaseAllLeases(this.db);
  }

  onJobsCommitted(listener: (earliestRunAt: number) => void): () => void {
    this.#jobListeners.add(listener);
    return () => {
      this.#jobListeners.delete(listener);
    };
  }

  #reportJobs(earliestRunAt: number): void {
    if (earliestRunAt === Infinity) return;
    for (const listener of this.#jobListeners) {
      try {
        listener(earliestRunAt);
      } catch (error) {
        // The jobs are committed already, so a listener that throws only misses this report.
        this.logger.error({ err: error, earliestRunAt }, 'job report listener failed');
      }
    }
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
    return this.#writes.run((trx) => claimAttempt(trx, spaceId, messageId, step, attempt, idempotencyKey, now, address));
  }

  async applyDecision(write: DecisionWrite): Promise<void> {
    await this.#writes.run((trx) => applyDecision(trx, this.sqlDialect, this.logger, write));
    this.#reportJobs(Math.min(...write.jobs.map((job) => job.runAt)));
  }

  insertReceipt(receipt: NewReceipt): Promise<StoredReceipt | null> {
    return receipts.insertReceipt(this.db, receipt);
  }

  findAttemptByKeys(spaceId: string | null, channel: ChannelId, keys: string[]): Promise<AttemptRef | null> {
    return receipts.findAttemptByKeys(this.db, spaceId, channel, keys);
  }

  pendingReceipts(spaceId: string, channel: ChannelId, keys: string[]): Promise<StoredReceipt[]> {
    return receipts.pendingReceipts(this.db, spaceId, channel, keys);
  }

  matchedUnappliedReceipts(after: number, before: number, limit: number): Promise<Array<{ receipt: StoredReceipt; ref: AttemptRef }>> {
    return receipts.matchedUnappliedReceipts(this.db, after, before, limit);
  }

  markReceiptApplied(receiptId: string, ref: AttemptRef, now: number): Promise<void> {
    return receipts.markReceiptApplied(this.db, receiptId, ref, now);
  }

  countPartsWithReceipt(ref: Omit<AttemptRef, 'part' | 'parts'>, state: ReceiptState): Promise<number> {
    return receipts.countPartsWithReceipt(this.db, ref, state);
  }

  recordInbound(message: InboundMessage): Promise<boolean> {
    return facts.recordInbound(this.db, this.sqlDialect, message);
  }

  lastInboundAt(spaceId: string, channel: ChannelId, address: string): Promise<number | null> {
    return facts.lastInboundAt(this.db, spaceId, channel, address);
  }

  markUnreachable(spaceId: string, channel: ChannelId, address: string, errorCode: string, now: number): Promise<void> {
    return this.#writes.run((trx) => facts.markUnreachable(trx, spaceId, channel, address, errorCode, now));
  }

  isUnreachable(spaceId: string, channel: ChannelId, address: string): Promise<boolean> {
    return facts.isUnreachable(this.db, spaceId, channel, address);
  }

  attemptIdsBefore(spaceId: string, channel: ChannelId, address: string, before: number, statuses: AttemptStatus[]): Promise<string[]> {
    return facts.attemptIdsBefore(this.db, spaceId, channel, address, before, statuses);
  }

  createSpace(space: Space): Promise<void> {
    return spaces.createSpace(this.db, space);
  }

  getSpace(spaceId: string): Promise<Space | null> {
    return spaces.getSpace(this.db, spaceId);
  }

  listSpaces(): Promise<Space[]> {
    return spaces.listSpaces(this.db);
  }

  createApiKey(key: NewApiKey): Promise<boolean> {
    return spaces.createApiKey(this.db, key);
  }

  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | null> {
    return spaces.findApiKeyByHash(this.db, hash);
  }

  listApiKeys(spaceId: string): Promise<ApiKeyRecord[]> {
    return spaces.listApiKeys(this.db, spaceId);
  }

  revokeApiKey(spaceId: string, keyId: string, now: number): Promise<ApiKeyRecord | null> {
    return spaces.revokeApiKey(this.db, spaceId, keyId, now);
  }

  touchApiKey(spaceId: string, keyId: string, now: number, minIntervalMs: number): Promise<boolean> {
    return spaces.touchApiKey(this.db, spaceId, keyId, now, minIntervalMs);
  }

  reserveIdempotencyKey(request: IdempotencyRequest): Promise<IdempotencyClaim> {
    return this.#writes.run((trx) => idempotency.reserveIdempotencyKey(trx, request));
  }

  releaseIdempotencyKey(reservation: IdempotencyReservation): Promise<void> {
    return this.#writes.run((trx) => idempotency.releaseIdempotencyKey(trx, reservation));
  }

  deleteExpiredIdempotencyKeys(now: number, limit: number): Promise<number> {
    return idempotency.deleteExpiredIdempotencyKeys(this.db, now, limit);
  }

  putRuleSet(spaceId: string, name: string, input: RuleSetInput, options: { now: number; maxRuleSets: number }): Promise<PutRuleSetResult> {
    return ruleSets.putRuleSet(this.db, spaceId, name, input, options);
  }

  getRuleSet(spaceId: string, name: string): Promise<RuleSet | null> {
    return ruleSets.getRuleSet(this.db, spaceId, name);
  }

  getRuleSets(spaceId: string, names: string[]): Promise<RuleSet[]> {
    return ruleSets.getRuleSets(this.db, spaceId, names);
  }

  getDefaultRuleSet(spaceId: string): Promise<RuleSet | null> {
    return ruleSets.getDefaultRuleSet(this.db, spaceId);
  }

  listRuleSets(spaceId: string): Promise<RuleSet[]> {
    return ruleSets.listRuleSets(this.db, spaceId);
  }

  deleteRuleSet(spaceId: string, name: string): Promise<boolean> {
    return ruleSets.deleteRuleSet(this.db, spaceId, name);
  }
}
