/**
 * Vocabulary of the fallback engine. Everything here is plain data: the engine reads a
 * message's state and one trigger, and returns the next state and the actions to carry out.
 * Times are epoch milliseconds.
 */

export const CHANNEL_IDS = ['sms', 'whatsApp', 'fbMessenger', 'email', 'appMessaging'] as const;
export type ChannelId = (typeof CHANNEL_IDS)[number];

/** Condition a step waits for before it counts as successful (`fallbackUnless`). */
export const CONDITIONS = ['accepted', 'delivered', 'read'] as const;
export type Condition = (typeof CONDITIONS)[number];

export const MESSAGE_STATUSES = [
  'processing',
  'retrying',
  'sent',
  'delivered',
  'read',
  'expired',
  'failed',
  'filtered',
  'cancelled',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/**
 * Step lifecycle:
 *
 *   pending ─▶ sending ─▶ waiting ─▶ succeeded
 *      │          │  ▲        ├────▶ failed      (failure receipt)
 *      │          │  │        └────▶ timed-out   (fallbackAfter or receipt wait elapsed)
 *      │          ▼  │
 *      │       retrying          (transient error, waiting for the retry timer)
 *      │          │
 *      ├──────────┴────────────▶ failed      (permanent error, retry budget spent, in doubt)
 *      ├─────────────────────▶ skipped     (no address, opted out, not configured, ineligible)
 *      └─────────────────────▶ cancelled   (the message finished before the step was handed over)
 *
 * A step that ended `failed` or `timed-out` still becomes `succeeded` when a late receipt for
 * one of its attempts meets its condition before the message has finished.
 */
export const STEP_STATUSES = [
  'pending',
  'sending',
  'retrying',
  'waiting',
  'succeeded',
  'skipped',
  'failed',
  'timed-out',
  'cancelled',
] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const SKIP_REASONS = ['no-address', 'opted-out', 'channel-not-configured', 'ineligible'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/**
 * Attempt lifecycle. Receipts only move an attempt forward along
 * sending → accepted → delivered → read; `failed` and `expired` end it.
 * `error` is a transient provider error (the step may retry with a new attempt);
 * `in-doubt` is an attempt that was in flight when the process died.
 */
export const ATTEMPT_STATUSES = [
  'sending',
  'accepted',
  'delivered',
  'read',
  'failed',
  'expired',
  'error',
  'in-doubt',
] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

/** Result of a send call as the provider reported it, after the channel classified it. */
export type SendOutcome =
  | {
      kind: 'accepted';
      providerMessageId: string;
      /** Every provider id of a message the provider split into parts (SMS); the first is `providerMessageId`. */
      partIds?: string[];
    }
  | {
      kind: 'permanent';
      code: string;
      message: string;
      /** The provider says the address reaches nobody (a dead page-scoped id, a number not on WhatsApp). */
      addressUnreachable?: boolean;
    }
  | { kind: 'transient'; code: string; message: string; retryAfterMs?: number };

/** State a receipt reports for an accepted attempt. */
export const RECEIPT_STATES = ['delivered', 'read', 'failed', 'expired'] as const;
export type ReceiptState = (typeof RECEIPT_STATES)[number];

export interface StepPlan {
  channel: ChannelId;
  condition: Condition;
  /** Milliseconds from the step's start after which an unmet condition moves routing on. */
  fallbackAfterMs: number | null;
}

export interface AttemptState {
  /** 1-based, per step. */
  number: number;
  status: AttemptStatus;
  providerMessageId: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  startedAt: number;
  updatedAt: number;
}

export interface StepState extends StepPlan {
  index: number;
  status: StepStatus;
  /** Skip or failure reason: a `SkipReason`, `permanent-error`, `retries-exhausted`, `receipt-failed`, `in-doubt`, … */
  reason: string | null;
  startedAt: number | null;
  endedAt: number | null;
  attempts: AttemptState[];
}

export interface MessageState {
  status: MessageStatus;
  /** Index of the step routing works on; equals `steps.length` once every step is spent. */
  currentStep: number;
  /** The step that met its condition. */
  succeededStep: number | null;
  expiresAt: number | null;
  completedAt: number | null;
  steps: StepState[];
}

/** Something that happened to a message, fed to the engine. */
export type Trigger =
  | { type: 'start' }
  | { type: 'skip'; step: number; reason: SkipReason }
  | { type: 'send-result'; step: number; attempt: number; outcome: SendOutcome }
  | { type: 'receipt'; step: number; attempt: number; state: ReceiptState; errorCode?: string | null }
  | { type: 'retry-due'; step: number }
  | { type: 'receipt-timeout'; step: number }
  | { type: 'expire' }
  | { type: 'cancel' }
  | { type: 'in-doubt'; step: number; attempt: number };

/** Timeline entries; outbound webhooks and the message timeline are built from these. */
export type EventType =
  | 'message.started'
  | 'step.skipped'
  | 'step.started'
  /** A further attempt of a step: a retry after a transient error, or a resend after an in-doubt one. */
  | 'attempt.retry'
  | 'attempt.accepted'
  | 'attempt.error'
  | 'attempt.failed'
  | 'attempt.in-doubt'
  | 'receipt.applied'
  | 'receipt.late'
  /** A receipt that would move its attempt backwards, such as `failed` after `delivered`. It is stored, not applied. */
  | 'receipt.ignored'
  | 'step.retry-scheduled'
  | 'step.succeeded'
  | 'step.failed'
  | 'step.timed-out'
  | 'message.fallback'
  | 'message.finished';

export interface RoutingEvent {
  type: EventType;
  step: number | null;
  attempt: number | null;
  data: Record<string, unknown>;
}

export type Action =
  /** Start attempt `attempt` of step `step`: resolve the address, render, call the provider. */
  | { type: 'send'; step: number; attempt: number }
  | { type: 'schedule'; job: 'retry' | 'receipt-timeout'; step: number; at: number }
  | { type: 'schedule'; job: 'expire'; step: null; at: number }
  /** A step was delivered after another step had already been handed to a provider. */
  | { type: 'double-delivery'; step: number; otherStep: number }
  | { type: 'event'; event: RoutingEvent };

export interface Decision {
  state: MessageState;
  actions: Action[];
}

export type InDoubtPolicy = 'resend' | 'next-step' | 'fail';

export interface ChannelPolicy {
  /** Attempts per step, the first included. */
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  inDoubt: InDoubtPolicy;
  /** Maximum wait for a receipt when the step sets no `fallbackAfter`; null waits until `expiresOn`. */
  maxReceiptWaitMs: number | null;
}

export interface Clock {
  now(): number;
}

export interface RoutingContext {
  clock: Clock;
  /** Uniform in [0, 1); jitter for retry backoff. */
  random(): number;
  policies: Record<ChannelId, ChannelPolicy>;
}
