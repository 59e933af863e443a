import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { MetaWebhookItem } from '../channels/meta/webhook.js';
import type { ChannelId } from '../routing/types.js';
import type { SecretBox } from '../secret-box.js';
import type { MessageView, Store } from '../store/types.js';
import type { RateLimitSettings } from './rate-limit.js';

/** Dependencies of the HTTP API on the rest of the process. */
export interface ApiDeps {
  store: Store;
  /**
   * The configured key of the default space (`API_KEY` or the generated key file). `buildApi`
   * stores its hash as a key with every scope unless it is stored already.
   */
  apiKey: string;
  /** Key of the `/v1/admin` routes. Null or absent turns them off, so they respond with 403. */
  adminKey?: string | null;
  /** Epoch milliseconds. */
  now(): number;
  /** ISO 3166 country for phone numbers in national format; null rejects them. */
  defaultRegion: string | null;
  /** Called after new messages are committed, to wake the delivery worker. */
  onAccepted(count: number): void;
  /** Cancels an unfinished message; null when the message does not exist. */
  cancelMessage(spaceId: string, messageId: string): Promise<MessageView | null>;
  logger: Logger;
  /** WhatsApp and Messenger webhook settings; null or absent leaves the webhook routes out. */
  meta?: MetaWebhookDeps | null;
  /** App token settings; null or absent leaves `POST /v1/app/tokens` out. */
  appTokens?: AppTokenDeps | null;
  /** Encryption of channel settings and webhook secrets. */
  channelSettings: ChannelSettingsDeps;
  /** Request rate limits; null or absent turns them off. */
  rateLimit?: RateLimitSettings | null;
}

export interface AppTokenDeps {
  /** Signs app tokens. The app routes verify them with the same secret. */
  secret: string;
  /** Lifetime of a new token in seconds. */
  ttlSeconds: number;
}

export interface ChannelSettingsDeps {
  /** Seals credentials before they are stored. */
  box: SecretBox;
  /** Called after a space's settings of a channel were stored or deleted. */
  onChange?(spaceId: string, channel: ChannelId): Promise<void>;
}

export interface MetaWebhookDeps {
  /** Verifies the shared webhook of the default space; null leaves that route out. */
  appSecret: string | null;
  verifyToken: string;
  /**
   * Applies verified webhook items: receipts, watermarks and inbound messages. `scoped` is true
   * for a space's own webhook URL, whose statuses match only that space's attempts.
   */
  onWebhook(spaceId: string, items: MetaWebhookItem[], scoped: boolean): Promise<void>;
}

/** The Fastify instance type the routes are registered on. */
export type ApiInstance = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;
