import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TSchema } from 'typebox';
import { pino } from 'pino';
import { channelFromSettings } from '../../channels/from-settings.js';
import { maskSettings, sealChannelSettings, SECRET_FIELDS, type AnyChannelSettings } from '../../channels/settings.js';
import type { ChannelId } from '../../routing/types.js';
import type { StoredChannelSettings } from '../../store/types.js';
import { checkVapidKeyPair, checkVapidSubject, VapidKeyError } from '../../vapid-keys.js';
import type { ApiDeps, ApiInstance } from '../deps.js';
import { toDateTime } from '../message-view.js';
import { invalidRequest, problem, sendProblem } from '../problem.js';
import type { FieldError } from '../schema-errors.js';
import {
  AppMessagingSettingsSchema,
  ChannelSettingsJsonSchema,
  ChannelSettingsListJsonSchema,
  ChannelSettingsParamsSchema,
  EmailSettingsSchema,
  MessengerSettingsSchema,
  SmsSettingsSchema,
  WhatsAppSettingsSchema,
} from '../schemas/channel-settings.js';
import { NoContentSchema } from '../schemas/common.js';

const GRAPH_API_URL = 'https://graph.facebook.com';
/** The channels built only as a check never log. */
const SILENT = pino({ enabled: false });

/** Returns the path where WhatsApp and Messenger webhooks of one space arrive. */
export function spaceMetaWebhookPath(spaceId: string): string {
  return `/v1/providers/meta/webhook/${encodeURIComponent(spaceId)}`;
}

function toJson(stored: StoredChannelSettings) {
  const meta = stored.channel === 'whatsApp' || stored.channel === 'fbMessenger';
  return {
    channel: stored.channel,
    settings: stored.masked,
    encryptionKeyId: stored.keyId,
    ...(meta ? { webhookPath: spaceMetaWebhookPath(stored.spaceId) } : {}),
    createdAt: toDateTime(stored.createdAt),
    updatedAt: toDateTime(stored.updatedAt),
  };
}

function notConfigured(channel: ChannelId) {
  return problem('not-found', `The space has no settings for channel ${channel}. Store them with PUT /v1/channels/${channel}.`);
}

/** Checks what the schema cannot: a VAPID key pair must be one P-256 pair, and the subject a contact URL. */
function checkAppMessaging(settings: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  try {
    checkVapidKeyPair(String(settings.vapidPublicKey), String(settings.vapidPrivateKey), 'vapidPublicKey', 'vapidPrivateKey');
  } catch (error) {
    if (!(error instanceof VapidKeyError)) throw error;
    // Each message starts with the field it is about.
    const field = error.message.startsWith('vapidPublicKey') ? 'vapidPublicKey' : 'vapidPrivateKey';
    errors.push({ pointer: `/${field}`, detail: error.message });
  }
  try {
    checkVapidSubject(String(settings.vapidSubject), 'vapidSubject');
  } catch (error) {
    if (!(error instanceof VapidKeyError)) throw error;
    errors.push({ pointer: '/vapidSubject', detail: error.message });
  }
  return errors;
}

/** Rejects a credential sent back as GET returns it, which would store the mask in its place. */
function checkNotMasked(channel: ChannelId, settings: Record<string, unknown>): FieldError[] {
  return (SECRET_FIELDS[channel] as readonly string[])
    .filter((field) => typeof settings[field] === 'string' && (settings[field] as string).startsWith('****'))
    .map((field) => ({ pointer: `/${field}`, detail: `is the masked value that reads return; send the ${field} itself, because a PUT replaces every field` }));
}

/**
 * Builds the channel once, without connecting, and returns why it cannot be built, or null.
 * The channel classes check what the schema cannot, such as the URL a host and port make.
 */
