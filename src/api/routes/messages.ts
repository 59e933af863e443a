import { uuidv7 } from '../../ids.js';
import { InvalidCursorError, type MessageFilter } from '../../store/types.js';
import type { ApiDeps, ApiInstance } from '../deps.js';
import { Idempotency } from '../idempotency.js';
import { toDateTime, toMessageJson } from '../message-view.js';
import { invalidRequest, problem, sendProblem } from '../problem.js';
import { loadRuleSetCatalog } from '../rule-sets.js';
import { IDEMPOTENCY_PROBLEMS, IdempotencyHeadersSchema } from '../schemas/idempotency.js';
import {
  MessageIdParamsSchema,
  MessageJsonSchema,
  MessageListQuerySchema,
  MessagePageJsonSchema,
  SendResponseSchema,
} from '../schemas/message-view.js';
import { SendRequestSchema, type SendRequest } from '../schemas/send-request.js';
import { checkSendRequest } from '../send-request.js';
import { describeAccepted } from '../status-details.js';

const DEFAULT_PAGE_SIZE = 20;

/**
 * `POST /v1/messages`, `GET /v1/messages`, `GET /v1/messages/{id}` and
 * `POST /v1/messages/{id}/cancel`.
 */
export function registerMessageRoutes(app: ApiInstance, deps: ApiDeps): void {
  const idempotency = new Idempotency(deps);
  app.post(
    '/v1/messages',
    {
      config: { scope: 'messages:write' },
      schema: {
        summary: 'Send a message',
        description:
          'Checks the send request, stores the message with its fallback route and responds with 201 before any channel is tried. ' +
          'Follow the message with `GET /v1/messages/{id}` or with status webhooks.\n\n' +
          'A retry with the same `Idempotency-Key` and body within 24 hours gets the first response again, with `Idempotent-Replayed: true`, and sends nothing.',
        headers: IdempotencyHeadersSchema,
        body: SendRequestSchema,
        response: { 201: SendResponseSchema },
        problems: IDEMPOTENCY_PROBLEMS,
      },
      preHandler: idempotency.preHandler,
      onResponse: idempotency.onResponse,
    },
    async (request, reply) => {
      const now = deps.now();
      const ruleSets = await loadRuleSetCatalog(deps.store, request.spaceId, [request.body]);
      const result = checkSendRequest(request.body, {
        spaceId: request.spaceId,
        now,
        defaultRegion: deps.defaultRegion,
        newId: () => uuidv7(now),
        ruleSets,
      });
      if (!result.ok) return sendProblem(reply, invalidRequest(result.errors));

      const message = result.message;
      const response = {
        ...(message.request as SendRequest),
        messageId: message.id,
        status: 'processing' as const,
        statusDetails: describeAccepted(message),
        sentOn: toDateTime(message.createdAt),
      };
      if (!(await idempotency.storeMessages(request, reply, [message], { status: 201, body: response }))) return reply;
      request.log.info({ messageId: message.id, channels: message.steps.map((step) => step.channel) }, 'message accepted');
      wakeWorker(deps, request.log);

      return reply.status(201).send(response);
    },
  );

  app.get(
    '/v1/messages/:id',
    {
      config: { scope: 'messages:read' },
      schema: {
        summary: 'Get a message',
        description: 'Returns the message with its status, the channel that succeeded, and every step, attempt, receipt and event.',
        params: MessageIdParamsSchema,
        response: { 200: MessageJsonSchema },
      },
    },
    async (request, reply) => {
      const view = await deps.store.getMessage(request.spaceId, request.params.id);
      if (view === null) return sendProblem(reply, messageNotFound(request.params.id));
      return reply.send(toMessageJson(view));
    },
  );

  app.get(
    '/v1/messages',
    {
      config: { scope: 'messages:read' },
      schema: {
        summary: 'List messages',
        description: 'Pages through the messages of the space, newest first. Pass `nextCursor` as `cursor` for the next page; it is null on the last page.',
        querystring: MessageListQuerySchema,
        response: { 200: MessagePageJsonSchema },
      },
    },
    async (request, reply) => {
      const query = request.query;
      const filter: MessageFilter = { limit: query.limit ?? DEFAULT_PAGE_SIZE };
      if (query.profileId !== undefined) filter.profileId = query.profileId;
      if (query.status !== undefined) filter.status = query.status;
      if (query.since !== undefined) filter.since = Date.parse(query.since);
      if (query.cursor !== undefined) filter.cursor = query.cursor;

      try {
        const page = await deps.store.listMessages(request.spaceId, filter);
        return reply.send({ items: page.items.map(toMessageJson), nextCursor: page.nextCursor });
      } catch (error) {
        if (!(error instanceof InvalidCursorError)) throw error;
        const detail = 'is not a cursor returned by this API, so pass the nextCursor of a previous page or no cursor';
        return sendProblem(reply, invalidRequest([{ pointer: '/cursor', detail }], 'query string'));
      }
    },
  );

  app.post(
    '/v1/messages/:id/cancel',
    {
      config: { scope: 'messages:write' },
      schema: {
        summary: 'Cancel a message',
        description: 'Ends a message that is not final as `cancelled`, cancels each of its unfinished steps, and returns it. A provider that already has the message may still deliver it.',
        params: MessageIdParamsSchema,
        response: { 200: MessageJsonSchema },
        problems: { 409: 'The message is already final, so it cannot be cancelled.' },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const current = await deps.store.getMessage(request.spaceId, id);
      if (current === null) return sendProblem(reply, messageNotFound(id));
      if (current.completedAt !== null) {
        return sendProblem(
          reply,
          problem(
            'message-final',
            `Message ${id} is already final with status ${current.status}, so it cannot be cancelled.`,
          ),
        );
      }

      const view = await deps.cancelMessage(request.spaceId, id);
      if (view === null) return sendProblem(reply, messageNotFound(id));
      return reply.send(toMessageJson(view));
    },
  );
}

export function messageNotFound(id: string) {
  return problem('not-found', `Message ${id} was not found.`);
}

/** Wakes the delivery worker. The messages are committed already, so a failing wake-up only delays them until the next poll. */
export function wakeWorker(deps: ApiDeps, log: { error(object: object, message: string): void }, count = 1): void {
  try {
    deps.onAccepted(count);
  } catch (error) {
    log.error({ err: error }, 'waking the delivery worker failed, so accepted messages wait for its next poll');
  }
}
