/** Events that `parseMetaWebhook` reads out of one WhatsApp Cloud API or Messenger webhook body. */

export type WhatsAppStatusState = 'sent' | 'delivered' | 'read' | 'failed';
export type MessengerWatermarkState = 'delivered' | 'read';

/** One event of a webhook body. Times are epoch milliseconds. */
export type MetaWebhookItem =
  | {
      kind: 'status';
      channel: 'whatsApp';
      /** The `wamid.…` id the send call returned. */
      providerMessageId: string;
      state: WhatsAppStatusState;
      /** E.164 with the leading `+`. */
      recipient: string;
      timestamp: number;
      /** The numeric code of the first entry of `errors[]` as a string, or null without errors. */
      errorCode: string | null;
      errorTitle: string | null;
      /** `metadata.phone_number_id`: the business number the message was sent from. */
      phoneNumberId: string | null;
    }
  | {
      kind: 'watermark';
      channel: 'fbMessenger';
      /**
       * Every message the Page sent to this person before `watermark` reached `state`. Messenger
       * reports delivery and reads per conversation, so a receipt covers all earlier messages.
       */
      state: MessengerWatermarkState;
      /** The person's page-scoped id: the `sender.id` of the event, who received our messages. */
      psid: string;
      /** The Page's id: `recipient.id` of the event, else the entry's `id`. */
      pageId: string | null;
      watermark: number;
      /** Ids of delivered messages, when the delivery event lists them; always empty for reads. */
      mids: string[];
    }
  | {
      kind: 'inbound';
      channel: 'whatsApp' | 'fbMessenger';
      /** E.164 with `+` for WhatsApp, the page-scoped id for Messenger. */
      from: string;
      providerMessageId: string;
      timestamp: number;
      /** The text of a text message; null for media, location, reactions and other types. */
      text: string | null;
    };

export interface MetaWebhookParse {
  /**
   * Events in the order the body lists them, duplicates included. Within one WhatsApp change,
   * statuses come before messages.
   */
  items: MetaWebhookItem[];
  /** Parts of the body that were not read, each with the path and the reason. */
  skipped: string[];
}
