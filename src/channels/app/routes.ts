import fastifyWebsocket from '@fastify/websocket';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { Type } from 'typebox';
import { httpProblem, problem, sendProblem } from '../../api/problem.js';
import { authenticateAppToken, socketToken, type AppIdentity } from './auth.js';
import { MAX_CLIENT_FRAME_BYTES } from './frames.js';
import type { AppHub } from './hub.js';
import { registerInboxRoutes, sendUnauthorized } from './inbox-routes.js';
import { APP_SOCKET_PROTOCOL } from './protocol.js';
import type { PushEndpointPolicy } from './push-subscription.js';
import { MAX_APP_TOKEN_LENGTH } from './token.js';
import type { AppFeedStore } from './types.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The app user an app route acts for, set by app token authentication; null on other routes. */
    appIdentity: AppIdentity | null;
  }
}

export interface AppRoutesDeps {
  feed: AppFeedStore;
  /** Secret that verifies app tokens, the one `POST /v1/app/tokens` signs them with. */
  tokenSecret: string;
  hub: AppHub;
  /** Policy for the push endpoints devices may register. Without it only https endpoints on public hosts are accepted. */
  pushEndpointPolicy?: PushEndpointPolicy;
  /** The VAPID public key served by `GET /v1/app/push-key`; null or absent when Web Push is off. */
  pushPublicKey?: string | null;
  /** The public key of a space with Web Push settings of its own; null when it has none. */
  spacePushPublicKey?: (spaceId: string) => Promise<string | null>;
  /** Epoch milliseconds. */
  now(): number;
  logger: Logger;
}

export type AppRoutesInstance = FastifyInstance;

const SocketQuerySchema = Type.Object(
  {
    token: Type.Optional(Type.String({ maxLength: MAX_APP_TOKEN_LENGTH })),
    after: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'the last seq the client has seen' })),
  },
  { additionalProperties: false },
);

const SOCKET_TOKEN_HINT = `Send it in Sec-WebSocket-Protocol after ${APP_SOCKET_PROTOCOL}, or in the token query parameter.`;

/**
 * Registers the routes apps use with an app token instead of the API key: the socket
 * `GET /v1/app/socket` and the HTTP inbox and device routes. Call it on the API's root instance
 * before it listens, because it also registers `@fastify/websocket` there.
 */
export async function registerAppRoutes(app: AppRoutesInstance, deps: AppRoutesDeps): Promise<void> {
  await app.register(fastifyWebsocket, {
    // Errors on an open socket are the client's: an oversized or malformed WebSocket frame.
    errorHandler: (error, socket) => {
      deps.logger.info({ code: (error as NodeJS.ErrnoException).code, error: error.message }, 'app socket closed after a WebSocket protocol error');
      socket.terminate();
    },
    options: {
      maxPayload: MAX_CLIENT_FRAME_BYTES,
      // The client offers `cascade.v1` and its token, and selecting the token would echo it back.
      handleProtocols: (protocols) => (protocols.has(APP_SOCKET_PROTOCOL) ? APP_SOCKET_PROTOCOL : false),
    },
  });

  await app.register(async (scope) => {
    const typed = scope.withTypeProvider<TypeBoxTypeProvider>();
    typed.decorateRequest('appIdentity', null);

    typed.route({
      method: 'GET',
      url: '/v1/app/socket',
      // The query string may carry the token, so the request log shows the path only.
      logSerializers: { req: serializeSocketRequest },
      schema: {
        summary: 'Open the app socket',
        description:
          'A WebSocket connection for one app user. The app token comes in Sec-WebSocket-Protocol after cascade.v1, or in the token query parameter. ' +
          'The server first sends every feed message with a seq above `after`, oldest first, then a ready frame, and then new messages as they arrive. ' +
          'Frames are JSON text; the client acknowledges messages with ack and read frames.',
        querystring: SocketQuerySchema,
        response: { 101: Type.Unsafe<undefined>({ type: 'null', description: 'Switched to the WebSocket protocol.' }) },
        problems: {
          426: 'The request is not a WebSocket upgrade.',
          429: 'The app user already has the maximum number of open sockets, or a request rate limit is reached.',
          503: 'The server is stopping.',
        },
      },
      onRequest: async (request, reply) => {
        const found = socketToken(headerValue(request.headers['sec-websocket-protocol']), (request.query as { token?: string }).token);
        if (!found.ok) return sendProblem(reply, problem('invalid-request', found.detail));
        const auth = authenticateAppToken(found.token, deps.tokenSecret, deps.now(), SOCKET_TOKEN_HINT);
        if (!auth.ok) return sendUnauthorized(reply, auth);

        const rejection = deps.hub.admission(auth.identity.spaceId, auth.identity.appUserId);
        if (rejection === 'closing') return sendProblem(reply, httpProblem(503, 'The server is stopping. Connect again shortly.'));
        if (rejection === 'too-many-sockets') {
          const detail = `This app user already has ${deps.hub.maxSocketsPerUser} open sockets, the maximum. Close one before opening another.`;
          return sendProblem(reply, httpProblem(429, detail));
        }
        request.appIdentity = auth.identity;
        return undefined;
      },
      handler: async (_request, reply) => {
        reply.header('Upgrade', 'websocket');
        return sendProblem(reply, httpProblem(426, 'GET /v1/app/socket accepts WebSocket connections only.'));
      },
      wsHandler: (socket, request) => {
        const identity = request.appIdentity;
        if (identity === null) {
          socket.close(1011, 'not authenticated');
          return;
        }
        deps.hub.open(socket, identity, request.query.after ?? 0);
      },
    });

    await typed.register(async (inbox) => registerInboxRoutes(inbox, deps));
  });
}

function serializeSocketRequest(request: FastifyRequest): Record<string, unknown> {
  return { method: request.method, url: request.url.split('?')[0], host: request.host, remoteAddress: request.ip };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}
