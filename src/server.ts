import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApi } from './api/app.js';
import { resolveApiKey, type ApiKeySource } from './api-key.js';
import { resolveAppTokenSecret } from './app-token-secret.js';
import { AppChannel } from './channels/app/channel.js';
import { AppHub } from './channels/app/hub.js';
import { registerAppRoutes } from './channels/app/routes.js';
import { WebPushNotifier } from './channels/app/web-push.js';
import { EmailChannel } from './channels/email/index.js';
import { channelFromSettings } from './channels/from-settings.js';
import { MessengerChannel } from './channels/messenger/index.js';
import { SmsChannel } from './channels/sms/index.js';
import type { Channel } from './channels/types.js';
import { WhatsAppChannel } from './channels/whatsapp/index.js';
import type { Config } from './config.js';
import { Delivery } from './delivery/index.js';
import { SpaceChannels } from './delivery/space-channels.js';
import { SpaceVapidKeys } from './delivery/space-vapid.js';
import { resolveEncryptionKeys } from './encryption-keys.js';
import { resealStoredSecrets } from './secret-rotation.js';
import { issueTokenThroughApi, registerDemoRoutes } from './demo/index.js';
import type { DeliveryMetrics } from './delivery/metrics.js';
import { createLogger } from './logger.js';
import type { ChannelId, Clock, RoutingContext } from './routing/types.js';
import { startSandboxGraph, type SandboxGraph } from './sandbox/graph.js';
import { startSandboxPushService, type SandboxPushService } from './sandbox/push-service.js';
import { startSandboxSmsc, type SandboxSmsc } from './sandbox/smsc.js';
import { startSandboxSmtp, type SandboxSmtp } from './sandbox/smtp.js';
import { createStore } from './store/index.js';
import type { Store } from './store/types.js';
import { resolveVapidKeys } from './vapid-keys.js';
import { WebhookService, type WebhookServiceOptions } from './webhooks/index.js';

export const DEFAULT_SPACE_ID = 'default';

export interface ServerOptions {
  logger?: Logger;
  clock?: Clock;
  policies?: RoutingContext['policies'];
  /** Tuning of outbound status webhooks, such as a short retry schedule in tests. */
  webhooks?: Partial<WebhookServiceOptions>;
  /** How often cached channel settings are compared with the stored ones, in ms. Default 10,000. */
  channelSettingsRefreshMs?: number;
}

export interface RunningServer {
  /** Base URL of the HTTP API. */
  url: string;
  /** The HTTP API's Fastify instance, for in-process requests with `inject`. */
  api: FastifyInstance;
  port: number;
  apiKey: ApiKeySource;
  store: Store;
  delivery: Delivery;
  metrics: DeliveryMetrics;
  /** Channels of the process: the default space's, from the environment or the sandbox. */
  channels: ReadonlyMap<ChannelId, Channel>;
  /** The channels each space sends through, its own settings first. */
  spaceChannels: SpaceChannels;
  /** Id of the key that encrypts stored credentials. */
  encryptionKeyId: string;
  /** The app channel's open sockets. */
  appHub: AppHub;
  /** The VAPID public key apps pass to `pushManager.subscribe` as `applicationServerKey`. */
  vapidPublicKey: string;
  sandbox: { smsc: SandboxSmsc | null; smtp: SandboxSmtp | null; graph: SandboxGraph | null; push: SandboxPushService | null };
  close(): Promise<void>;
}

interface Closer {
  name: string;
  close(): Promise<unknown>;
}

/** Close in reverse order of start, logging and continuing past failures. */
async function closeAll(closers: Closer[], logger: Logger): Promise<void> {
  for (const closer of [...closers].reverse()) {
    try {
      await closer.close();
    } catch (error) {
      logger.error({ err: error, part: closer.name }, 'stopping a part failed');
    }
  }
}

/** Credentials the sandbox Graph API accepts; they reach no real provider. */
const SANDBOX_GRAPH = { token: 'sandbox-whatsapp-token', pageToken: 'sandbox-page-token', phoneNumberId: '100000000000001' };

