import type { ChannelId, ChannelPolicy } from './types.js';

const SECOND_MS = 1_000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;

/**
 * Retry, in-doubt and receipt-wait settings per channel. These are chosen defaults, not limits
 * published by the providers; a deployment may pass its own table in the routing context.
 *
 * Every channel resends an attempt left in doubt by a crash, because a missed message is judged
 * worse than one duplicate. On channels that report delivery, a step without `fallbackAfter`
 * times out 48 hours after acceptance, so it does not wait for a receipt that will not come.
 * Email reports only acceptance, so its policy sets no receipt wait.
 */
export const DEFAULT_POLICIES: Record<ChannelId, ChannelPolicy> = {
  sms: {
    maxAttempts: 5,
    backoffBaseMs: 1 * SECOND_MS,
    backoffMaxMs: 1 * MINUTE_MS,
    inDoubt: 'resend',
    maxReceiptWaitMs: 48 * HOUR_MS,
  },
  whatsApp: {
    maxAttempts: 5,
    backoffBaseMs: 1 * SECOND_MS,
    backoffMaxMs: 1 * MINUTE_MS,
    inDoubt: 'resend',
    maxReceiptWaitMs: 48 * HOUR_MS,
  },
  fbMessenger: {
    maxAttempts: 5,
    backoffBaseMs: 1 * SECOND_MS,
    backoffMaxMs: 1 * MINUTE_MS,
    inDoubt: 'resend',
    maxReceiptWaitMs: 48 * HOUR_MS,
  },
  // Greylisting and overloaded SMTP servers defer mail with 4xx replies and accept a retry only
  // after a delay, commonly several minutes, so email backs off in minutes rather than seconds.
  email: {
    maxAttempts: 5,
    backoffBaseMs: 30 * SECOND_MS,
    backoffMaxMs: 10 * MINUTE_MS,
    inDoubt: 'resend',
    maxReceiptWaitMs: null,
  },
  appMessaging: {
    maxAttempts: 3,
    backoffBaseMs: 1 * SECOND_MS,
    backoffMaxMs: 30 * SECOND_MS,
    inDoubt: 'resend',
    maxReceiptWaitMs: 48 * HOUR_MS,
  },
};
