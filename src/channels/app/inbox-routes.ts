import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import { Type } from 'typebox';
import { httpProblem, invalidRequest, problem, sendProblem } from '../../api/problem.js';
import { compileValidator } from '../../api/validator.js';
import { authenticateAppToken, bearerToken, type AppAuthResult, type AppIdentity } from './auth.js';
import { DeviceBodySchema, DeviceIdParamsSchema, checkPushSubscription } from './device-input.js';
import { MAX_MESSAGE_ID_LENGTH, toFeedMessage } from './frames.js';
import type { InboxPage } from './protocol.js';
import type { AppRoutesDeps } from './routes.js';
import type { AppDevice, PushSubscriptionInput } from './types.js';

type TypedInstance = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

/** Devices one app user may register; registering another one fails with 409. */
export const MAX_DEVICES_PER_USER = 20;
const DEFAULT_INBOX_LIMIT = 50;
const MAX_INBOX_LIMIT = 100;

const InboxQuerySchema = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_INBOX_LIMIT })),
  },
  { additionalProperties: false },
);

const MessageParamsSchema = Type.Object({
  messageId: Type.String({ minLength: 1, maxLength: MAX_MESSAGE_ID_LENGTH }),
});

const validateDeviceBody = compileValidator(DeviceBodySchema);

const NullableDateTime = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

const FeedMessageSchema = Type.Object({
  messageId: Type.String(),
  seq: Type.Integer({ description: 'Position in the app user\'s feed; only grows.' }),
  title: Type.Union([Type.String(), Type.Null()]),
  body: Type.String(),
  sentOn: Type.String({ format: 'date-time', description: 'When the message was handed to the app channel.' }),
  data: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], { description: 'Data for the app from customBody.appMessaging.data; null when the message has none.' }),
  // Optional because `FeedMessage` allows leaving them out, though these routes always send both.
  deliveredAt: Type.Optional(Type.With(NullableDateTime, { description: 'When an app of this user acknowledged the message as delivered; null before.' })),
  readAt: Type.Optional(Type.With(NullableDateTime, { description: 'When an app of this user marked the message read; null before.' })),
});

const InboxPageSchema = Type.Object({
  messages: Type.Array(FeedMessageSchema),
  lastSeq: Type.Integer({ description: 'The seq of the last message returned, else the after used. Pass it as the next after.' }),
});

const DeviceJsonSchema = Type.Object({
  deviceId: Type.String(),
  push: Type.Union([
    Type.Object({ endpoint: Type.String(), keys: Type.Object({ p256dh: Type.String(), auth: Type.String() }) }),
    Type.Null(),
  ]),
  createdAt: Type.String({ format: 'date-time' }),
  lastSeenAt: Type.String({ format: 'date-time' }),
});

const DocumentedDeviceBodySchema = Type.With(DeviceBodySchema, {
  examples: [
    {
      push: {
        endpoint: 'https://push.example.net/send/c2b3a8e4',
        keys: {
          p256dh: 'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM',
          auth: 'tBHItJI5svbpez7KI4CCXg',
        },
      },
    },
  ],
});

const BEARER_HINT = 'Send Authorization: Bearer <app token>.';

/** Paths of the HTTP app routes, for CORS preflight requests. */
const APP_HTTP_PATHS = ['/v1/app/push-key', '/v1/app/inbox', '/v1/app/inbox/:messageId/ack', '/v1/app/inbox/:messageId/read', '/v1/app/devices/:deviceId'];

/**
 * The HTTP side of the app channel, for apps without an open socket. Register it in a scope of
 * its own, because it adds an authentication hook to the scope. Every route takes an app
 * token as `Authorization: Bearer <app token>` and can read and change only the feed and
 * devices of that token's app user in that token's space.
 *
 * Browsers may call these routes from any origin: the token is sent explicitly, not as a
 * cookie, so a page from another origin cannot use a visitor's token without holding it.
 */
