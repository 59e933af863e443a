import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one server; each server owns its registry so tests can run several. */
export class DeliveryMetrics {
  readonly registry = new Registry();

  readonly messagesAccepted = new Counter({
    name: 'cascade_messages_accepted_total',
    help: 'Messages committed by the API.',
    registers: [this.registry],
  });

  readonly messagesFinished = new Counter({
    name: 'cascade_messages_finished_total',
    help: 'Messages that reached a final status, by status.',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  readonly attempts = new Counter({
    name: 'cascade_attempts_total',
    help: 'Provider send calls, by channel and outcome (accepted, permanent, transient).',
    labelNames: ['channel', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly skips = new Counter({
    name: 'cascade_steps_skipped_total',
    help: 'Steps skipped before a send call, by channel and reason.',
    labelNames: ['channel', 'reason'] as const,
    registers: [this.registry],
  });

  readonly receipts = new Counter({
    name: 'cascade_receipts_total',
    help: 'Provider receipts, by channel and result (applied, duplicate, early).',
    labelNames: ['channel', 'result'] as const,
    registers: [this.registry],
  });

  readonly inDoubt = new Counter({
    name: 'cascade_attempts_in_doubt_total',
    help: 'Attempts found in flight after a restart, whose provider may or may not have them.',
    labelNames: ['channel'] as const,
    registers: [this.registry],
  });

  readonly doubleDeliveries = new Counter({
    name: 'cascade_double_deliveries_total',
    help: 'Messages delivered on one step after a later step had already been handed to a provider.',
    registers: [this.registry],
  });

  readonly sendSeconds = new Histogram({
    name: 'cascade_send_call_seconds',
    help: 'Duration of provider send calls, by channel.',
    labelNames: ['channel'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly jobErrors = new Counter({
    name: 'cascade_job_errors_total',
    help: 'Jobs that threw and were put back for a later run, by kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'cascade_' });
  }
}
