/**
 * Webhooks of the Meta Graph API products Cascade sends through: the WhatsApp Cloud API and the
 * Messenger Platform. Both sign their POST bodies alike (see `signature.ts`) and confirm a new
 * callback URL with the same GET handshake.
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import { readMessengerEntries } from './webhook-messenger.js';
import { describeValue, isRecord, WebhookReader } from './webhook-reader.js';
import type { MetaWebhookParse } from './webhook-types.js';
import { readWhatsAppEntries } from './webhook-whatsapp.js';

export type { MessengerWatermarkState, MetaWebhookItem, MetaWebhookParse, WhatsAppStatusState } from './webhook-types.js';
export { MAX_EVENTS_PER_BODY } from './webhook-reader.js';

/**
 * Reads the receipts and inbound messages out of a parsed webhook body.
 *
 * Never throws for a value that `JSON.parse` returned: anything that is not a documented status, delivery, read or inbound message
 * (other webhook fields, echoes, postbacks, malformed events) lands in `skipped` with its path
 * and the reason. Items keep the order of the body, duplicates and out-of-order statuses
 * included, because the receipt store applies each once and only moves attempts forward. Within
 * one WhatsApp change, statuses come before messages.
 * Check the signature before calling this.
 *
 * @example
 * const { items, skipped } = parseMetaWebhook(JSON.parse(rawBody.toString('utf8')));
 */
export function parseMetaWebhook(body: unknown): MetaWebhookParse {
  const reader = new WebhookReader();
  if (!isRecord(body)) {
    reader.skip('body', `expected a JSON object, got ${describeValue(body)}`);
    return reader.finish();
  }
  if (!Array.isArray(body.entry)) {
    reader.skip('entry', `expected an array, got ${describeValue(body.entry)}`);
    return reader.finish();
  }

  if (body.object === 'whatsapp_business_account') {
    readWhatsAppEntries(body.entry, reader);
  } else if (body.object === 'page') {
    readMessengerEntries(body.entry, reader);
  } else {
    reader.skip('object', `${describeValue(body.object)} is not handled, only "whatsapp_business_account" and "page"`);
  }
  return reader.finish();
}

/** Meta sends a decimal number as the challenge; other word characters are accepted as well. */
const CHALLENGE = /^[A-Za-z0-9._~-]{1,256}$/;

/**
 * Compares two strings without revealing through timing where they differ. Both are hashed to
 * 32 bytes first, so `timingSafeEqual` always gets inputs of equal length.
 */
function equalInConstantTime(left: string, right: string): boolean {
  const leftDigest = createHash('sha256').update(left, 'utf8').digest();
  const rightDigest = createHash('sha256').update(right, 'utf8').digest();
  return timingSafeEqual(leftDigest, rightDigest);
}

/**
 * Checks the GET request Meta sends to confirm a webhook URL: `hub.mode` must be `subscribe`
 * and `hub.verify_token` must equal the configured token. On success the handler responds 200
 * with `challenge` as the plain-text body, and on failure 403.
 *
 * `query` is the parsed query string, whose keys keep their dots (`hub.mode`). A parameter given
 * twice is rejected. The challenge must be 1 to 256 URL-safe characters, so that echoing it
 * cannot inject markup.
 */
export function verificationChallenge(
  query: Record<string, unknown>,
  verifyToken: string,
): { ok: true; challenge: string } | { ok: false; reason: string } {
  if (verifyToken.length === 0) {
    return { ok: false, reason: 'No webhook verify token is configured. Set META_VERIFY_TOKEN (or verifyToken in the space\'s channel settings) and enter the same value at Meta.' };
  }
  const mode = query['hub.mode'];
  const token = query['hub.verify_token'];
  const challenge = query['hub.challenge'];

  if (mode !== 'subscribe') {
    return { ok: false, reason: `hub.mode is ${describeValue(mode)}, expected "subscribe"` };
  }
  if (typeof token !== 'string' || !equalInConstantTime(token, verifyToken)) {
    return { ok: false, reason: 'hub.verify_token is missing or does not match the configured verify token' };
  }
  if (typeof challenge !== 'string' || !CHALLENGE.test(challenge)) {
    return { ok: false, reason: 'hub.challenge is missing or not 1 to 256 URL-safe characters' };
  }
  return { ok: true, challenge };
}