async function startChannels(config: Config, logger: Logger, closers: Closer[], metaAppSecret: string | null) {
  let smsc: SandboxSmsc | null = null;
  let smtp: SandboxSmtp | null = null;
  let smppUrl = config.smppUrl;
  let smtpUrl = config.smtpUrl;
  if (config.sandbox && smppUrl === null) {
    smsc = await startSandboxSmsc({ host: '127.0.0.1', port: 0, logger: logger.child({ part: 'sandbox-smsc' }) });
    closers.push({ name: 'sandbox-smsc', close: () => smsc!.close() });
    smppUrl = smsc.url;
  }
  if (config.sandbox && smtpUrl === null) {
    smtp = await startSandboxSmtp({ host: '127.0.0.1', port: 0, logger: logger.child({ part: 'sandbox-smtp' }) });
    closers.push({ name: 'sandbox-smtp', close: () => smtp!.close() });
    smtpUrl = smtp.url;
  }

  let graph: SandboxGraph | null = null;
  let whatsApp = config.whatsAppApiUrl === null ? null : { apiUrl: config.whatsAppApiUrl, token: config.whatsAppToken ?? '', phoneNumberId: config.whatsAppPhoneNumberId ?? '' };
  let messenger = config.messengerApiUrl === null ? null : { apiUrl: config.messengerApiUrl, pageToken: config.messengerPageToken ?? '' };
  if (config.sandbox && metaAppSecret !== null && (whatsApp === null || messenger === null)) {
    const started = await startSandboxGraph({
      host: '127.0.0.1',
      port: 0,
      appSecret: metaAppSecret,
      token: SANDBOX_GRAPH.token,
      pageToken: SANDBOX_GRAPH.pageToken,
      logger: logger.child({ part: 'sandbox-graph' }),
    });
    graph = started;
    closers.push({ name: 'sandbox-graph', close: () => started.close() });
    whatsApp ??= { apiUrl: started.url, token: SANDBOX_GRAPH.token, phoneNumberId: SANDBOX_GRAPH.phoneNumberId };
    messenger ??= { apiUrl: started.url, pageToken: SANDBOX_GRAPH.pageToken };
  }

  const channels = new Map<ChannelId, Channel>();
  if (smppUrl !== null) {
    channels.set(
      'sms',
      new SmsChannel({ url: smppUrl, sourceAddr: config.smppSourceAddr, defaultRegion: config.defaultRegion, logger: logger.child({ channel: 'sms' }) }),
    );
  }
  if (smtpUrl !== null) {
    channels.set('email', new EmailChannel({ url: smtpUrl, from: config.smtpFrom, logger: logger.child({ channel: 'email' }) }));
  }
  if (whatsApp !== null) {
    channels.set('whatsApp', new WhatsAppChannel({ ...whatsApp, apiVersion: config.graphApiVersion, logger: logger.child({ channel: 'whatsApp' }) }));
  }
  if (messenger !== null) {
    channels.set('fbMessenger', new MessengerChannel({ ...messenger, apiVersion: config.graphApiVersion, logger: logger.child({ channel: 'fbMessenger' }) }));
  }
  for (const channel of channels.values()) {
    try {
      await channel.start();
    } catch (error) {
      // An unreachable peer is retried in the background and sends meanwhile fail as transient;
      // rejected credentials are not retried, so sends fail until the settings are fixed.
      logger.error({ err: error, channel: channel.id }, 'channel did not connect at start-up');
    }
    closers.push({ name: `channel-${channel.id}`, close: () => channel.stop() });
  }
  // Sandbox peers reach no real provider, so spaces without settings of their own may share them.
  const shared = new Set<ChannelId>(['appMessaging']);
  if (smsc !== null) shared.add('sms');
  if (smtp !== null) shared.add('email');
  if (graph !== null && config.whatsAppApiUrl === null) shared.add('whatsApp');
  if (graph !== null && config.messengerApiUrl === null) shared.add('fbMessenger');
  return { channels, shared, smsc, smtp, graph };
}

/**
 * Starts the app channel's parts: the socket hub, Web Push with the configured or stored VAPID
 * keys, and with `SANDBOX` a local push service whose plain-http endpoints devices may register.
 * The channel needs no external provider, so it is always on.
 */
