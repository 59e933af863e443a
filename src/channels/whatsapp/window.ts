import type { MessagingWindow } from '../types.js';

/**
 * Length of WhatsApp's customer-service window: the business may send free-form messages
 * (anything but a template) until 24 hours after the person's last message.
 */
export const SERVICE_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * Returns true when the person wrote within the last 24 hours. An inbound time after `now`,
 * which clock skew between processes can produce, counts as inside the window.
 */
export function isWithinServiceWindow(window: MessagingWindow): boolean {
  if (window.lastInboundAt === null) {
    return false;
  }
  return window.now - window.lastInboundAt < SERVICE_WINDOW_MS;
}
