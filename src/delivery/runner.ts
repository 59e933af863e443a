import type { Logger } from 'pino';
import { decide } from '../routing/index.js';
import type { Action, Decision, RoutingContext, Trigger } from '../routing/types.js';
import { ConflictError, type DecisionWrite, type LoadedMessage, type NewJob, type Store } from '../store/types.js';
import type { KeyedMutex } from './keyed-mutex.js';
import type { DeliveryMetrics } from './metrics.js';

/** How often a decision is recomputed when another writer moved the message on first. */
const MAX_CONFLICT_RETRIES = 8;

export interface ApplyOptions {
  /** The job this trigger came from; deleted with the decision. */
  doneJobId?: string;
  providerKeys?: DecisionWrite['providerKeys'];
  appliedReceipt?: DecisionWrite['appliedReceipt'];
}

export interface AppliedDecision {
  before: LoadedMessage;
  decision: Decision;
}

/** Turn the engine's `schedule` and `send` actions into durable jobs. */
export function jobsFor(actions: Action[], now: number): NewJob[] {
  const jobs: NewJob[] = [];
  for (const action of actions) {
    if (action.type === 'send') {
      jobs.push({ kind: 'route-step', step: action.step, attempt: action.attempt, runAt: now });
    } else if (action.type === 'schedule') {
      jobs.push({ kind: action.job, step: action.step, attempt: null, runAt: action.at });
    }
  }
  return jobs;
}

/**
 * Feeds triggers to the engine and writes its decisions. Every change to a message's routing
 * state goes through `apply`, one at a time per message.
 */
export class MessageRunner {
  constructor(
    private readonly store: Store,
    private readonly context: RoutingContext,
    private readonly mutex: KeyedMutex,
    private readonly metrics: DeliveryMetrics,
    private readonly logger: Logger,
    /** Called when a decision created a job that is due now. */
    private readonly onDueJob: () => void,
  ) {}

  /** Apply `trigger` to a message; null when the message does not exist. */
  async apply(spaceId: string, messageId: string, trigger: Trigger, options: ApplyOptions = {}): Promise<AppliedDecision | null> {
    return this.mutex.run(messageId, () => this.#applyLocked(spaceId, messageId, trigger, options));
  }

  async #applyLocked(spaceId: string, messageId: string, trigger: Trigger, options: ApplyOptions): Promise<AppliedDecision | null> {
    for (let attempt = 1; ; attempt++) {
      const before = await this.store.loadMessage(spaceId, messageId);
      if (before === null) return null;
      const now = this.context.clock.now();
      // One reading of the clock for the whole decision, so its state, events and jobs agree.
      const decision = decide(before.state, trigger, { ...this.context, clock: { now: () => now } });
      const jobs = jobsFor(decision.actions, now);
      const write: DecisionWrite = {
        spaceId,
        messageId,
        version: before.version,
        state: decision.state,
        events: decision.actions.flatMap((action) => (action.type === 'event' ? [action.event] : [])),
        jobs,
        now,
        ...options,
      };
      try {
        await this.store.applyDecision(write);
      } catch (error) {
        if (error instanceof ConflictError && attempt < MAX_CONFLICT_RETRIES) {
          this.logger.debug({ messageId, trigger: trigger.type, attempt }, 'message changed meanwhile, deciding again');
          continue;
        }
        throw error;
      }
      this.#observe(before, decision, trigger);
      if (jobs.some((job) => job.runAt <= now)) this.onDueJob();
      return { before, decision };
    }
  }

  #observe(before: LoadedMessage, decision: Decision, trigger: Trigger): void {
    const log = this.logger.child({ spaceId: before.spaceId, messageId: before.id });
    for (const action of decision.actions) {
      if (action.type === 'double-delivery') {
        this.metrics.doubleDeliveries.inc();
        log.warn({ step: action.step, otherStep: action.otherStep }, 'message delivered on two steps');
      }
    }
    const after = decision.state;
    if (before.state.completedAt === null && after.completedAt !== null) {
      this.metrics.messagesFinished.inc({ status: after.status });
      log.info({ status: after.status, step: after.succeededStep, trigger: trigger.type }, 'message finished');
    } else if (after.currentStep > before.state.currentStep && after.currentStep < after.steps.length) {
      const from = before.state.steps[before.state.currentStep];
      log.info(
        { fromStep: before.state.currentStep, fromChannel: from?.channel, reason: after.steps[before.state.currentStep]?.reason, toStep: after.currentStep },
        'falling back to next step',
      );
    }
  }
}