async function startAppMessaging(config: Config, store: Store, spaceVapid: SpaceVapidKeys, logger: Logger, closers: Closer[], now: () => number) {
  let push: SandboxPushService | null = null;
  if (config.sandbox) {
    push = await startSandboxPushService({ host: '127.0.0.1', port: 0, logger: logger.child({ part: 'sandbox-push' }) });
    closers.push({ name: 'sandbox-push', close: () => push!.close() });
  }
  const pushEndpointPolicy = { trustedOrigins: push === null ? [] : [push.url] };
  const vapid = await resolveVapidKeys({ publicKey: config.vapidPublicKey, privateKey: config.vapidPrivateKey, subject: config.vapidSubject }, config.dataDir);
  const notifier = new WebPushNotifier({
    feed: store.appFeed,
    vapid,
    vapidFor: (spaceId) => spaceVapid.get(spaceId),
    ...pushEndpointPolicy,
    logger: logger.child({ part: 'web-push' }),
  });
  closers.push({ name: 'web-push', close: () => notifier.close() });

  const hub = new AppHub({
    feed: store.appFeed,
    logger: logger.child({ part: 'app-hub' }),
    now,
    pingIntervalMs: config.appSocketPingSeconds * 1000,
    pongTimeoutMs: config.appSocketPongTimeoutSeconds * 1000,
  });
  const channel = new AppChannel({
    spaceId: DEFAULT_SPACE_ID,
    feed: store.appFeed,
    hub,
    pushNotifier: notifier,
    logger: logger.child({ channel: 'appMessaging' }),
    now,
  });
  await channel.start();
  closers.push({ name: 'channel-appMessaging', close: () => channel.stop() });
  return { hub, channel, push, pushEndpointPolicy, vapidPublicKey: vapid.publicKey };
}

