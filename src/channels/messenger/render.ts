import type { ChannelContent } from '../types.js';

/** Values of the Send API `messaging_type` field. */
export const MESSAGING_TYPES = ['RESPONSE', 'UPDATE', 'MESSAGE_TAG'] as const;
export type MessagingType = (typeof MESSAGING_TYPES)[number];

/**
 * Message tags that let a Page send outside the 24-hour standard messaging window, from the
 * Messenger Platform docs (developers.facebook.com, Send API reference and "Message Tags").
 * Meta cut the general-purpose tags to these four on 4 March 2020, so older tags are rejected.
 */
export const MESSAGE_TAGS = ['ACCOUNT_UPDATE', 'CONFIRMED_EVENT_UPDATE', 'POST_PURCHASE_UPDATE', 'HUMAN_AGENT'] as const;
export type MessageTag = (typeof MESSAGE_TAGS)[number];

/** Values of the Send API `notification_type` field. */
export const NOTIFICATION_TYPES = ['REGULAR', 'SILENT_PUSH', 'NO_PUSH'] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

export const MEDIA_ATTACHMENT_TYPES = ['image', 'audio', 'video', 'file'] as const;
export type MediaAttachmentType = (typeof MEDIA_ATTACHMENT_TYPES)[number];
export const ATTACHMENT_TYPES = [...MEDIA_ATTACHMENT_TYPES, 'template'] as const;

/** Quick reply kinds listed in the Send API's Quick Replies docs. The older `location` kind is not among them. */
export const QUICK_REPLY_CONTENT_TYPES = ['text', 'user_phone_number', 'user_email'] as const;
export type QuickReplyContentType = (typeof QUICK_REPLY_CONTENT_TYPES)[number];

/** Limits of the Send API reference (developers.facebook.com, Send API and Quick Replies pages). */
export const MESSENGER_LIMITS = {
  /** Characters of `message.text`. */
  textLength: 2000,
  quickReplies: 13,
  /** Characters of a quick reply title. */
  quickReplyTitleLength: 20,
  quickReplyPayloadLength: 1000,
  /** `message.metadata` must be shorter than 1000 characters. */
  metadataLength: 999,
} as const;

/** Fields of `customBody.fbMessenger`: the Send API `message` object plus three request fields. */
export const CUSTOM_BODY_FIELDS = ['text', 'attachment', 'quick_replies', 'metadata', 'messaging_type', 'tag', 'notification_type'] as const;
/** Fields of `channelOptions.fbMessenger`. */
export const CHANNEL_OPTION_FIELDS = ['messagingType', 'messageTag'] as const;

/** Messaging type used when neither the custom body nor the channel options set one. */
export const DEFAULT_MESSAGING_TYPE: MessagingType = 'UPDATE';

export interface MessengerQuickReply {
  content_type: QuickReplyContentType;
  title?: string;
  payload?: string | number;
  image_url?: string;
}

export type MessengerAttachment =
  | { type: MediaAttachmentType; payload: { url: string; is_reusable?: boolean } | { attachment_id: string } }
  | { type: 'template'; payload: { template_type: string; [field: string]: unknown } };

/** The Send API `message` object. Exactly one of `text` and `attachment` is set. */
export interface MessengerMessage {
  text?: string;
  attachment?: MessengerAttachment;
  quick_replies?: MessengerQuickReply[];
  metadata?: string;
}

/** The body of one Send API request, less `recipient`, which the client adds. */
export interface MessengerSendBody {
  messaging_type: MessagingType;
  tag?: MessageTag;
  notification_type?: NotificationType;
  message: MessengerMessage;
}

export interface MessagingTypeChoice {
  messagingType: MessagingType;
  /** Set exactly when `messagingType` is `MESSAGE_TAG`. */
  tag: MessageTag | null;
}

/** One invalid field, located by JSON pointer from the root of the send request. */
export interface MessengerContentError {
  pointer: string;
  message: string;
}

