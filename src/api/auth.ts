import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { problem, sendProblem } from './problem.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The space the request acts in, set by authentication. */
    spaceId: string;
  }
}

/** Every API key belongs to this space until spaces can be created. */
export const DEFAULT_SPACE_ID = 'default';

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Builds an `onRequest` hook that admits requests carrying `Authorization: Bearer <apiKey>`.
 * It runs before the body is parsed, so that a request without a valid key learns nothing
 * about validation. Both keys are hashed first, so the comparison takes the same time for
 * every presented key whatever its length. The key is never logged.
 */
export function createBearerAuth(apiKey: string): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined> {
  if (apiKey.length === 0) throw new Error('The API key is empty. Configure a non-empty API_KEY.');
  const expected = sha256(apiKey);

  return async (request, reply) => {
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);

    if (!match?.[1]) {
      reply.header('WWW-Authenticate', 'Bearer');
      const detail =
        header === undefined
          ? 'The Authorization header is missing. Send Authorization: Bearer <API key>.'
          : 'The Authorization header is not of the form Bearer <API key>.';
      return sendProblem(reply, problem('unauthorized', detail));
    }
    if (!timingSafeEqual(sha256(match[1]), expected)) {
      reply.header('WWW-Authenticate', 'Bearer error="invalid_token"');
      return sendProblem(reply, problem('unauthorized', 'The API key is not valid.'));
    }
    request.spaceId = DEFAULT_SPACE_ID;
    return undefined;
  };
}
