export { MessengerChannel, DEFAULT_API_VERSION, type MessengerChannelOptions } from './channel.js';
export { MAX_PSID_LENGTH, normalizePsid } from './address.js';
export { SendApiClient, parseRetryAfter, type SendApiClientOptions, type SendApiResponse } from './client.js';
export {
  renderMessenger,
  resolveMessagingType,
  characterCount,
  ATTACHMENT_TYPES,
  CHANNEL_OPTION_FIELDS,
  CUSTOM_BODY_FIELDS,
  DEFAULT_MESSAGING_TYPE,
  MEDIA_ATTACHMENT_TYPES,
  MESSAGE_TAGS,
  MESSAGING_TYPES,
  MESSENGER_LIMITS,
  NOTIFICATION_TYPES,
  QUICK_REPLY_CONTENT_TYPES,
  type MediaAttachmentType,
  type MessageTag,
  type MessagingType,
  type MessagingTypeChoice,
  type MessagingTypeResult,
  type MessengerAttachment,
  type MessengerContentError,
  type MessengerMessage,
  type MessengerQuickReply,
  type MessengerSendBody,
  type NotificationType,
  type QuickReplyContentType,
  type RenderMessengerResult,
} from './render.js';
export { checkMessagingWindow, HUMAN_AGENT_WINDOW_MS, STANDARD_WINDOW_MS } from './window.js';
