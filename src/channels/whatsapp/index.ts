export { WhatsAppChannel, DEFAULT_API_VERSION, type WhatsAppChannelOptions } from './channel.js';
export { CloudApiClient, type CloudApiClientOptions, type GraphResponse } from './client.js';
export { classifyRequestFailure, findErrorCode, type FailedSendOutcome } from './errors.js';
export {
  validateNativeMessage,
  characterCount,
  CHANNEL_SET_FIELDS,
  MAX_CAPTION_LENGTH,
  MAX_NATIVE_MESSAGE_BYTES,
  MAX_TEXT_LENGTH,
  NATIVE_MESSAGE_TYPES,
  type NativeMessageType,
  type WhatsAppContentError,
} from './native-message.js';
export {
  buildRequestBody,
  formatText,
  isTemplateMessage,
  renderWhatsAppMessage,
  validateWhatsAppContent,
  CHANNEL_OPTION_FIELDS,
  type RenderWhatsAppResult,
  type WhatsAppMessage,
} from './render.js';
export { isWithinServiceWindow, SERVICE_WINDOW_MS } from './window.js';
