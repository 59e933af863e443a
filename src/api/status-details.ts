import type { MessageView, NewMessage } from '../store/types.js';
import { formatDuration } from './duration.js';

type StepView = MessageView['steps'][number];

const REASONS: Record<string, string> = {
  'no-address': 'no address for the channel',
  'opted-out': 'the profile opted out of the channel',
  'channel-not-configured': 'the channel is not configured',
  ineligible: 'the message is not eligible for the channel',
  'permanent-error': 'the provider rejected it',
  'retries-exhausted': 'temporary errors lasted through every retry',
  'receipt-failed': 'the provider reported it as not delivered',
  'receipt-expired': 'the provider reported that it expired before delivery',
  'in-doubt': 'the process stopped during the send call',
};

/** Describes the status of a message just accepted, before routing has started. */
export function describeAccepted(message: NewMessage): string {
  const first = message.steps[0];
  const start = first ? ` with step 1 (${first.channel})` : '';
  if (message.sendAt !== null && message.sendAt > message.createdAt) {
    return `Scheduled. Routing starts at ${new Date(message.sendAt).toISOString()}${start}.`;
  }
  return `Accepted. Routing starts${start}.`;
}

/** Describes in one or a few sentences why a message has its status. */
export function describeStatus(view: MessageView): string {
  const total = view.steps.length;
  const succeeded = view.succeededStep === null ? undefined : view.steps[view.succeededStep];

  switch (view.status) {
    case 'delivered':
    case 'read':
    case 'sent':
      if (succeeded) {
        return `${capitalize(view.status)} on ${succeeded.channel} (step ${succeeded.index + 1} of ${total}).`;
      }
      return describeActive(view) ?? `${capitalize(view.status)}.`;
    case 'processing':
    case 'retrying':
      return describeActive(view) ?? describeNotStarted(view);
    case 'failed':
      return `No step succeeded. ${describeEndedSteps(view.steps)}`.trim();
    case 'filtered':
      return `Not sent because every step was skipped. ${describeEndedSteps(view.steps)}`.trim();
    case 'expired': {
      const at = view.expiresAt === null ? '' : ` at ${new Date(view.expiresAt).toISOString()}`;
      return `Expired${at} before any step succeeded.`;
    }
    case 'cancelled':
      return 'Cancelled on request before any step succeeded.';
  }
}

function describeNotStarted(view: MessageView): string {
  if (view.sendAt !== null && view.steps.every((step) => step.status === 'pending')) {
    return `Scheduled. Routing starts at ${new Date(view.sendAt).toISOString()}.`;
  }
  return 'Accepted. Routing has not started yet.';
}

/** Drops the period a provider's message ends with, because the sentence around it adds its own. */
function withoutFinalPeriod(text: string): string {
  return text.endsWith('.') ? text.slice(0, -1) : text;
}

/** Describes the step routing is working on, or returns null when no step is in progress. */
function describeActive(view: MessageView): string | null {
  const active = view.steps.find((step) => step.status === 'sending' || step.status === 'retrying' || step.status === 'waiting');
  if (!active) return null;

  const label = `Step ${active.index + 1} of ${view.steps.length} (${active.channel})`;
  if (active.status === 'sending') return `${label} is being sent.`;
  if (active.status === 'retrying') {
    const last = active.attempts[active.attempts.length - 1];
    const cause = last?.errorMessage ?? last?.errorCode;
    return `${label} is waiting to retry after a temporary error${cause ? `: ${withoutFinalPeriod(cause)}` : ''}.`;
  }
  const limit = active.fallbackAfterMs === null ? '' : ` for up to ${formatDuration(active.fallbackAfterMs)}`;
  return `${label} was accepted by the provider and waits${limit} until it is ${active.condition}.`;
}

function describeEndedSteps(steps: StepView[]): string {
  return steps.map(describeEndedStep).join(' ');
}

function describeEndedStep(step: StepView): string {
  const label = `Step ${step.index + 1} (${step.channel})`;
  const reason = step.reason === null ? null : (REASONS[step.reason] ?? step.reason);
  const last = step.attempts[step.attempts.length - 1];
  const error = last?.errorMessage ?? last?.errorCode ?? null;
  const because = reason !== null && error !== null ? `${reason} (${error})` : (reason ?? error ?? '');

  switch (step.status) {
    case 'skipped':
      return `${label} was skipped${because ? `: ${withoutFinalPeriod(because)}` : ''}.`;
    case 'failed':
      return `${label} failed${because ? `: ${withoutFinalPeriod(because)}` : ''}.`;
    case 'timed-out':
      return `${label} timed out before it was ${step.condition}.`;
    case 'cancelled':
      return `${label} was cancelled.`;
    default:
      return `${label} is ${step.status}.`;
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
