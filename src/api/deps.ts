import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { MetaWebhookItem } from '../channels/meta/webhook.js';
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
  /** WhatsApp and Messenger webhook settings; null or absent leaves the webhook route out. */
  meta?: MetaWebhookDeps | null;
}

export interface MetaWebhookDeps {
  appSecret: string;
  verifyToken: string;
  /** Applies verified webhook items: receipts, watermarks and inbound messages. */
  onWebhook(spaceId: string, items: MetaWebhookItem[]): Promise<void>;
}

/** The Fastify instance type the routes are registered on. */
export type ApiInstance = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;