export function registerInboxRoutes(app: TypedInstance, deps: AppRoutesDeps): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('Access-Control-Allow-Origin', '*');
    if (request.method === 'OPTIONS') return undefined;
    const auth = authenticateAppToken(bearerToken(request.headers.authorization), deps.tokenSecret, deps.now(), BEARER_HINT);
    if (!auth.ok) return sendUnauthorized(reply, auth);
    request.appIdentity = auth.identity;
    return undefined;
  });

  const preflightSchema = {
    summary: 'CORS preflight',
    description: 'Allows browsers on any origin to call the app routes with an Authorization header. Needs no credentials.',
    response: { 204: Type.Unsafe<undefined>({ type: 'null', description: 'The CORS headers, with no body.' }) },
  };
  for (const path of APP_HTTP_PATHS) {
    app.options(path, { schema: preflightSchema }, async (_request, reply) => {
      reply.header('Access-Control-Allow-Methods', 'GET, POST, PUT, DELETE');
      reply.header('Access-Control-Allow-Headers', 'Authorization, Content-Type');
      reply.header('Access-Control-Max-Age', '600');
      return reply.status(204).send();
    });
  }

  const pushKeySchema = {
    summary: 'Get the Web Push key',
    description: 'The VAPID public key of the app user\'s space, for pushManager.subscribe({ applicationServerKey }).',
    response: { 200: Type.Object({ publicKey: Type.String() }) },
    problems: { 404: 'Web Push is not configured on this server.' },
  };
  app.get('/v1/app/push-key', { schema: pushKeySchema }, async (request, reply) => {
    const { spaceId } = identityOf(request);
    const publicKey = (await deps.spacePushPublicKey?.(spaceId)) ?? deps.pushPublicKey ?? null;
    if (publicKey === null) return sendProblem(reply, problem('not-found', 'Web Push is not configured on this server.'));
    // The VAPID public key for `pushManager.subscribe({ applicationServerKey })`.
    return reply.send({ publicKey });
  });

  const inboxSchema = {
    summary: 'Read the inbox',
    description: `Returns the app user's feed messages with a seq above after, oldest first, up to limit (default ${DEFAULT_INBOX_LIMIT}).`,
    querystring: InboxQuerySchema,
    response: { 200: InboxPageSchema },
  };
  app.get('/v1/app/inbox', { schema: inboxSchema }, async (request, reply) => {
    const { spaceId, appUserId } = identityOf(request);
    // An `after` beyond the end of the feed (kept from a reset database) counts as the end.
    const after = Math.min(request.query.after ?? 0, await deps.feed.lastFeedSeq(spaceId, appUserId));
    const entries = await deps.feed.readFeed(spaceId, appUserId, after, request.query.limit ?? DEFAULT_INBOX_LIMIT);
    const page: InboxPage = { messages: entries.map(toFeedMessage), lastSeq: entries.at(-1)?.seq ?? after };
    return reply.send(page);
  });

  for (const [action, state] of [['ack', 'delivered'], ['read', 'read']] as const) {
    const acknowledgeSchema = {
      summary: action === 'ack' ? 'Acknowledge a message as delivered' : 'Mark a message read',
      description:
        state === 'read'
          ? 'Records that the person read the message, which also marks it delivered; repeating it changes nothing. Returns the message.'
          : 'Records that an app of this user has the message; repeating it changes nothing. Returns the message.',
      params: MessageParamsSchema,
      response: { 200: FeedMessageSchema },
    };
    app.post(`/v1/app/inbox/:messageId/${action}`, { schema: acknowledgeSchema }, async (request, reply) => {
      const { spaceId, appUserId } = identityOf(request);
      const { messageId } = request.params;
      const result = await deps.hub.acknowledge(spaceId, appUserId, messageId, state);
      if (result.outcome === 'not-found') return sendProblem(reply, messageNotFound(messageId));
      return reply.send(toFeedMessage(result.entry));
    });
  }

  const deviceSchema = {
    summary: 'Register a device',
    description: `Creates or updates a device of the app user, with the browser's push subscription or without one. One app user may have ${MAX_DEVICES_PER_USER} devices.`,
    params: DeviceIdParamsSchema,
    documentedBody: DocumentedDeviceBodySchema,
    response: { 200: DeviceJsonSchema },
    problems: { 409: `The app user already has ${MAX_DEVICES_PER_USER} devices, the maximum.` },
  };
  app.put('/v1/app/devices/:deviceId', { schema: deviceSchema }, async (request, reply) => {
    const { spaceId, appUserId } = identityOf(request);
    const { deviceId } = request.params;
    const checked = validateDeviceBody(request.body ?? {});
    if (!checked.ok) return sendProblem(reply, invalidRequest(checked.errors));
    let push: PushSubscriptionInput | null = null;
    if (checked.value.push !== undefined && checked.value.push !== null) {
      const subscription = checkPushSubscription(checked.value.push, deps.pushEndpointPolicy ?? {});
      if (!subscription.ok) return sendProblem(reply, invalidRequest(subscription.errors));
      push = subscription.push;
    }

    const devices = await deps.feed.listDevices(spaceId, appUserId);
    if (devices.length >= MAX_DEVICES_PER_USER && !devices.some((device) => device.deviceId === deviceId)) {
      const detail = `This app user already has ${devices.length} devices, the maximum. Delete one with DELETE /v1/app/devices/{deviceId} first.`;
      return sendProblem(reply, httpProblem(409, detail));
    }
    const device = await deps.feed.upsertDevice({ spaceId, appUserId, deviceId, push }, deps.now());
    request.log.info({ spaceId, deviceId, push: push !== null }, 'app device registered');
    return reply.send(toDeviceJson(device));
  });

  const deleteDeviceSchema = {
    summary: 'Delete a device',
    params: DeviceIdParamsSchema,
    response: { 204: Type.Unsafe<undefined>({ type: 'null', description: 'The device was deleted.' }) },
  };
  app.delete('/v1/app/devices/:deviceId', { schema: deleteDeviceSchema }, async (request, reply) => {
    const { spaceId, appUserId } = identityOf(request);
    const { deviceId } = request.params;
    const deleted = await deps.feed.deleteDevice(spaceId, appUserId, deviceId);
    if (!deleted) return sendProblem(reply, problem('not-found', `Device ${JSON.stringify(deviceId)} is not registered for this app user.`));
    request.log.info({ spaceId, deviceId }, 'app device deleted');
    return reply.status(204).send();
  });
}

function identityOf(request: FastifyRequest): AppIdentity {
  const identity = request.appIdentity;
  // The onRequest hook responds with 401 before a handler can run without an identity.
  if (identity === null) throw new Error('App route reached without an authenticated app user.');
  return identity;
}

function messageNotFound(messageId: string) {
  return problem('not-found', `Message ${JSON.stringify(messageId)} is not in this app user's feed.`);
}

function toDeviceJson(device: AppDevice) {
  return {
    deviceId: device.deviceId,
    push: device.push,
    createdAt: new Date(device.createdAt).toISOString(),
    lastSeenAt: new Date(device.lastSeenAt).toISOString(),
  };
}

/** Sends 401 for a missing or invalid app token, with the RFC 6750 challenge. */
export function sendUnauthorized(reply: FastifyReply, result: Extract<AppAuthResult, { ok: false }>): FastifyReply {
  reply.header('WWW-Authenticate', result.reason === 'missing' ? 'Bearer' : 'Bearer error="invalid_token"');
  return sendProblem(reply, problem('unauthorized', result.detail));
}