/** Start every part of Cascade for `config` and return once the API accepts requests. */
export async function startServer(config: Config, options: ServerOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const closers: Closer[] = [];
  try {
    const store = await createStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger: logger.child({ part: 'store' }) });
    closers.push({ name: 'store', close: () => store.close() });
    await store.migrate();
    const apiKey = await resolveApiKey(config.apiKey, config.dataDir);
    const encryption = await resolveEncryptionKeys(config.encryptionKey, config.encryptionOldKeys, config.dataDir);
    const box = encryption.box;
    if (encryption.origin !== 'environment') {
      logger.warn({ file: encryption.file, keyId: box.keyId }, 'credentials are encrypted with a key stored in the data folder; set ENCRYPTION_KEY to keep the key apart from the data');
    }
    await resealStoredSecrets(store, box, logger.child({ part: 'secret-rotation' }));

    // The sandbox Graph API signs its webhooks with a secret made for this run unless one is set.
    const metaAppSecret = config.metaAppSecret ?? (config.sandbox ? randomBytes(24).toString('hex') : null);
    const { channels, shared, smsc, smtp, graph } = await startChannels(config, logger, closers, metaAppSecret);
    const now = () => options.clock?.now() ?? Date.now();
    const appTokenSecret = await resolveAppTokenSecret(config.appTokenSecret, config.dataDir);
    const refreshMs = options.channelSettingsRefreshMs ?? 10_000;
    const spaceVapid = new SpaceVapidKeys(store.channelSettings, box, logger.child({ part: 'web-push' }), refreshMs);
    const app = await startAppMessaging(config, store, spaceVapid, logger, closers, now);
    channels.set('appMessaging', app.channel);
    const spaceChannels = new SpaceChannels({
      settings: store.channelSettings,
      box,
      defaultSpaceId: DEFAULT_SPACE_ID,
      processChannels: channels,
      shared,
      factory: (spaceId, channel, settings) =>
        channelFromSettings(channel, settings, {
          defaultRegion: config.defaultRegion,
          graphApiVersion: config.graphApiVersion,
          logger: logger.child({ spaceId, channel }),
        }),
      logger: logger.child({ part: 'space-channels' }),
      refreshMs,
    });
    // Stopped after delivery, which still sends through them until it stops.
    closers.push({ name: 'space-channels', close: () => spaceChannels.close() });
    const delivery = new Delivery({
      store,
      channels,
      spaceChannels,
      spaceId: DEFAULT_SPACE_ID,
      logger: logger.child({ part: 'delivery' }),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.policies ? { policies: options.policies } : {}),
      worker: { concurrency: config.workerConcurrency, leaseMs: config.workerLeaseSeconds * 1000 },
    });
    await delivery.start();
    closers.push({ name: 'delivery', close: () => delivery.stop() });

    // Status webhooks run on their own loops and read what delivery commits, so a slow receiver never holds up sending.
    const webhooks = new WebhookService({ store, box, logger: logger.child({ part: 'webhooks' }) }, options.webhooks);
    await webhooks.start();
    closers.push({ name: 'webhooks', close: () => webhooks.stop() });

    const api: FastifyInstance = await buildApi({
      store,
      apiKey: apiKey.key,
      adminKey: config.adminKey,
      now,
      defaultRegion: config.defaultRegion,
      onAccepted: (count) => {
        delivery.metrics.messagesAccepted.inc(count);
        delivery.worker.wake();
      },
      cancelMessage: (spaceId, messageId) => delivery.cancelMessage(spaceId, messageId),
      logger: logger.child({ part: 'api' }),
      meta: {
        appSecret: metaAppSecret,
        // Without META_VERIFY_TOKEN every handshake of the shared webhook is rejected as unconfigured.
        verifyToken: config.metaVerifyToken ?? '',
        onWebhook: (spaceId, items, scoped) => delivery.meta.handle(spaceId, items, scoped),
      },
      channelSettings: {
        box,
        onChange: async (spaceId, channel) => {
          if (channel === 'appMessaging') spaceVapid.invalidate(spaceId);
          else await spaceChannels.invalidate(spaceId, channel);
        },
      },
      appTokens: { secret: appTokenSecret.secret, ttlSeconds: config.appTokenTtlSeconds },
      rateLimit: { perMinute: config.rateLimitPerMinute, perIpPerMinute: config.rateLimitPerIpPerMinute },
    });
    await registerAppRoutes(api, {
      feed: store.appFeed,
      tokenSecret: appTokenSecret.secret,
      hub: app.hub,
      pushEndpointPolicy: app.pushEndpointPolicy,
      pushPublicKey: app.vapidPublicKey,
      spacePushPublicKey: async (spaceId) => (await spaceVapid.get(spaceId))?.publicKey ?? null,
      now,
      logger: logger.child({ part: 'app-routes' }),
    });
    if (config.sandbox) {
      // The demo page gets app tokens without the API key, so it exists only with the sandbox.
      await registerDemoRoutes(api, { issueToken: issueTokenThroughApi(api, apiKey.key), logger: logger.child({ part: 'demo' }) });
    }
    api.get('/metrics', async (_request, reply) => {
      reply.type(delivery.metrics.registry.contentType);
      return delivery.metrics.registry.metrics();
    });
    await api.listen({ host: config.host, port: config.port });
    closers.push({ name: 'api', close: () => api.close() });
    // Closed before the API, so that open app sockets do not hold its close up.
    closers.push({ name: 'app-hub', close: () => app.hub.close() });
    const address = api.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    const url = `http://${host}:${port}`;
    graph?.setWebhookUrl(`${url}/v1/providers/meta/webhook`);
    logger.info({ url, store: store.dialect, channels: [...channels.keys()], sandbox: config.sandbox }, 'server started');

    return {
      url,
      api,
      port,
      apiKey,
      store,
      delivery,
      metrics: delivery.metrics,
      channels,
      spaceChannels,
      encryptionKeyId: box.keyId,
      appHub: app.hub,
      vapidPublicKey: app.vapidPublicKey,
      sandbox: { smsc, smtp, graph, push: app.push },
      close: async () => {
        logger.info('server stopping');
        await closeAll(closers, logger);
        logger.info('server stopped');
      },
    };
  } catch (error) {
    await closeAll(closers, logger);
    throw error;
  }
}
