import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Trigger } from '../routing/types.js';
import type { Job, Store } from '../store/types.js';
import type { DeliveryMetrics } from './metrics.js';
import type { MessageRunner } from './runner.js';
import type { StepSender } from './send-step.js';

export interface WorkerOptions {
  /** Jobs processed at once. */
  concurrency: number;
  /** How long a claimed job stays leased; longer than the slowest provider call. */
  leaseMs: number;
  /** Longest sleep between polls when no job is due. */
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

/** Claims due jobs from the store and runs them, up to `concurrency` at once. */
export class Worker {
  readonly owner = `worker-${randomUUID()}`;
  #running = false;
  #inFlight = new Set<Promise<void>>();
  #wake: (() => void) | null = null;
  #woken = false;
  #loop: Promise<void> | null = null;

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
    this.#loop = this.#run();
    this.logger.info({ owner: this.owner, concurrency: this.options.concurrency }, 'worker started');
  }

  /** Stop claiming, then wait for the jobs in flight. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.wake();
    await this.#loop;
    await Promise.allSettled([...this.#inFlight]);
    this.logger.info({ owner: this.owner }, 'worker stopped');
  }

  /** Look for due jobs now instead of at the next poll. */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const free = this.options.concurrency - this.#inFlight.size;
      if (free <= 0) {
        await Promise.race(this.#inFlight);
        continue;
      }
      this.#woken = false;
      let jobs: Job[] = [];
      try {
        jobs = await this.store.claimJobs(this.owner, this.now(), free, this.options.leaseMs);
      } catch (error) {
        this.logger.error({ err: error }, 'claiming jobs failed');
      }
      for (const job of jobs) {
        const task = this.#process(job).finally(() => {
          this.#inFlight.delete(task);
          this.wake();
        });
        this.#inFlight.add(task);
      }
      if (jobs.length === 0 && !this.#woken) await this.#sleep();
    }
  }

  async #sleep(): Promise<void> {
    let delay = this.options.idleMs;
    try {
      const next = await this.store.nextJobAt();
      if (next !== null) delay = Math.max(0, Math.min(delay, next - this.now()));
    } catch (error) {
      this.logger.error({ err: error }, 'reading the next job time failed');
    }
    if (delay === 0 || this.#woken) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#wake = null;
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