export type RenderMessengerResult = { ok: true; body: MessengerSendBody } | { ok: false; errors: MessengerContentError[] };
export type MessagingTypeResult = { ok: true; choice: MessagingTypeChoice } | { ok: false; errors: MessengerContentError[] };

const CUSTOM_POINTER = '/customBody/fbMessenger';
const OPTIONS_POINTER = '/channelOptions/fbMessenger';

/**
 * Builds the Send API request body for one message.
 *
 * - Without a custom body, `message.text` is the title, a line break and the body, or the
 *   body alone when the title is null or blank. The text is not cut: more than 2000
 *   characters is an error.
 * - `customBody.fbMessenger` replaces the generated message. It holds the fields of the Send
 *   API `message` object (`text` or `attachment`, optional `quick_replies` and `metadata`),
 *   which are checked against the Send API rules and passed through. It may also set the
 *   request fields `messaging_type`, `tag` and `notification_type`.
 * - The messaging type and tag come from the custom body when it sets either of them, else
 *   from `channelOptions.fbMessenger` (`messagingType`, `messageTag`), else `UPDATE` is used.
 *   See `resolveMessagingType`.
 *
 * Returns every problem found, each with the JSON pointer of its field.
 *
 * @example
 * renderMessenger({ body: 'Arrives at 10:00', title: 'Parcel', custom: null, options: { messageTag: 'POST_PURCHASE_UPDATE' } });
 * // { ok: true, body: { messaging_type: 'MESSAGE_TAG', tag: 'POST_PURCHASE_UPDATE', message: { text: 'Parcel\nArrives at 10:00' } } }
 */
export function renderMessenger(content: ChannelContent): RenderMessengerResult {
  const errors: MessengerContentError[] = [];
  const typeResult = resolveMessagingType(content);
  if (!typeResult.ok) {
    errors.push(...typeResult.errors);
  }

  const custom = content.custom;
  let message: MessengerMessage | null;
  let notificationType: NotificationType | null = null;
  if (custom === null) {
    message = renderGeneratedMessage(content, errors);
  } else {
    checkKnownFields(custom, CUSTOM_BODY_FIELDS, CUSTOM_POINTER, errors);
    message = checkCustomMessage(custom, errors);
    notificationType = checkEnumOrAbsent(custom['notification_type'], NOTIFICATION_TYPES, `${CUSTOM_POINTER}/notification_type`, errors);
  }

  if (errors.length > 0 || !typeResult.ok || message === null) {
    return { ok: false, errors };
  }
  const body: MessengerSendBody = { messaging_type: typeResult.choice.messagingType, message };
  if (typeResult.choice.tag !== null) {
    body.tag = typeResult.choice.tag;
  }
  if (notificationType !== null) {
    body.notification_type = notificationType;
  }
  return { ok: true, body };
}

/**
 * Chooses the messaging type and tag of a message.
 *
 * The custom body's `messaging_type` and `tag` are used when it sets either; otherwise the
 * channel options' `messagingType` and `messageTag`. The two sources are never mixed. A tag
 * without a messaging type implies `MESSAGE_TAG`. `MESSAGE_TAG` needs a tag, and a tag with
 * another messaging type is an error. With neither set the type is `UPDATE`, because Cascade
 * sends messages the business starts, and Meta defines `RESPONSE` as a reply to a message
 * the person sent.
 */
