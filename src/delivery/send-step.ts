import type { Logger } from 'pino';
import { CHANNEL_TRAITS } from '../channels/catalog.js';
import type { Channel, ChannelContent } from '../channels/types.js';
import type { ChannelId, SendOutcome, SkipReason } from '../routing/types.js';
import type { Job, LoadedMessage, Store } from '../store/types.js';
import { channelContent, messageAddresses } from './content.js';
import type { DeliveryMetrics } from './metrics.js';
import type { ReceiptIntake } from './receipts.js';
import type { MessageRunner } from './runner.js';
import type { ChannelResolver } from './space-channels.js';

/**
 * Why a step cannot be sent, or null when it can. A missing address comes first, so a person
 * without, say, a Messenger id reads `no-address` whether or not Messenger is configured.
 */
function skipReason(message: LoadedMessage, channel: Channel | undefined, address: string | null, channelId: ChannelId): SkipReason | null {
  const addresses = messageAddresses(message);
  if (channel === undefined) {
    return addresses[CHANNEL_TRAITS[channelId].addressKey] ? 'channel-not-configured' : 'no-address';
  }
  if (address === null) return 'no-address';
  if (message.profile?.optOuts.includes(channelId)) return 'opted-out';
  return null;
}

function errorOutcome(error: unknown): SendOutcome {
  const message = error instanceof Error ? error.message : String(error);
  return { kind: 'transient', code: 'send-threw', message };
}

/**
 * Carries out one `route-step` job with a step: resolve the address, claim the attempt with a
 * compare-and-set, call the provider, and feed the classified outcome back to the engine.
 */
export class StepSender {
  constructor(
    private readonly store: Store,
    private readonly channels: ChannelResolver,
    private readonly runner: MessageRunner,
    private readonly receipts: ReceiptIntake,
    private readonly metrics: DeliveryMetrics,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  async run(job: Job & { step: number; attempt: number }): Promise<void> {
    const { spaceId, messageId, step, attempt } = job;
    const message = await this.store.loadMessage(spaceId, messageId);
    const stepState = message?.state.steps[step];
    if (message === null || stepState === undefined || message.state.completedAt !== null || stepState.status !== 'sending') {
      await this.store.completeJob(job.id, job.leaseOwner ?? '');
      return;
    }
    const log = this.logger.child({ spaceId, messageId, step, attempt, channel: stepState.channel });

    const existing = stepState.attempts.find((a) => a.number === attempt);
    if (existing !== undefined) {
      await this.#settleExisting(job, existing.status, stepState.channel, log);
      return;
    }

    const channel = await this.channels.resolve(spaceId, stepState.channel);
    const address = channel ? channel.resolveAddress(messageAddresses(message)) : null;
    const content = channel ? channelContent(message, channel.id) : null;
    const reason =
      skipReason(message, channel, address, stepState.channel) ??
      (channel && address !== null && content !== null ? await this.#providerSkipReason(spaceId, channel, address, content) : null);
    if (reason !== null || channel === undefined || address === null || content === null) {
      const skip = reason ?? 'no-address';
      this.metrics.skips.inc({ channel: stepState.channel, reason: skip });
      log.info({ reason: skip }, 'step skipped');
      await this.runner.apply(spaceId, messageId, { type: 'skip', step, reason: skip }, { doneJobId: job.id });
      return;
    }

    const idempotencyKey = `${messageId}_${step}_${attempt}`;
    const claim = await this.store.claimAttempt(spaceId, messageId, step, attempt, idempotencyKey, this.now(), address);
    if (claim.result === 'exists') {
      await this.#settleExisting(job, claim.status, stepState.channel, log);
      return;
    }

    log.info('send call started');
    const timer = this.metrics.sendSeconds.startTimer({ channel: channel.id });
    let outcome: SendOutcome;
    try {
      outcome = await channel.send({ spaceId, messageId, step, attempt, idempotencyKey, address, content });
    } catch (error) {
      // Channels classify their own errors; a throw here is a bug, retried as transient.
      log.error({ err: error }, 'channel send threw instead of returning an outcome');
      outcome = errorOutcome(error);
    }
    const seconds = timer();
    this.metrics.attempts.inc({ channel: channel.id, outcome: outcome.kind });

    if (outcome.kind === 'accepted') {
      log.info({ providerMessageId: outcome.providerMessageId, seconds }, 'send call accepted');
      const partIds = outcome.partIds ?? [outcome.providerMessageId];
      const keys = { channel: channel.id, parts: partIds.map((id) => channel.matchKeys(id)) };
      await this.runner.apply(spaceId, messageId, { type: 'send-result', step, attempt, outcome }, {
        doneJobId: job.id,
        providerKeys: { step, attempt, keys },
      });
      // Receipts that arrived before the send call returned were stored unmatched.
      await this.receipts.applyPending(spaceId, channel, keys.parts.flat());
    } else {
      log.warn({ outcome: outcome.kind, code: outcome.code, error: outcome.message, seconds }, 'send call failed');
      if (outcome.kind === 'permanent' && outcome.addressUnreachable) {
        // Later sends skip this address until the person writes again.
        await this.store.markUnreachable(spaceId, channel.id, address, outcome.code, this.now());
        log.info({ code: outcome.code }, 'address marked unreachable');
      }
      await this.runner.apply(spaceId, messageId, { type: 'send-result', step, attempt, outcome }, { doneJobId: job.id });
    }
  }

  /** `no-address` for an address a provider reported dead, `ineligible` outside the provider's messaging window. */
  async #providerSkipReason(spaceId: string, channel: Channel, address: string, content: ChannelContent): Promise<SkipReason | null> {
    if (await this.store.isUnreachable(spaceId, channel.id, address)) return 'no-address';
    if (channel.checkEligibility === undefined) return null;
    const lastInboundAt = await this.store.lastInboundAt(spaceId, channel.id, address);
    return channel.checkEligibility(content, { lastInboundAt, now: this.now() });
  }

  /** The attempt row exists: in flight at a crash when still `sending`, else the job is stale. */
  async #settleExisting(job: Job & { step: number; attempt: number }, status: string, channel: ChannelId, log: Logger): Promise<void> {
    if (status === 'sending') {
      this.metrics.inDoubt.inc({ channel });
      log.warn('attempt was in flight when the process stopped; it is in doubt');
      await this.runner.apply(job.spaceId, job.messageId, { type: 'in-doubt', step: job.step, attempt: job.attempt }, { doneJobId: job.id });
      return;
    }
    await this.store.completeJob(job.id, job.leaseOwner ?? '');
  }
}
