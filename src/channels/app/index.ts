export { authenticateAppToken, bearerToken, socketToken, type AppAuthResult, type AppIdentity } from './auth.js';
export { AppChannel, renderAppMessage, type AppChannelOptions } from './channel.js';
export { checkPushSubscription } from './device-input.js';
export { MAX_CLIENT_FRAME_BYTES, parseClientFrame, toFeedMessage } from './frames.js';
export { AppHub, DEFAULT_PING_INTERVAL_MS, DEFAULT_PONG_TIMEOUT_MS, type AcknowledgeResult, type AppHubOptions, type AppSocketIdentity } from './hub.js';
export { MAX_DEVICES_PER_USER } from './inbox-routes.js';
export * from './protocol.js';
export { registerAppRoutes, type AppRoutesDeps } from './routes.js';
export {
  APP_TOKEN_PREFIX,
  issueAppToken,
  MAX_APP_TOKEN_LENGTH,
  newAppTokenClaims,
  verifyAppToken,
  type AppTokenClaims,
  type AppTokenRejection,
  type AppTokenVerification,
} from './token.js';
export * from './types.js';
