import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { parseMetaWebhook, verificationChallenge } from '../../channels/meta/webhook.js';
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
  problems: { 400: 'The body is not valid JSON.', 413: `The body is larger than ${WEBHOOK_BODY_LIMIT / (1024 * 1024)} MiB.` },
};

/**
 * `GET/POST /v1/providers/meta/webhook`: the WhatsApp and Messenger webhook. It needs no API
 * key; instead every POST must carry `X-Hub-Signature-256`, an HMAC-SHA256 of the raw body with
 * the app secret, checked before the body is parsed. A bad or missing signature changes nothing.
 */
export async function registerMetaWebhookRoute(app: ApiInstance, deps: ApiDeps): Promise<void> {
  const meta = deps.meta;
  if (meta === null || meta === undefined) return;

  await app.register(async (scope) => {
    // The signature covers the exact bytes, so this route reads the body as a buffer.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_request, body, done) => {
      done(null, body);
    });

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
      const signature = request.headers['x-hub-signature-256'];
      if (!verifyMetaSignature(raw, typeof signature === 'string' ? signature : undefined, meta.appSecret)) {
        request.log.warn({ hasSignature: signature !== undefined }, 'webhook with a missing or invalid signature rejected');
        return sendProblem(reply, httpProblem(401, 'The X-Hub-Signature-256 header is missing or does not match the body.'));
      }
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        return sendProblem(reply, httpProblem(400, 'The webhook body is not valid JSON.'));
      }
      const parsed = parseMetaWebhook(body);
      if (parsed.skipped.length > 0) request.log.info({ skipped: parsed.skipped.slice(0, 10) }, 'webhook entries skipped');
      await meta.onWebhook(DEFAULT_SPACE_ID, parsed.items);
      return reply.type('text/plain').send('EVENT_RECEIVED');
    });
  });
}
