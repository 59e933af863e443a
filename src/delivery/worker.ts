import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setImmediate as afterIoCallbacks } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Trigger } from '../routing/types.js';
import type { Job, Store } from '../store/types.js';
import type { DeliveryMetrics } from './metrics.js';
import type { MessageRunner } from './runner.js';
import type { StepSender } from './send-step.js';

export interface WorkerOptions {
  /** Jobs processed at once. */
  concurrency: number;
  /** How long a claimed job stays leased. The worker renews the leases of its jobs in flight every third of it. */
  leaseMs: number;
  /** Maximum time between polls. A poll claims due jobs that no report named, such as jobs whose lease expired. */
  idleMs: number;
}

/** Delay before a job that threw runs again: 1 s doubling per claim, at most 5 minutes. */
function jobRetryDelay(claims: number): number {
  return Math.min(300_000, 1000 * 2 ** Math.min(claims, 9));
}

function triggerFor(job: Job): Trigger | null {
  switch (job.kind) {
    case 'route-step':
      return job.step === null ? { type: 'start' } : null;
    case 'retry':
      return job.step === null ? null : { type: 'retry-due', step: job.step };
    case 'receipt-timeout':
      return job.step === null ? null : { type: 'receipt-timeout', step: job.step };
    case 'expire':
      return { type: 'expire' };
    case 'cancel':
      return { type: 'cancel' };
    default: {
      const unknownKind: never = job.kind;
      throw new Error(`unknown job kind ${String(unknownKind)}`);
    }
  }
}

/**
 * Claims due jobs from the store and runs them, up to `concurrency` at once.
 *
 * The worker claims only when a poll is due or when its record of job times shows a due job.
 * That record has three sources: a claim that returned fewer jobs than it requested took every
 * job due at that time, `nextJobAt` after it gives the earliest job left, and the store reports
 * every job it commits later (`Store.onJobsCommitted`). So the messages of a burst that commit
 * together cost one claim when they are due, and none while they are scheduled for later. The
 * poll, at least every `idleMs`, finds what no report covers: jobs whose lease expired and jobs
 * of other processes.
 */
export class Worker {
  readonly owner = `worker-${randomUUID()}`;
  #running = false;
  #inFlight = new Set<Promise<void>>();
  /** Ids of the jobs in flight, whose leases the worker renews. */
  readonly #leased = new Set<string>();
  #renewer: NodeJS.Timeout | null = null;
  #loop: Promise<void> | null = null;
  #stopListening: (() => void) | null = null;
  /** Earliest time at which a claimable job may be due by the worker's record, or -Infinity when unknown. */
  #dueAt = -Infinity;
  /** Time of the next poll, which claims even when the record shows no due job, in `performance.now()` milliseconds. */
  #pollAt = -Infinity;
  /** Function that ends the current sleep early, or null while the worker is not sleeping. */
  #endSleep: (() => void) | null = null;

  constructor(
    private readonly store: Store,
    private readonly runner: MessageRunner,
    private readonly sender: StepSender,
    private readonly metrics: DeliveryMetrics,
    private readonly logger: Logger,
    private readonly now: () => number,
    private readonly options: WorkerOptions,
  ) {}

  async start(): Promise<void> {
    if (this.store.dialect === 'sqlite') {
      // SQLite runs in one process, so every lease left in the file belongs to a process that died.
      const released = await this.store.releaseAllLeases();
      if (released > 0) this.logger.warn({ jobs: released }, 'released jobs leased by a stopped process');
    }
    this.#running = true;
    this.#dueAt = -Infinity;
    this.#stopListening = this.store.onJobsCommitted((runAt) => this.#onJobsCommitted(runAt));
    this.#loop = this.#run();
    // A job in flight keeps its lease however long its provider call takes, so no other worker
    // takes it and sends again. A killed process stops renewing, so its jobs free up.
    this.#renewer = setInterval(() => void this.#renewLeases(), Math.max(1, Math.floor(this.options.leaseMs / 3)));
    this.#renewer.unref();
    this.logger.info({ owner: this.owner, concurrency: this.options.concurrency }, 'worker started');
  }