export function resolveMessagingType(content: ChannelContent): MessagingTypeResult {
  const errors: MessengerContentError[] = [];
  const custom = content.custom;
  const options = content.options;

  let typePointer: string;
  let tagPointer: string;
  let rawType: unknown;
  let rawTag: unknown;
  if (custom !== null && (custom['messaging_type'] !== undefined || custom['tag'] !== undefined)) {
    typePointer = `${CUSTOM_POINTER}/messaging_type`;
    tagPointer = `${CUSTOM_POINTER}/tag`;
    rawType = custom['messaging_type'];
    rawTag = custom['tag'];
  } else {
    if (options !== null) {
      checkKnownFields(options, CHANNEL_OPTION_FIELDS, OPTIONS_POINTER, errors);
    }
    typePointer = `${OPTIONS_POINTER}/messagingType`;
    tagPointer = `${OPTIONS_POINTER}/messageTag`;
    rawType = options?.['messagingType'];
    rawTag = options?.['messageTag'];
  }

  const type = checkEnumOrAbsent(rawType, MESSAGING_TYPES, typePointer, errors);
  const tag = checkEnumOrAbsent(rawTag, MESSAGE_TAGS, tagPointer, errors);
  if (errors.length > 0) {
    return { ok: false, errors };
  }

  const messagingType = type ?? (tag !== null ? 'MESSAGE_TAG' : DEFAULT_MESSAGING_TYPE);
  if (messagingType === 'MESSAGE_TAG' && tag === null) {
    errors.push({ pointer: tagPointer, message: `is required when the messaging type is MESSAGE_TAG (allowed: ${MESSAGE_TAGS.join(', ')})` });
  }
  if (messagingType !== 'MESSAGE_TAG' && tag !== null) {
    errors.push({ pointer: typePointer, message: `is ${messagingType}, but a tag is sent only with the messaging type MESSAGE_TAG` });
  }
  if (errors.length > 0) {
    return { ok: false, errors };
  }
  return { ok: true, choice: { messagingType, tag } };
}

function renderGeneratedMessage(content: ChannelContent, errors: MessengerContentError[]): MessengerMessage | null {
  const title = content.title !== null && content.title.trim() !== '' ? content.title : null;
  let text: string;
  if (title === null) {
    text = content.body;
  } else if (content.body === '') {
    text = title;
  } else {
    text = `${title}\n${content.body}`;
  }

  const length = characterCount(text);
  if (text.trim() === '') {
    errors.push({ pointer: '/body', message: 'is empty, but a Messenger text message needs at least one visible character' });
    return null;
  }
  if (length > MESSENGER_LIMITS.textLength) {
    const source = title === null ? 'is' : 'together with the title is';
    errors.push({
      pointer: '/body',
      message: `${source} ${length} characters long, but Messenger allows at most ${MESSENGER_LIMITS.textLength}; shorten it or send a customBody.fbMessenger`,
    });
    return null;
  }
  return { text };
}

function checkCustomMessage(custom: Record<string, unknown>, errors: MessengerContentError[]): MessengerMessage | null {
  const before = errors.length;
  const message: MessengerMessage = {};

  const hasText = custom['text'] !== undefined;
  const hasAttachment = custom['attachment'] !== undefined;
  if (hasText === hasAttachment) {
    const problem = hasText ? 'sets both text and attachment' : 'sets neither text nor attachment';
    errors.push({ pointer: CUSTOM_POINTER, message: `${problem}, but a Messenger message has exactly one of them` });
  }

  if (hasText) {
    const text = checkText(custom['text'], `${CUSTOM_POINTER}/text`, MESSENGER_LIMITS.textLength, errors);
    if (text !== null) message.text = text;
  }
  if (hasAttachment) {
    const attachment = checkAttachment(custom['attachment'], `${CUSTOM_POINTER}/attachment`, errors);
    if (attachment !== null) message.attachment = attachment;
  }
  if (custom['quick_replies'] !== undefined) {
    const quickReplies = checkQuickReplies(custom['quick_replies'], `${CUSTOM_POINTER}/quick_replies`, errors);
    if (quickReplies !== null) message.quick_replies = quickReplies;
  }
  if (custom['metadata'] !== undefined) {
    const metadata = checkText(custom['metadata'], `${CUSTOM_POINTER}/metadata`, MESSENGER_LIMITS.metadataLength, errors);
    if (metadata !== null) message.metadata = metadata;
  }
  return errors.length === before ? message : null;
}

