import { normalizePhoneNumber } from '../channels/sms/phone.js';
import { isRecord, type GraphContext } from './graph-context.js';
import { messengerInboundPayload, newMid, newWamid, whatsAppInboundPayload } from './graph-payloads.js';

/** Longest `text` accepted by `POST /sandbox/inbound`, in UTF-16 code units. */
const MAX_INBOUND_TEXT_LENGTH = 4096;
const MAX_FROM_LENGTH = 256;

export interface InboundResponse {
  status: number;
  body: Record<string, unknown>;
}

/**
 * Handles `POST /sandbox/inbound` with `{ "channel": "whatsApp" | "fbMessenger", "from", "text" }`:
 * stores the time as the person's last inbound message, which opens WhatsApp's 24-hour window
 * in the sandbox, and posts the matching signed inbound webhook.
 *
 * Returns 202 when the webhook is queued, 400 for invalid input, and 409 when no webhook URL
 * is set, because the message could reach no one.
 */
export function handleInbound(context: GraphContext, body: unknown): InboundResponse {
  if (!isRecord(body)) {
    return invalid('the body must be a JSON object such as {"channel":"whatsApp","from":"+12025550111","text":"Hi"}');
  }
  const { channel, from, text } = body;
  if (channel !== 'whatsApp' && channel !== 'fbMessenger') {
    return invalid(`"channel" must be "whatsApp" or "fbMessenger", got ${JSON.stringify(channel) ?? 'nothing'}`);
  }
  if (typeof from !== 'string' || from.trim() === '' || from.length > MAX_FROM_LENGTH) {
    return invalid(`"from" must be a non-empty string of at most ${MAX_FROM_LENGTH} characters: a phone number for whatsApp, a page-scoped id for fbMessenger`);
  }
  if (typeof text !== 'string' || text === '' || text.length > MAX_INBOUND_TEXT_LENGTH) {
    return invalid(`"text" must be a non-empty string of at most ${MAX_INBOUND_TEXT_LENGTH} characters`);
  }
  if (context.webhooks.url === null) {
    return {
      status: 409,
      body: { error: { message: 'No webhook URL is set, so the inbound message cannot be delivered. Set it with setWebhookUrl first.' } },
    };
  }

  const at = Date.now();
  if (channel === 'whatsApp') {
    const number = normalizePhoneNumber(from);
    if (!number.ok) {
      return invalid(`"from" is not a valid phone number: ${number.reason}`);
    }
    const digits = number.e164.slice(1);
    const id = newWamid();
    context.recipients.recordInbound('whatsApp', digits, at);
    context.webhooks.postLater(0, { channel: 'whatsApp', event: 'inbound', providerMessageId: id }, () =>
      whatsAppInboundPayload(context.business, { id, from: digits, at, text }),
    );
    context.logger.info({ channel, providerMessageId: id }, 'sandbox Graph API queued an inbound WhatsApp message');
    return { status: 202, body: { channel, from: digits, messageId: id } };
  }

  const psid = from.trim();
  const mid = newMid();
  context.recipients.recordInbound('fbMessenger', psid, at);
  context.webhooks.postLater(0, { channel: 'fbMessenger', event: 'inbound', providerMessageId: mid }, () =>
    messengerInboundPayload(context.pageId, { mid, psid, at, text }),
  );
  context.logger.info({ channel, providerMessageId: mid }, 'sandbox Graph API queued an inbound Messenger message');
  return { status: 202, body: { channel, from: psid, messageId: mid } };
}

function invalid(message: string): InboundResponse {
  return { status: 400, body: { error: { message: `Invalid inbound message: ${message}.` } } };
}
