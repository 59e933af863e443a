import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { parseMetaWebhook, verificationChallenge, type MetaWebhookItem } from '../../channels/meta/webhook.js';
import { openChannelSettings } from '../../channels/settings.js';
import { verifyMetaSignature } from '../../channels/meta/signature.js';
import { DEFAULT_SPACE_ID } from '../auth.js';
import type { ApiDeps, ApiInstance } from '../deps.js';
import { httpProblem, sendProblem } from '../problem.js';

/** Largest webhook body accepted; Meta batches up to 1,000 updates in one request. */
const WEBHOOK_BODY_LIMIT = 3 * 1024 * 1024;

/** Documentation of the verification request. The handler reads the query itself, so nothing here is validated. */
const VERIFICATION_SCHEMA = {
  summary: 'Verify the webhook URL',
  description: 'The handshake Meta sends when the webhook URL is configured: the response echoes hub.challenge when hub.verify_token matches META_VERIFY_TOKEN.',
  documentedQuerystring: Type.Object({
    'hub.mode': Type.Literal('subscribe'),
    'hub.verify_token': Type.String({ description: 'Must equal META_VERIFY_TOKEN.' }),
    'hub.challenge': Type.String({ pattern: '^[A-Za-z0-9._~-]{1,256}$', description: 'Echoed as the response body.' }),
  }),
  response: { 200: { description: 'The hub.challenge value.', content: { 'text/plain': { schema: Type.String() } } } },
  problems: { 403: 'hub.mode is not subscribe, hub.verify_token does not match, or no verify token is configured.' },
};

/** Documentation of the notification request. The body is read as bytes, so nothing here is validated. */
const NOTIFICATION_SCHEMA = {
  summary: 'Receive WhatsApp and Messenger updates',
  description:
    'Status updates (sent, delivered, read, failed) and inbound messages from the WhatsApp Cloud API and the Messenger Platform, for the default space. ' +
    'The X-Hub-Signature-256 header is checked against the raw body before the body is parsed. Entries that are not handled are skipped.',
  documentedBody: Type.Object({
    object: Type.String({ description: 'whatsapp_business_account or page; other objects are skipped.' }),
    entry: Type.Array(Type.Unknown(), { description: 'The updates, in the provider\'s own format.' }),
  }),
  response: { 200: { description: 'The updates were applied.', content: { 'text/plain': { schema: Type.Literal('EVENT_RECEIVED') } } } },
  problems: {
    400: 'The body is not valid JSON.',
    401: 'X-Hub-Signature-256 is missing or does not match the body.',
    413: `The body is larger than ${WEBHOOK_BODY_LIMIT / (1024 * 1024)} MiB.`,
  },
};

const SPACE_VERIFICATION_DESCRIPTION =
  'The handshake Meta sends when the webhook URL is configured: the response echoes hub.challenge when hub.verify_token matches the verifyToken of the space\'s WhatsApp or Messenger settings.';

const SPACE_NOTIFICATION_DESCRIPTION =
  'Status updates and inbound messages of a space with its own WhatsApp or Messenger settings. X-Hub-Signature-256 is checked against the raw body with the appSecret of those settings; ' +
  'statuses match only the space\'s own messages. Entries that are not handled are skipped.';

/** A space's secrets of one Meta channel, for the webhook checks. */
interface MetaSecrets {
  channel: MetaChannel;
  appSecret: string;
  verifyToken: string;
}

type MetaChannel = 'whatsApp' | 'fbMessenger';

const SPACE_PARAMS = Type.Object({ spaceId: Type.String({ minLength: 1, maxLength: 64, description: 'The space the webhook belongs to.' }) });

/** Reads the WhatsApp and Messenger secrets a space stored. Channels whose settings do not decrypt are left out and logged. */
async function spaceSecrets(deps: ApiDeps, spaceId: string, log: FastifyRequest['log']): Promise<MetaSecrets[]> {
  const found: MetaSecrets[] = [];
  for (const channel of ['whatsApp', 'fbMessenger'] as const) {
    const stored = await deps.store.channelSettings.get(spaceId, channel);
    if (stored === null) continue;
    try {
      const settings = openChannelSettings(deps.channelSettings.box, { spaceId, channel, sealed: stored.sealed });
      found.push({ channel, appSecret: settings.appSecret, verifyToken: settings.verifyToken });
    } catch (error) {
      log.error({ err: error, spaceId, channel, keyId: stored.keyId }, 'channel settings could not be decrypted for a webhook');
    }
  }
  return found;
}

/** Reads the raw body as JSON and parses the webhook entries; null after sending a 400. */
function parseBody(raw: Buffer, request: FastifyRequest, reply: FastifyReply): MetaWebhookItem[] | null {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    void sendProblem(reply, httpProblem(400, 'The webhook body is not valid JSON.'));
    return null;
  }
  const parsed = parseMetaWebhook(body);
  if (parsed.skipped.length > 0) request.log.info({ skipped: parsed.skipped.slice(0, 10) }, 'webhook entries skipped');
  return parsed.items;
}

