import { uuidv7 } from '../../ids.js';
import { InvalidCursorError } from '../../store/types.js';
import { generateSecret } from '../../webhooks/signature.js';
import { WEBHOOK_EVENT_TYPES, type WebhookDelivery, type WebhookEndpoint } from '../../webhooks/types.js';
import { sealWebhookSecret } from '../../webhooks/secret-storage.js';
import type { ApiDeps, ApiInstance } from '../deps.js';
import { toDateTime } from '../message-view.js';
import { httpProblem, invalidRequest, problem, sendProblem } from '../problem.js';
import type { FieldError } from '../schema-errors.js';
import { NoContentSchema } from '../schemas/common.js';
import {
  DeadLetterPageJsonSchema,
  DeadLetterParamsSchema,
  DeadLetterQuerySchema,
  MAX_WEBHOOK_ENDPOINTS,
  WebhookCreatedJsonSchema,
  WebhookCreateSchema,
  WebhookDeliveryJsonSchema,
  WebhookEndpointJsonSchema,
  WebhookEndpointListJsonSchema,
  WebhookParamsSchema,
} from '../schemas/webhook.js';

/**
 * Outbound status webhooks of the request's space: `POST`, `GET` and `DELETE /v1/webhooks`,
 * and the dead letters of each endpoint with `POST …/replay`. The signing secret is returned
 * by the create response only.
 *
 * NOTE: the routes declare no scope, so only API keys with every scope can use them.
 */
