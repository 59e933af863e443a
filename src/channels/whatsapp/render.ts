import type { ChannelContent } from '../types.js';
import {
  CHANNEL_SET_FIELDS,
  characterCount,
  MAX_TEXT_LENGTH,
  validateNativeMessage,
  type WhatsAppContentError,
} from './native-message.js';

/** Fields of `channelOptions.whatsApp`. */
export const CHANNEL_OPTION_FIELDS = ['enableUrlPreview'] as const;

/** A Cloud API message object without the fields the channel sets per recipient. */
export type WhatsAppMessage = Record<string, unknown> & { type: string };

export type RenderWhatsAppResult = { ok: true; message: WhatsAppMessage } | { ok: false; errors: WhatsAppContentError[] };

/**
 * Builds the Cloud API message for one send.
 *
 * - `customBody.whatsApp` is sent as given, after `validateNativeMessage` accepts it. Template
 *   messages come this way, as `{ type: 'template', template: { name, language, components } }`.
 * - Otherwise the message is a text message. `title`, when set, becomes a first line in bold
 *   (`*title*`, WhatsApp's markup), followed by `body` on the next line. A title that contains
 *   `*` is written without the markers, because they would pair with its own asterisks.
 *   `channelOptions.whatsApp.enableUrlPreview` sets `preview_url` (default false).
 *
 * Text longer than 4096 characters, the Cloud API limit, is invalid. Merge fields are applied
 * before rendering, so a profile property can make content invalid that passed validation when
 * the request was accepted.
 */
export function renderWhatsAppMessage(content: ChannelContent): RenderWhatsAppResult {
  const errors = validateWhatsAppContent(content);
  if (errors.length > 0) {
    return { ok: false, errors };
  }

  if (content.custom !== null) {
    const message: Record<string, unknown> = { ...content.custom };
    for (const field of CHANNEL_SET_FIELDS) {
      delete message[field];
    }
    // The Cloud API reads a message without `type` as text, so the request names that type explicitly.
    const type = typeof message['type'] === 'string' ? message['type'] : 'text';
    return { ok: true, message: { ...message, type } };
  }

  const previewUrl = content.options?.['enableUrlPreview'] === true;
  return {
    ok: true,
    message: { type: 'text', text: { preview_url: previewUrl, body: formatText(content.body, content.title) } },
  };
}

/**
 * Checks the WhatsApp-specific parts of a message: `customBody.whatsApp` (see
 * `validateNativeMessage`), `channelOptions.whatsApp`, and the length of the generated text.
 * Returns an empty list when the content is valid.
 */
export function validateWhatsAppContent(content: ChannelContent): WhatsAppContentError[] {
  if (content.custom !== null) {
    return validateNativeMessage(content.custom);
  }

  const errors: WhatsAppContentError[] = [];
  const options = content.options;
  if (options !== null) {
    for (const key of Object.keys(options)) {
      if (!(CHANNEL_OPTION_FIELDS as readonly string[]).includes(key)) {
        errors.push({
          pointer: `/channelOptions/whatsApp/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`,
          message: `is not a supported field (allowed: ${CHANNEL_OPTION_FIELDS.join(', ')})`,
        });
      }
    }
    const preview = options['enableUrlPreview'];
    if (preview !== undefined && typeof preview !== 'boolean') {
      errors.push({ pointer: '/channelOptions/whatsApp/enableUrlPreview', message: `must be a boolean, got ${typeof preview}` });
    }
  }

  const text = formatText(content.body, content.title);
  if (text.trim() === '') {
    errors.push({ pointer: '/body', message: 'is empty after merge fields were applied, but a WhatsApp text message needs text' });
  }
  const length = characterCount(text);
  if (length > MAX_TEXT_LENGTH) {
    const withTitle = content.title === null ? '' : ' with the title line';
    errors.push({ pointer: '/body', message: `is ${length} characters long${withTitle}, but a WhatsApp text message takes at most ${MAX_TEXT_LENGTH}` });
  }
  return errors;
}

/**
 * Returns true when the content is a template message. Templates may be sent outside the
 * 24-hour customer-service window, and every other message is free-form. A malformed template
 * counts as a template, so that its send fails as invalid content instead of being skipped.
 */
export function isTemplateMessage(content: ChannelContent): boolean {
  return content.custom !== null && content.custom['type'] === 'template';
}

/** Builds the request body of `POST /{version}/{phone-number-id}/messages` for one recipient. */
export function buildRequestBody(message: WhatsAppMessage, to: string): Record<string, unknown> {
  return { messaging_product: 'whatsapp', recipient_type: 'individual', to, ...message };
}

/** Joins the optional title, as a bold first line, and the body. */
export function formatText(body: string, title: string | null): string {
  const heading = title?.replace(/\s+/g, ' ').trim() ?? '';
  if (heading === '') {
    return body;
  }
  return heading.includes('*') ? `${heading}\n${body}` : `*${heading}*\n${body}`;
}