function checkAttachment(value: unknown, pointer: string, errors: MessengerContentError[]): MessengerAttachment | null {
  if (!isRecord(value)) {
    errors.push({ pointer, message: `must be an object with type and payload, got ${describeType(value)}` });
    return null;
  }
  checkKnownFields(value, ['type', 'payload'], pointer, errors);
  const type = checkEnum(value['type'], ATTACHMENT_TYPES, `${pointer}/type`, errors);
  const payload = value['payload'];
  if (!isRecord(payload)) {
    errors.push({ pointer: `${pointer}/payload`, message: `must be an object, got ${describeType(payload)}` });
    return null;
  }
  if (type === null) {
    return null;
  }

  if (type === 'template') {
    const templateType = payload['template_type'];
    if (typeof templateType !== 'string' || templateType.trim() === '') {
      errors.push({ pointer: `${pointer}/payload/template_type`, message: 'must be a non-empty string such as "generic" or "button"' });
      return null;
    }
    // The template fields beyond template_type are passed through unchecked; Meta reports mistakes in them.
    return { type, payload: { ...payload, template_type: templateType } };
  }

  return checkMediaPayload(type, payload, `${pointer}/payload`, errors);
}

function checkMediaPayload(
  type: MediaAttachmentType,
  payload: Record<string, unknown>,
  pointer: string,
  errors: MessengerContentError[],
): MessengerAttachment | null {
  const before = errors.length;
  checkKnownFields(payload, ['url', 'is_reusable', 'attachment_id'], pointer, errors);
  const hasUrl = payload['url'] !== undefined;
  const hasId = payload['attachment_id'] !== undefined;
  if (hasUrl === hasId) {
    errors.push({ pointer, message: 'must set exactly one of url and attachment_id' });
    return null;
  }

  if (hasId) {
    const attachmentId = payload['attachment_id'];
    if (typeof attachmentId !== 'string' || !/^[0-9A-Za-z_-]{1,128}$/.test(attachmentId)) {
      errors.push({ pointer: `${pointer}/attachment_id`, message: 'must be the id that the Attachment Upload API returned' });
    }
    if (payload['is_reusable'] !== undefined) {
      errors.push({ pointer: `${pointer}/is_reusable`, message: 'is allowed only with url' });
    }
    return errors.length === before ? { type, payload: { attachment_id: attachmentId as string } } : null;
  }

  const url = checkUrl(payload['url'], `${pointer}/url`, errors);
  const isReusable = payload['is_reusable'];
  if (isReusable !== undefined && typeof isReusable !== 'boolean') {
    errors.push({ pointer: `${pointer}/is_reusable`, message: `must be a boolean, got ${describeType(isReusable)}` });
  }
  if (url === null || errors.length > before) {
    return null;
  }
  return { type, payload: typeof isReusable === 'boolean' ? { url, is_reusable: isReusable } : { url } };
}

function checkQuickReplies(value: unknown, pointer: string, errors: MessengerContentError[]): MessengerQuickReply[] | null {
  if (!Array.isArray(value)) {
    errors.push({ pointer, message: `must be an array of quick reply objects, got ${describeType(value)}` });
    return null;
  }
  if (value.length === 0 || value.length > MESSENGER_LIMITS.quickReplies) {
    errors.push({ pointer, message: `has ${value.length} quick replies, but Messenger allows 1 to ${MESSENGER_LIMITS.quickReplies}` });
    return null;
  }

  const before = errors.length;
  const quickReplies = value.map((item, index) => checkQuickReply(item, `${pointer}/${index}`, errors));
  return errors.length === before ? quickReplies.filter((reply): reply is MessengerQuickReply => reply !== null) : null;
}

