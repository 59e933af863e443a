import { randomBytes } from 'node:crypto';
import { WHATSAPP_ERROR_CODES_URL } from './graph-errors.js';

/**
 * Webhook bodies in the shapes Meta posts: the WhatsApp Cloud API `messages` field (statuses
 * and inbound messages) and the Messenger Platform `messages`, `message_deliveries` and
 * `message_reads` fields. Times are epoch milliseconds on input; WhatsApp writes them as a
 * string of seconds and Messenger as a number of milliseconds, as Meta does.
 */

/** The business account and number that WhatsApp webhooks name. */
export interface WhatsAppBusiness {
  businessAccountId: string;
  displayPhoneNumber: string;
  phoneNumberId: string;
}

export type WhatsAppStatus = 'sent' | 'delivered' | 'read' | 'failed';

export interface WhatsAppStatusError {
  code: number;
  title: string;
  details: string;
}

export function whatsAppStatusPayload(
  business: WhatsAppBusiness,
  status: { id: string; status: WhatsAppStatus; recipientId: string; at: number; error?: WhatsAppStatusError },
): unknown {
  const error = status.error;
  return whatsAppEnvelope(business, {
    statuses: [
      {
        id: status.id,
        status: status.status,
        timestamp: unixSeconds(status.at),
        recipient_id: status.recipientId,
        ...(error === undefined
          ? {}
          : {
              errors: [
                {
                  code: error.code,
                  title: error.title,
                  message: error.title,
                  error_data: { details: error.details },
                  href: WHATSAPP_ERROR_CODES_URL,
                },
              ],
            }),
      },
    ],
  });
}

export function whatsAppInboundPayload(
  business: WhatsAppBusiness,
  message: { id: string; from: string; at: number; text: string },
): unknown {
  return whatsAppEnvelope(business, {
    contacts: [{ profile: { name: 'Sandbox User' }, wa_id: message.from }],
    messages: [{ from: message.from, id: message.id, timestamp: unixSeconds(message.at), type: 'text', text: { body: message.text } }],
  });
}

export function messengerDeliveryPayload(pageId: string, psid: string, mids: string[], watermark: number): unknown {
  return messengerEnvelope(pageId, watermark, { sender: { id: psid }, recipient: { id: pageId }, timestamp: watermark, delivery: { mids, watermark } });
}

export function messengerReadPayload(pageId: string, psid: string, watermark: number): unknown {
  return messengerEnvelope(pageId, watermark, { sender: { id: psid }, recipient: { id: pageId }, timestamp: watermark, read: { watermark } });
}

export function messengerInboundPayload(pageId: string, message: { mid: string; psid: string; at: number; text: string }): unknown {
  return messengerEnvelope(pageId, message.at, {
    sender: { id: message.psid },
    recipient: { id: pageId },
    timestamp: message.at,
    message: { mid: message.mid, text: message.text },
  });
}

/** Generates a WhatsApp message id: `wamid.` and base64 text, the form the Cloud API returns. */
export function newWamid(): string {
  return `wamid.${randomBytes(30).toString('base64')}`;
}

/** Generates a Messenger message id: `m_` and URL-safe base64 text. */
export function newMid(): string {
  return `m_${randomBytes(24).toString('base64url')}`;
}

function whatsAppEnvelope(business: WhatsAppBusiness, content: Record<string, unknown>): unknown {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: business.businessAccountId,
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: business.displayPhoneNumber, phone_number_id: business.phoneNumberId },
              ...content,
            },
          },
        ],
      },
    ],
  };
}

function messengerEnvelope(pageId: string, time: number, event: Record<string, unknown>): unknown {
  return { object: 'page', entry: [{ id: pageId, time, messaging: [event] }] };
}

function unixSeconds(epochMs: number): string {
  return String(Math.floor(epochMs / 1000));
}