function signatureOf(request: FastifyRequest): string | undefined {
  const signature = request.headers['x-hub-signature-256'];
  return typeof signature === 'string' ? signature : undefined;
}

function rejectSignature(request: FastifyRequest, reply: FastifyReply) {
  request.log.warn({ hasSignature: request.headers['x-hub-signature-256'] !== undefined }, 'webhook with a missing or invalid signature rejected');
  return sendProblem(reply, httpProblem(401, 'The X-Hub-Signature-256 header is missing or does not match the body.'));
}

/**
 * The WhatsApp and Messenger webhooks. They need no API key; instead every POST must carry
 * `X-Hub-Signature-256`, an HMAC-SHA256 of the raw body with the app secret, checked before the
 * body is parsed. A bad or missing signature changes nothing.
 *
 * - `GET/POST /v1/providers/meta/webhook`: the default space, with `META_APP_SECRET` and
 *   `META_VERIFY_TOKEN`. The sandbox Graph API sends here.
 * - `GET/POST /v1/providers/meta/webhook/{spaceId}`: a space with its own WhatsApp or Messenger
 *   settings, checked with the app secret and verify token stored in them. An item is applied
 *   only when its channel's own secret signed the request.
 */
export async function registerMetaWebhookRoute(app: ApiInstance, deps: ApiDeps): Promise<void> {
  const meta = deps.meta;
  if (meta === null || meta === undefined) return;

  await app.register(async (scope) => {
    // The signature covers the exact bytes, so these routes read the body as a buffer.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_request, body, done) => {
      done(null, body);
    });

    const appSecret = meta.appSecret;
    if (appSecret !== null) {
      scope.get('/v1/providers/meta/webhook', { schema: VERIFICATION_SCHEMA }, async (request: FastifyRequest, reply: FastifyReply) => {
        const result = verificationChallenge(request.query as Record<string, unknown>, meta.verifyToken);
        if (!result.ok) {
          request.log.warn({ reason: result.reason }, 'webhook verification rejected');
          return sendProblem(reply, httpProblem(403, result.reason));
        }
        return reply.type('text/plain').send(result.challenge);
      });

      scope.post('/v1/providers/meta/webhook', { schema: NOTIFICATION_SCHEMA }, async (request: FastifyRequest, reply: FastifyReply) => {
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        if (!verifyMetaSignature(raw, signatureOf(request), appSecret)) return rejectSignature(request, reply);
        const items = parseBody(raw, request, reply);
        if (items === null) return reply;
        await meta.onWebhook(DEFAULT_SPACE_ID, items, false);
        return reply.type('text/plain').send('EVENT_RECEIVED');
      });
    }

    scope.get(
      '/v1/providers/meta/webhook/:spaceId',
      { schema: { ...VERIFICATION_SCHEMA, params: SPACE_PARAMS, description: SPACE_VERIFICATION_DESCRIPTION } },
      async (request: FastifyRequest, reply: FastifyReply) => {
        const { spaceId } = request.params as { spaceId: string };
        const secrets = await spaceSecrets(deps, spaceId, request.log);
        const query = request.query as Record<string, unknown>;
        const results = secrets.map((secret) => verificationChallenge(query, secret.verifyToken));
        const passed = results.find((result) => result.ok);
        if (passed?.ok) return reply.type('text/plain').send(passed.challenge);
        const reason = results[0]?.ok === false ? results[0].reason : 'The space has no WhatsApp or Messenger settings that this server can read, so no verify token is configured.';
        request.log.warn({ spaceId, reason }, 'webhook verification rejected');
        return sendProblem(reply, httpProblem(403, reason));
      },
    );

    scope.post(
      '/v1/providers/meta/webhook/:spaceId',
      { schema: { ...NOTIFICATION_SCHEMA, params: SPACE_PARAMS, description: SPACE_NOTIFICATION_DESCRIPTION } },
      async (request: FastifyRequest, reply: FastifyReply) => {
        const { spaceId } = request.params as { spaceId: string };
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const secrets = await spaceSecrets(deps, spaceId, request.log);
        const signature = signatureOf(request);
        const signedFor = new Set(secrets.filter((secret) => verifyMetaSignature(raw, signature, secret.appSecret)).map((secret) => secret.channel));
        if (signedFor.size === 0) return rejectSignature(request, reply);
        const items = parseBody(raw, request, reply);
        if (items === null) return reply;
        const accepted = items.filter((item) => signedFor.has(item.channel));
        if (accepted.length < items.length) request.log.warn({ spaceId, ignored: items.length - accepted.length }, 'webhook items of a channel whose secret did not sign the request ignored');
        await meta.onWebhook(spaceId, accepted, true);
        return reply.type('text/plain').send('EVENT_RECEIVED');
      },
    );
  });
}