function checkQuickReply(value: unknown, pointer: string, errors: MessengerContentError[]): MessengerQuickReply | null {
  if (!isRecord(value)) {
    errors.push({ pointer, message: `must be an object with content_type, got ${describeType(value)}` });
    return null;
  }
  const before = errors.length;
  checkKnownFields(value, ['content_type', 'title', 'payload', 'image_url'], pointer, errors);
  const contentType = checkEnum(value['content_type'], QUICK_REPLY_CONTENT_TYPES, `${pointer}/content_type`, errors);
  const reply: MessengerQuickReply = { content_type: contentType ?? 'text' };
  // Text quick replies need a title and a payload; the phone and email kinds take them from the person's profile.
  const needsLabel = contentType === 'text';

  if (value['title'] !== undefined || needsLabel) {
    const title = checkText(value['title'], `${pointer}/title`, MESSENGER_LIMITS.quickReplyTitleLength, errors);
    if (title !== null) reply.title = title;
  }
  if (value['payload'] !== undefined || needsLabel) {
    const payload = checkPayload(value['payload'], `${pointer}/payload`, errors);
    if (payload !== null) reply.payload = payload;
  }
  if (value['image_url'] !== undefined) {
    const imageUrl = checkUrl(value['image_url'], `${pointer}/image_url`, errors);
    if (imageUrl !== null) reply.image_url = imageUrl;
  }
  return errors.length === before ? reply : null;
}

function checkPayload(value: unknown, pointer: string, errors: MessengerContentError[]): string | number | null {
  if (typeof value === 'number' && Number.isFinite(value)) {
    return value;
  }
  if (typeof value !== 'string') {
    errors.push({ pointer, message: `must be a string or a number, got ${describeType(value)}` });
    return null;
  }
  return checkText(value, pointer, MESSENGER_LIMITS.quickReplyPayloadLength, errors);
}

/** Checks a required string with at least one visible character and at most `maxLength` characters. */
function checkText(value: unknown, pointer: string, maxLength: number, errors: MessengerContentError[]): string | null {
  if (typeof value !== 'string') {
    errors.push({ pointer, message: `must be a string, got ${describeType(value)}` });
    return null;
  }
  if (value.trim() === '') {
    errors.push({ pointer, message: 'is empty, but at least one visible character is required' });
    return null;
  }
  const length = characterCount(value);
  if (length > maxLength) {
    errors.push({ pointer, message: `is ${length} characters long, but the maximum is ${maxLength}` });
    return null;
  }
  return value;
}

function checkUrl(value: unknown, pointer: string, errors: MessengerContentError[]): string | null {
  if (typeof value !== 'string') {
    errors.push({ pointer, message: `must be an http or https URL, got ${describeType(value)}` });
    return null;
  }
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    errors.push({ pointer, message: 'is not a valid URL; expected an absolute http or https URL' });
    return null;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    errors.push({ pointer, message: `uses the scheme ${parsed.protocol}, but Messenger fetches only http and https URLs` });
    return null;
  }
  return value;
}

function checkEnum<T extends string>(value: unknown, allowed: readonly T[], pointer: string, errors: MessengerContentError[]): T | null {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) {
    return value as T;
  }
  const got = typeof value === 'string' ? `"${value}"` : describeType(value);
  errors.push({ pointer, message: `must be one of ${allowed.join(', ')}, got ${got}` });
  return null;
}

function checkEnumOrAbsent<T extends string>(value: unknown, allowed: readonly T[], pointer: string, errors: MessengerContentError[]): T | null {
  return value === undefined ? null : checkEnum(value, allowed, pointer, errors);
}

function checkKnownFields(record: Record<string, unknown>, allowed: readonly string[], pointer: string, errors: MessengerContentError[]): void {
  for (const key of Object.keys(record)) {
    if (!allowed.includes(key)) {
      errors.push({ pointer: `${pointer}/${escapePointerToken(key)}`, message: `is not a supported field (allowed: ${allowed.join(', ')})` });
    }
  }
}

/**
 * Counts Unicode code points, so an emoji outside the Basic Multilingual Plane counts once.
 * NOTE: Meta documents "2000 characters" without saying how it counts them. Text near the
 * limit with many such emoji may still be rejected by the Send API.
 */
export function characterCount(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return type === 'object' ? 'an object' : `a ${type}`;
}

/** RFC 6901: '~' and '/' inside a pointer token are written '~0' and '~1'. */
function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}