  /** Stop claiming, then wait for the jobs in flight. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#stopListening?.();
    this.#stopListening = null;
    this.#endSleep?.();
    await this.#loop;
    await Promise.allSettled([...this.#inFlight]);
    if (this.#renewer !== null) clearInterval(this.#renewer);
    this.#renewer = null;
    this.logger.info({ owner: this.owner }, 'worker stopped');
  }

  /**
   * Claim now, instead of at the next poll, if the worker's record shows a job due by the
   * worker's clock. The store reports the jobs it commits, so this matters only when the clock
   * moves past a recorded `runAt` without a report, as a test clock does.
   */
  wake(): void {
    if (this.#dueAt <= this.now()) this.#endSleep?.();
  }

  #onJobsCommitted(runAt: number): void {
    if (runAt >= this.#dueAt) return;
    this.#dueAt = runAt;
    // The loop works out the new wake-up time, or claims at once when the job is due.
    this.#endSleep?.();
  }

  async #run(): Promise<void> {
    while (this.#running) {
      if (this.#inFlight.size >= this.options.concurrency) {
        await Promise.race(this.#inFlight);
        // Jobs that finish in the same turn free their slots too, so that one claim fills them all.
        await afterIoCallbacks();
        continue;
      }
      const now = this.now();
      const untilPoll = this.#pollAt - performance.now();
      if (this.#dueAt > now && untilPoll > 0) {
        await this.#sleep(Math.min(this.#dueAt - now, untilPoll));
        continue;
      }
      await this.#claim(now);
    }
  }

  async #claim(now: number): Promise<void> {
    const free = this.options.concurrency - this.#inFlight.size;
    // Reports that arrive from here on concern jobs this claim may not see.
    this.#dueAt = Infinity;
    this.#pollAt = performance.now() + this.options.idleMs;
    let jobs: Job[];
    try {
      jobs = await this.store.claimJobs(this.owner, now, free, this.options.leaseMs);
    } catch (error) {
      this.logger.error({ err: error }, 'claiming jobs failed, retrying at the next poll');
      return;
    }
    for (const job of jobs) {
      this.#leased.add(job.id);
      const task = this.#process(job).finally(() => {
        this.#inFlight.delete(task);
        this.#leased.delete(job.id);
      });
      this.#inFlight.add(task);
    }
    if (jobs.length === free) {
      // The claim may have left due jobs behind, so claim again once a slot is free.
      this.#dueAt = -Infinity;
      return;
    }
    try {
      const next = await this.store.nextJobAt();
      if (next !== null) this.#dueAt = Math.min(this.#dueAt, next);
    } catch (error) {
      this.logger.error({ err: error }, 'reading the next job time failed, so the worker waits for the next poll');
    }
  }

  async #renewLeases(): Promise<void> {
    if (this.#leased.size === 0) return;
    const ids = [...this.#leased];
    try {
      const renewed = await this.store.renewLeases(this.owner, ids, this.now() + this.options.leaseMs);
      if (renewed < ids.length) this.logger.debug({ leased: ids.length, renewed }, 'some jobs in flight finished or lost their lease before renewal');
    } catch (error) {
      this.logger.error({ err: error, jobs: ids.length }, 'renewing job leases failed; they are renewed again at the next interval');
    }
  }

  async #sleep(delayMs: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delayMs);
      this.#endSleep = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#endSleep = null;
  }

  async #process(job: Job): Promise<void> {
    try {
      if (job.kind === 'route-step' && job.step !== null) {
        await this.sender.run({ ...job, step: job.step, attempt: job.attempt ?? 1 });
        return;
      }
      const trigger = triggerFor(job);
      if (trigger === null) {
        this.logger.error({ jobId: job.id, kind: job.kind }, 'job without a step dropped');
        await this.store.completeJob(job.id, this.owner);
        return;
      }
      const applied = await this.runner.apply(job.spaceId, job.messageId, trigger, { doneJobId: job.id });
      if (applied === null) await this.store.completeJob(job.id, this.owner);
    } catch (error) {
      this.metrics.jobErrors.inc({ kind: job.kind });
      const delay = jobRetryDelay(job.claims);
      this.logger.error(
        { err: error, jobId: job.id, kind: job.kind, messageId: job.messageId, claim: job.claims + 1, retryInMs: delay },
        'job failed, retrying later',
      );
      try {
        await this.store.rescheduleJob(job.id, this.owner, this.now() + delay);
      } catch (rescheduleError) {
        // The lease runs out on its own and the job is claimed again.
        this.logger.error({ err: rescheduleError, jobId: job.id }, 'rescheduling a failed job failed');
      }
    }
  }
}
