export { EmailChannel, buildMessageId, type EmailChannelOptions } from './channel.js';
export {
  normalizeEmailAddress,
  MAX_ADDRESS_OCTETS,
  MAX_DOMAIN_OCTETS,
  MAX_LOCAL_PART_OCTETS,
  type NormalizedEmailAddress,
} from './address.js';
export { classifySmtpError, toError, type FailedSendOutcome } from './errors.js';
export { htmlToText } from './html-text.js';
export {
  renderEmail,
  validateEmailContent,
  findHeaderValueProblem,
  CHANNEL_OPTION_FIELDS,
  CUSTOM_BODY_FIELDS,
  MAX_FROM_NAME_LENGTH,
  MAX_SUBJECT_LENGTH,
  type EmailContentError,
  type RenderedEmail,
  type RenderEmailOptions,
  type RenderEmailResult,
} from './render.js';
export { createSmtpTransport, type SmtpEndpoint, type SmtpTransport, type SmtpTransportSettings } from './transport.js';
