import type { Logger } from 'pino';
import type { WhatsAppBusiness } from './graph-payloads.js';
import type { GraphTestRecipients } from './graph-recipients.js';
import type { WebhookSender } from './graph-webhooks.js';

/** State and settings shared by the sandbox's request handlers. */
export interface GraphContext {
  logger: Logger;
  recipients: GraphTestRecipients;
  webhooks: WebhookSender;
  /** The business account and number named in inbound WhatsApp webhooks. */
  business: WhatsAppBusiness;
  pageId: string;
  /** Delay from acceptance to the `delivered` (or `failed`) webhook, in ms. */
  statusDelayMs: number;
  /** Delay from the `delivered` webhook to the `read` webhook, in ms. */
  readDelayMs: number;
}

/** The response to one Graph API call, with what the sandbox records about it. */
export interface HandledSend {
  status: number;
  body: unknown;
  /** The recipient as the request named it: WhatsApp `to` or Messenger `recipient.id`; null when missing. */
  to: string | null;
  providerMessageId: string | null;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Counts characters as Unicode code points. */
export function characterCount(text: string): number {
  let count = 0;
  for (const _ of text) {
    count += 1;
  }
  return count;
}
