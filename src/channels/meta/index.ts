export {
  classifyGraphError,
  isConfigurationError,
  isOutsideWindowError,
  type GraphErrorClass,
  type MetaChannelId,
} from './errors.js';
export type { GraphErrorEntry, GraphErrorKind } from './graph-error-codes.js';
export { signMetaPayload, verifyMetaSignature } from './signature.js';
export {
  MAX_EVENTS_PER_BODY,
  parseMetaWebhook,
  verificationChallenge,
  type MessengerWatermarkState,
  type MetaWebhookItem,
  type MetaWebhookParse,
  type WhatsAppStatusState,
} from './webhook.js';
