import { characterCount, isRecord, type GraphContext, type HandledSend } from './graph-context.js';
import { GRAPH_ERRORS, whatsAppError } from './graph-errors.js';
import { newWamid, whatsAppStatusPayload, type WhatsAppBusiness, type WhatsAppStatus } from './graph-payloads.js';
import type { WhatsAppBehaviour } from './graph-recipients.js';

/** Cloud API limit on `text.body`, in characters. */
const MAX_TEXT_LENGTH = 4096;
const WINDOW_MS = 24 * 60 * 60 * 1000;
const MESSAGE_TYPES = new Set(['text', 'template', 'image', 'video', 'audio', 'document', 'sticker', 'interactive', 'location', 'contacts', 'reaction']);
const MEDIA_TYPES = new Set(['image', 'video', 'audio', 'document', 'sticker']);

/**
 * Handles `POST /{version}/{phone-number-id}/messages` after the token was checked.
 *
 * Checks, in order: the request shape (rejected with error 100), the rate limit of the
 * throttled test number (130429), and the 24-hour customer-service window (131047) for every
 * message but a template. An accepted message gets a `wamid` and its status webhooks.
 *
 * NOTE: the Cloud API can also accept a free-form message outside the window and report 131047
 * later in a `failed` status. The sandbox rejects it at send time, so the error is visible in
 * the send result.
 */
export function handleWhatsAppSend(context: GraphContext, phoneNumberId: string, body: unknown): HandledSend {
  const to = isRecord(body) && typeof body['to'] === 'string' ? body['to'] : null;
  const invalid = findInvalidParameter(body);
  if (invalid !== null) {
    return { ...whatsAppError(GRAPH_ERRORS.invalidParameter, invalid), to, providerMessageId: null };
  }
  const message = body as Record<string, unknown>;
  const digits = (to ?? '').replace(/^\+/, '');
  const type = typeof message['type'] === 'string' ? message['type'] : 'text';
  const behaviour = context.recipients.whatsApp(digits);

  if (context.recipients.throttle(digits, behaviour)) {
    context.logger.info({ to: digits }, 'sandbox Graph API rate limited a WhatsApp send');
    const details = 'Cloud API message throughput has been reached. Try again later.';
    return { ...whatsAppError(GRAPH_ERRORS.throughputReached, details), to, providerMessageId: null };
  }

  const now = Date.now();
  const lastInboundAt = context.recipients.lastInboundAt('whatsApp', digits);
  if (type !== 'template' && (lastInboundAt === null || now - lastInboundAt >= WINDOW_MS)) {
    const details = 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.';
    return { ...whatsAppError(GRAPH_ERRORS.reEngagement, details), to, providerMessageId: null };
  }

  const wamid = newWamid();
  const business: WhatsAppBusiness = { ...context.business, phoneNumberId };
  scheduleStatuses(context, business, wamid, digits, behaviour);
  return {
    status: 200,
    body: {
      messaging_product: 'whatsapp',
      contacts: [{ input: to, wa_id: digits }],
      messages: [type === 'template' ? { id: wamid, message_status: 'accepted' } : { id: wamid }],
    },
    to,
    providerMessageId: wamid,
  };
}

/** Posts `sent` at once, then `delivered` after `statusDelayMs` and `read` after `readDelayMs` more; or `failed` for a failing recipient. */
function scheduleStatuses(context: GraphContext, business: WhatsAppBusiness, wamid: string, digits: string, behaviour: WhatsAppBehaviour): void {
  const post = (delayMs: number, status: WhatsAppStatus): void => {
    const error = behaviour.kind === 'fail-after-accept' ? { code: behaviour.errorCode, title: behaviour.title, details: behaviour.details } : undefined;
    context.webhooks.postLater(delayMs, { channel: 'whatsApp', event: status, providerMessageId: wamid }, () =>
      whatsAppStatusPayload(business, {
        id: wamid,
        status,
        recipientId: digits,
        at: Date.now(),
        ...(status === 'failed' && error !== undefined ? { error } : {}),
      }),
    );
  };

  if (behaviour.kind === 'fail-after-accept') {
    post(context.statusDelayMs, 'failed');
    return;
  }
  post(0, 'sent');
  post(context.statusDelayMs, 'delivered');
  if (behaviour.kind === 'deliver' && behaviour.read) {
    post(context.statusDelayMs + context.readDelayMs, 'read');
  }
}

/** Returns the `error_data.details` for a request the Cloud API would reject with error 100, or null. */
function findInvalidParameter(body: unknown): string | null {
  if (!isRecord(body)) {
    return 'The request body must be a JSON object.';
  }
  if (body['messaging_product'] !== 'whatsapp') {
    return 'The parameter messaging_product is required and must be "whatsapp".';
  }
  const to = body['to'];
  if (typeof to !== 'string' || !/^\+?[1-9]\d{6,14}$/.test(to)) {
    return 'The parameter to is required and must be a phone number in international format.';
  }
  const type = body['type'] ?? 'text';
  if (typeof type !== 'string' || !MESSAGE_TYPES.has(type)) {
    return `Parameter type must be one of ${[...MESSAGE_TYPES].join(', ')}.`;
  }
  const payload = body[type];
  if (type === 'contacts') {
    return Array.isArray(payload) && payload.length > 0 ? null : 'The parameter contacts is required.';
  }
  if (!isRecord(payload)) {
    return `The parameter ${type} is required.`;
  }

  if (type === 'text') {
    const text = payload['body'];
    if (typeof text !== 'string' || text.trim() === '') {
      return "The parameter text['body'] is required.";
    }
    if (characterCount(text) > MAX_TEXT_LENGTH) {
      return `Param text['body'] must be at most ${MAX_TEXT_LENGTH} characters long.`;
    }
  }
  if (type === 'template') {
    const language = payload['language'];
    if (typeof payload['name'] !== 'string' || payload['name'] === '') {
      return "The parameter template['name'] is required.";
    }
    if (!isRecord(language) || typeof language['code'] !== 'string' || language['code'] === '') {
      return "The parameter template['language']['code'] is required.";
    }
  }
  if (MEDIA_TYPES.has(type) && typeof payload['link'] !== 'string' && typeof payload['id'] !== 'string') {
    return `The parameter ${type} requires either an id or a link.`;
  }
  return null;
}