export function registerWebhookRoutes(app: ApiInstance, deps: ApiDeps): void {
  // Endpoints receive every status event of the space, so they are configuration of the space.
  const config = { scope: 'admin' as const };
  app.post(
    '/v1/webhooks',
    {
      config,
      schema: {
        summary: 'Create a webhook endpoint',
        description:
          'Registers a URL that receives a POST for each event of the chosen types, signed the Standard Webhooks way ' +
          '(`webhook-id`, `webhook-timestamp` and `webhook-signature`, an HMAC-SHA256 over `id.timestamp.body`). ' +
          'The response is the only one that contains the signing secret. Failed tries are repeated with exponential backoff for about 29 hours; ' +
          'a delivery whose last try fails becomes a dead letter.',
        body: WebhookCreateSchema,
        response: { 201: WebhookCreatedJsonSchema },
        problems: { 409: `The space already has ${MAX_WEBHOOK_ENDPOINTS} webhook endpoints, the maximum.` },
      },
    },
    async (request, reply) => {
      const urlError = checkUrl(request.body.url);
      if (urlError !== null) return sendProblem(reply, invalidRequest([urlError]));

      const now = deps.now();
      const subscribed = new Set(request.body.events);
      const endpoint: WebhookEndpoint = {
        id: uuidv7(now),
        spaceId: request.spaceId,
        url: request.body.url,
        events: WEBHOOK_EVENT_TYPES.filter((type) => subscribed.has(type)),
        description: request.body.description ?? null,
        createdAt: now,
      };
      const secret = generateSecret();
      // Signing needs the secret itself, so it is stored encrypted rather than hashed.
      const sealed = sealWebhookSecret(deps.channelSettings.box, secret, endpoint.spaceId, endpoint.id);
      const stored = await deps.store.webhooks.createEndpoint({ ...endpoint, secret: sealed }, MAX_WEBHOOK_ENDPOINTS);
      if (stored.result === 'limit-reached') {
        const detail = `The space has ${MAX_WEBHOOK_ENDPOINTS} webhook endpoints, the maximum, so no endpoint was created. Delete an endpoint first.`;
        return sendProblem(reply, problem('limit-reached', detail));
      }

      request.log.info({ webhookId: endpoint.id, events: endpoint.events }, 'webhook endpoint created');
      return reply.status(201).send({ ...toEndpointJson(endpoint), secret });
    },
  );

  const listSchema = { summary: 'List webhook endpoints', description: 'Returns every endpoint of the space, without secrets.', response: { 200: WebhookEndpointListJsonSchema } };
  app.get('/v1/webhooks', { config, schema: listSchema }, async (request, reply) => {
    const endpoints = await deps.store.webhooks.listEndpoints(request.spaceId);
    return reply.send({ items: endpoints.map(toEndpointJson) });
  });

  app.get(
    '/v1/webhooks/:id',
    { config, schema: { summary: 'Get a webhook endpoint', params: WebhookParamsSchema, response: { 200: WebhookEndpointJsonSchema } } },
    async (request, reply) => {
      const endpoint = await deps.store.webhooks.getEndpoint(request.spaceId, request.params.id);
      if (endpoint === null) return sendProblem(reply, endpointNotFound(request.params.id));
      return reply.send(toEndpointJson(endpoint));
    },
  );

  const deleteSchema = {
    summary: 'Delete a webhook endpoint',
    description: 'Deletes the endpoint with all its deliveries, pending ones and dead letters included.',
    params: WebhookParamsSchema,
    response: { 204: NoContentSchema },
  };
  app.delete('/v1/webhooks/:id', { config, schema: deleteSchema }, async (request, reply) => {
    const deleted = await deps.store.webhooks.deleteEndpoint(request.spaceId, request.params.id);
    if (!deleted) return sendProblem(reply, endpointNotFound(request.params.id));
    request.log.info({ webhookId: request.params.id }, 'webhook endpoint deleted with its deliveries');
    return reply.status(204).send();
  });

  app.get(
    '/v1/webhooks/:id/dead-letters',
    {
      config,
      schema: {
        summary: 'List dead letters',
        description: 'Pages through the deliveries of the endpoint whose every try failed, newest first.',
        params: WebhookParamsSchema,
        querystring: DeadLetterQuerySchema,
        response: { 200: DeadLetterPageJsonSchema },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const endpoint = await deps.store.webhooks.getEndpoint(request.spaceId, id);
      if (endpoint === null) return sendProblem(reply, endpointNotFound(id));

      const filter = { status: 'dead' as const, limit: request.query.limit ?? 20, ...(request.query.cursor === undefined ? {} : { cursor: request.query.cursor }) };
      try {
        const page = await deps.store.webhooks.listDeliveries(request.spaceId, id, filter);
        return reply.send({ items: page.items.map(toDeliveryJson), nextCursor: page.nextCursor });
      } catch (error) {
        if (!(error instanceof InvalidCursorError)) throw error;
        const detail = 'is not a cursor returned by this API, so pass the nextCursor of a previous page or no cursor';
        return sendProblem(reply, invalidRequest([{ pointer: '/cursor', detail }], 'query string'));
      }
    },
  );

  app.post(
    '/v1/webhooks/:id/dead-letters/:deliveryId/replay',
    {
      config,
      schema: {
        summary: 'Replay a dead letter',
        description: 'Queues the dead letter for delivery again with a fresh retry schedule, and returns it as pending.',
        params: DeadLetterParamsSchema,
        response: { 202: WebhookDeliveryJsonSchema },
        problems: { 409: 'The delivery is not dead, so it was not replayed.' },
      },
    },
    async (request, reply) => {
      const { id, deliveryId } = request.params;
      // The webhook sender schedules on the system clock, so the replay is due by that clock.
      const replayed = await deps.store.webhooks.replayDelivery(request.spaceId, id, deliveryId, Date.now());
      switch (replayed.result) {
        case 'not-found':
          return sendProblem(reply, problem('not-found', `Webhook endpoint ${id} has no delivery ${deliveryId}.`));
        case 'not-dead':
          return sendProblem(
            reply,
            httpProblem(409, `Delivery ${deliveryId} is ${replayed.status}, not dead, so it was not replayed. Only dead letters can be replayed.`),
          );
        case 'replayed':
          request.log.info({ webhookId: id, deliveryId }, 'webhook dead letter queued for replay');
          return reply.status(202).send(toDeliveryJson(replayed.delivery));
      }
    },
  );
}

/** Returns the error of a URL that cannot be a webhook endpoint, or null. */
function checkUrl(value: string): FieldError | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { pointer: '/url', detail: 'is not a valid absolute URL; expected an http:// or https:// URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { pointer: '/url', detail: `has the scheme ${url.protocol.slice(0, 20)}; expected http: or https:` };
  }
  if (url.username !== '' || url.password !== '') {
    return { pointer: '/url', detail: 'contains a user name or password; remove them and verify the webhook-signature header instead' };
  }
  return null;
}

function endpointNotFound(id: string) {
  return problem('not-found', `Webhook endpoint ${id} was not found.`);
}

function toEndpointJson(endpoint: WebhookEndpoint) {
  return {
    id: endpoint.id,
    url: endpoint.url,
    events: endpoint.events,
    description: endpoint.description,
    createdAt: toDateTime(endpoint.createdAt),
  };
}

function toDeliveryJson(delivery: WebhookDelivery) {
  return {
    id: delivery.id,
    type: delivery.type,
    status: delivery.status,
    messageId: delivery.messageId,
    sequence: delivery.seq,
    attempts: delivery.attempts,
    lastStatus: delivery.lastStatus,
    lastError: delivery.lastError,
    createdAt: toDateTime(delivery.createdAt),
    updatedAt: toDateTime(delivery.updatedAt),
    nextAttemptAt: delivery.status === 'pending' ? toDateTime(delivery.runAt) : null,
    payload: JSON.parse(delivery.body) as unknown,
  };
}
