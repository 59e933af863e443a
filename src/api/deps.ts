import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { MessageView, Store } from '../store/types.js';

/** Dependencies of the HTTP API on the rest of the process. */
export interface ApiDeps {
  store: Store;
  /** The key of the default space, sent by clients as `Authorization: Bearer <key>`. */
  apiKey: string;
  /** Epoch milliseconds. */
  now(): number;
  /** ISO 3166 country for phone numbers in national format; null rejects them. */
  defaultRegion: string | null;
  /** Called after new messages are committed, to wake the delivery worker. */
  onAccepted(): void;
  /** Cancels an unfinished message; null when the message does not exist. */
  cancelMessage(spaceId: string, messageId: string): Promise<MessageView | null>;
  logger: Logger;
}

/** The Fastify instance type the routes are registered on. */
export type ApiInstance = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;
