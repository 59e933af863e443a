/**
 * Client SDK for Cascade app messaging: a live, ordered feed of one app user's messages over
 * WebSocket, with delivery and read acknowledgements and an HTTP inbox.
 *
 * @example
 * import { CascadeAppClient } from '@cascade/app-sdk';
 *
 * const client = new CascadeAppClient({ baseUrl: 'https://cascade.example.com', token });
 * client.on('message', (message) => console.log(message.seq, message.title));
 * await client.connect();
 */
export { CascadeAppClient, createAppClient } from './client.js';
export type { AppClientEvents, AppClientOptions, ConnectedEvent, DisconnectedEvent } from './options.js';
export { AppClientError } from './errors.js';
export type { AppClientErrorCode } from './errors.js';
export type { FetchFunction, InboxQuery } from './http.js';
export { APP_SOCKET_CLOSE_CODES, APP_SOCKET_PROTOCOL } from './protocol.js';
export type { ClientFrame, FeedMessage, InboxPage, ServerFrame } from './protocol.js';
export type { ReconnectOptions } from './backoff.js';
export type { WebSocketConstructor, WebSocketLike } from './transport.js';
