import { uuidv7 } from '../../ids.js';
import type { NewMessage } from '../../store/types.js';
import type { ApiDeps, ApiInstance } from '../deps.js';
import { Idempotency } from '../idempotency.js';
import { invalidRequest, sendProblem } from '../problem.js';
import { loadRuleSetCatalog } from '../rule-sets.js';
import type { FieldError } from '../schema-errors.js';
import { IDEMPOTENCY_PROBLEMS, IdempotencyHeadersSchema } from '../schemas/idempotency.js';
import { BatchResponseSchema } from '../schemas/message-view.js';
import { BatchRequestDocumentSchema, BatchRequestSchema, MAX_BATCH_SIZE } from '../schemas/send-request.js';
import { parseSendRequest } from '../send-request.js';
import { wakeWorker } from './messages.js';

/** Body limit of the batch route: up to 5,000 messages of about 2 KB each. */
export const BATCH_BODY_LIMIT = 10 * 1024 * 1024;

/**
 * `POST /v1/messages/batch` with `{ "messages": [ <send request>, ... ] }`.
 *
 * Each item is validated on its own, so one bad item does not reject the others. The valid
 * items are stored in one transaction and the response is 202 with
 * `{ "accepted": [{ "index", "messageId" }], "rejected": [{ "index", "errors" }] }`, where
 * `index` is the item's position in `messages` and each error's pointer starts with
 * `/messages/<index>`. When no item is valid, nothing is stored and the response is 400 with
 * every item's errors.
 */
export function registerBatchRoute(app: ApiInstance, deps: ApiDeps): void {
  const idempotency = new Idempotency(deps);
  app.post(
    '/v1/messages/batch',
    {
      bodyLimit: BATCH_BODY_LIMIT,
      config: { scope: 'messages:write' },
      schema: {
        summary: 'Send a batch of messages',
        description:
          `Takes up to ${MAX_BATCH_SIZE} send requests (at most 10 MiB) and checks each on its own, so that one bad item does not reject the others. ` +
          'The valid items are stored together and the response is 202 with the message id of each accepted item and the errors of each rejected one, by index. ' +
          'When no item is valid, nothing is stored and the response is 400 with every error.\n\n' +
          'A retry with the same `Idempotency-Key` and body within 24 hours gets the first response again and sends nothing.',
        headers: IdempotencyHeadersSchema,
        body: BatchRequestSchema,
        documentedBody: BatchRequestDocumentSchema,
        response: { 202: BatchResponseSchema },
        problems: IDEMPOTENCY_PROBLEMS,
      },
      preHandler: idempotency.preHandler,
      onResponse: idempotency.onResponse,
    },
    async (request, reply) => {
      const now = deps.now();
      const ruleSets = await loadRuleSetCatalog(deps.store, request.spaceId, request.body.messages);
      const ctx = { spaceId: request.spaceId, now, defaultRegion: deps.defaultRegion, newId: () => uuidv7(now), ruleSets };

      const messages: NewMessage[] = [];
      const accepted: Array<{ index: number; messageId: string }> = [];
      const rejected: Array<{ index: number; errors: FieldError[] }> = [];
      request.body.messages.forEach((item, index) => {
        const result = parseSendRequest(item, ctx);
        if (result.ok) {
          messages.push(result.message);
          accepted.push({ index, messageId: result.message.id });
        } else {
          const errors = result.errors.map((error) => ({ pointer: `/messages/${index}${error.pointer}`, detail: error.detail }));
          rejected.push({ index, errors });
        }
      });

      if (messages.length === 0) {
        return sendProblem(reply, invalidRequest(rejected.flatMap((item) => item.errors)));
      }

      const response = { accepted, rejected };
      if (!(await idempotency.storeMessages(request, reply, messages, { status: 202, body: response }))) return reply;
      request.log.info({ accepted: accepted.length, rejected: rejected.length }, 'message batch accepted');
      wakeWorker(deps, request.log, messages.length);
      return reply.status(202).send(response);
    },
  );
}