function checkBuildable(channel: Exclude<ChannelId, 'appMessaging'>, settings: AnyChannelSettings): string | null {
  try {
    const built = channelFromSettings(channel, settings as never, { defaultRegion: null, graphApiVersion: 'v21.0', logger: SILENT });
    // Nothing was started, but an SMTP pool or HTTP agent may hold resources until stopped.
    void built.stop().catch(() => undefined);
    return null;
  } catch (error) {
    return `The settings cannot be used: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** Fields a body may leave out, with the values stored for them. */
const DEFAULTS: Partial<Record<ChannelId, Record<string, unknown>>> = {
  sms: { port: 2775 },
  whatsApp: { apiUrl: GRAPH_API_URL },
  fbMessenger: { apiUrl: GRAPH_API_URL },
};

const PUT_ROUTES: { channel: ChannelId; body: TSchema; summary: string; description: string }[] = [
  {
    channel: 'sms',
    body: SmsSettingsSchema,
    summary: 'Store SMS (SMPP) settings',
    description: 'The space sends SMS through its own SMSC with an SMPP 3.4 transceiver bind, and receives delivery receipts on it.',
  },
  { channel: 'email', body: EmailSettingsSchema, summary: 'Store email (SMTP) settings', description: 'The space sends email through its own SMTP relay.' },
  {
    channel: 'whatsApp',
    body: WhatsAppSettingsSchema,
    summary: 'Store WhatsApp settings',
    description: 'The space sends with its own WhatsApp Business phone number. Point the app\'s webhook at webhookPath of the response.',
  },
  {
    channel: 'fbMessenger',
    body: MessengerSettingsSchema,
    summary: 'Store Messenger settings',
    description: 'The space sends from its own Facebook Page. Point the app\'s webhook at webhookPath of the response.',
  },
  {
    channel: 'appMessaging',
    body: AppMessagingSettingsSchema,
    summary: 'Store Web Push settings',
    description: 'The space\'s app subscribes to Web Push with this VAPID key pair; GET /v1/app/push-key returns its public key to the app.',
  },
];

/**
 * `PUT /v1/channels/{channel}`, `GET /v1/channels[/{channel}]` and `DELETE
 * /v1/channels/{channel}`: provider settings of the space. Credentials are sealed with the
 * server's encryption key before they reach the store, and no response or log line carries
 * them: reads return the masked copy stored beside them.
 *
 * NOTE: hosts and URLs are not restricted, so a key with the `admin` scope can make the server
 * connect anywhere it can reach. An operator who shares a server with untrusted spaces must
 * limit its outbound network.
 */
export function registerChannelSettingsRoutes(app: ApiInstance, deps: ApiDeps): void {
  const config = { scope: 'admin' as const };
  const { box } = deps.channelSettings;

  for (const route of PUT_ROUTES) {
    const schema = {
      summary: route.summary,
      description: `${route.description} Replaces earlier settings of the channel; responds with 201 when there were none. Credentials are stored encrypted and never returned.`,
      body: route.body,
      response: { 200: ChannelSettingsJsonSchema, 201: ChannelSettingsJsonSchema },
    };
    app.put(`/v1/channels/${route.channel}`, { config, schema }, async (request: FastifyRequest, reply: FastifyReply) => {
      const channel = route.channel;
      const body = request.body as Record<string, unknown>;
      const errors = [...checkNotMasked(channel, body), ...(channel === 'appMessaging' ? checkAppMessaging(body) : [])];
      if (errors.length > 0) return sendProblem(reply, invalidRequest(errors));
      const settings = { ...DEFAULTS[channel], ...body } as unknown as AnyChannelSettings;
      const unusable = channel === 'appMessaging' ? null : checkBuildable(channel, settings);
      if (unusable !== null) return sendProblem(reply, invalidRequest([{ pointer: '', detail: unusable }]));
      const spaceId = request.spaceId;
      const sealed = sealChannelSettings(box, spaceId, channel, settings);
      const stored = await deps.store.channelSettings.put({
        spaceId,
        channel,
        masked: maskSettings(channel, settings as unknown as Record<string, unknown>),
        sealed,
        keyId: box.keyId,
        now: deps.now(),
      });
      await deps.channelSettings.onChange?.(spaceId, channel);
      request.log.info({ channel, created: stored.created, encryptionKeyId: box.keyId }, 'channel settings stored');
      return reply.status(stored.created ? 201 : 200).send(toJson(stored.settings));
    });
  }

  app.get(
    '/v1/channels',
    { config, schema: { summary: 'List channel settings', description: 'Every channel the space has settings for, credentials masked.', response: { 200: ChannelSettingsListJsonSchema } } },
    async (request, reply) => {
      const items = await deps.store.channelSettings.list(request.spaceId);
      return reply.send({ items: items.map(toJson) });
    },
  );

  app.get(
    '/v1/channels/:channel',
    {
      config,
      schema: { summary: 'Get channel settings', description: 'Credentials are masked.', params: ChannelSettingsParamsSchema, response: { 200: ChannelSettingsJsonSchema } },
    },
    async (request, reply) => {
      const stored = await deps.store.channelSettings.get(request.spaceId, request.params.channel);
      if (stored === null) return sendProblem(reply, notConfigured(request.params.channel));
      return reply.send(toJson(stored));
    },
  );

  app.delete(
    '/v1/channels/:channel',
    {
      config,
      schema: {
        summary: 'Delete channel settings',
        description: 'Later sends of the space use the server\'s own channel where it serves every space (the sandbox), and skip the channel otherwise.',
        params: ChannelSettingsParamsSchema,
        response: { 204: NoContentSchema },
      },
    },
    async (request, reply) => {
      const { channel } = request.params;
      const deleted = await deps.store.channelSettings.delete(request.spaceId, channel);
      if (!deleted) return sendProblem(reply, notConfigured(channel));
      await deps.channelSettings.onChange?.(request.spaceId, channel);
      request.log.info({ channel }, 'channel settings deleted');
      return reply.status(204).send();
    },
  );
}
