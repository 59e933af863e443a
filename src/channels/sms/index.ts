export { SmsChannel, type SmsChannelOptions } from './channel.js';
export {
  SmppBindError,
  SmppClient,
  SmppConnectionError,
  type DeliverListener,
  type DeliverSm,
  type SmppClientOptions,
  type SmppClientState,
  type SmppConnectionErrorReason,
  type SmppTimingOptions,
  type SubmitRequest,
  type SubmitResult,
} from './smpp-client.js';
export { DEFAULT_SMPP_PORT, parseSmppUrl, SmppUrlError, type SmppEndpoint } from './smpp-url.js';
