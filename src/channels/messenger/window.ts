import type { MessagingWindow } from '../types.js';
import type { MessagingTypeChoice } from './render.js';

const HOUR_MS = 60 * 60 * 1000;

/** The standard messaging window: any message may be sent up to 24 hours after the person's last message. */
export const STANDARD_WINDOW_MS = 24 * HOUR_MS;
/** Messages tagged HUMAN_AGENT may be sent up to 7 days after the person's last message. */
export const HUMAN_AGENT_WINDOW_MS = 7 * 24 * HOUR_MS;

/**
 * Applies the Messenger Platform's messaging window rules (developers.facebook.com, "Send a
 * Message" and "Message Tags") to one message.
 *
 * - Inside the standard window, less than 24 hours after `lastInboundAt`, every message may be sent.
 * - Outside it, only `MESSAGE_TAG` messages may be sent:
 *   - `HUMAN_AGENT` until 7 days after `lastInboundAt`, and never when `lastInboundAt` is null.
 *   - `ACCOUNT_UPDATE`, `CONFIRMED_EVENT_UPDATE` and `POST_PURCHASE_UPDATE` at any time, also
 *     when Cascade has seen no message from the person: a page-scoped id exists only after the
 *     person has contacted the Page, so the conversation was opened by them.
 *
 * A `lastInboundAt` later than `now` (clock skew between hosts) counts as inside the window.
 * Returns `ineligible` when Meta would reject the message, else null.
 */
export function checkMessagingWindow(choice: MessagingTypeChoice, window: MessagingWindow): 'ineligible' | null {
  const sinceInbound = window.lastInboundAt === null ? null : window.now - window.lastInboundAt;
  if (sinceInbound !== null && sinceInbound < STANDARD_WINDOW_MS) {
    return null;
  }
  if (choice.messagingType !== 'MESSAGE_TAG' || choice.tag === null) {
    return 'ineligible';
  }
  if (choice.tag === 'HUMAN_AGENT') {
    return sinceInbound !== null && sinceInbound < HUMAN_AGENT_WINDOW_MS ? null : 'ineligible';
  }
  return null;
}
