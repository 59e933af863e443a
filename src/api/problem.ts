import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { CHANNEL_IDS } from '../routing/types.js';
import type { FieldError } from './schema-errors.js';

/**
 * RFC 9457 problem details. Every error response of the API has this shape and the media type
 * `application/problem+json`. `type` is a URN that identifies the kind of problem and is not
 * meant to be fetched.
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** Matches the `reqId` of the server's log lines for this request. */
  requestId?: string;
  /** The bad fields of a request that failed validation. */
  errors?: FieldError[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const PROBLEM_KINDS = {
  'invalid-request': { status: 400, title: 'Invalid request' },
  'malformed-body': { status: 400, title: 'Malformed request body' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  'insufficient-scope': { status: 403, title: 'Insufficient scope' },
  'admin-api-disabled': { status: 403, title: 'Admin API disabled' },
  'not-found': { status: 404, title: 'Not found' },
  'message-final': { status: 409, title: 'Message already final' },
  'idempotency-key-in-use': { status: 409, title: 'Idempotency key in use' },
  'limit-reached': { status: 409, title: 'Limit reached' },
  'body-too-large': { status: 413, title: 'Request body too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'idempotency-key-reused': { status: 422, title: 'Idempotency key reused' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal server error' },
} as const;

export type ProblemKind = keyof typeof PROBLEM_KINDS;

export function problem(kind: ProblemKind, detail: string, errors?: FieldError[]): Problem {
  const { status, title } = PROBLEM_KINDS[kind];
  // NOTE: `cascade` is not a registered URN namespace. Once the project publishes pages that
  // document each problem, these types should become their https URLs.
  const result: Problem = { type: `urn:cascade:problem:${kind}`, title, status, detail };
  if (errors) result.errors = errors;
  return result;
}

/** Builds a problem identified by its HTTP status alone, titled with the standard reason phrase. */
export function httpProblem(status: number, detail: string): Problem {
  return { type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, detail };
}

export function invalidRequest(errors: FieldError[], location = 'request body'): Problem {
  const count = errors.length;
  const detail = `The ${location} has ${count} invalid ${count === 1 ? 'field' : 'fields'}, listed in errors.`;
  return problem('invalid-request', detail, errors);
}

export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  return reply
    .status(body.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send({ ...body, requestId: reply.request.id });
}

/**
 * An error that carries the problem to respond with. Code that cannot reply itself throws it,
 * such as the hooks of `@fastify/rate-limit`, and `handleError` sends the problem as it is.
 */
export class ProblemError extends Error {
  readonly statusCode: number;

  constructor(readonly problem: Problem) {
    super(problem.detail);
    this.name = 'ProblemError';
    this.statusCode = problem.status;
  }
}

/** A validation failure of one part of a request, with every bad field. */
export class RequestValidationError extends Error {
  readonly statusCode = 400;

  constructor(
    readonly errors: FieldError[],
    /** `body`, `querystring`, `params` or `headers`. */
    readonly location: string,
  ) {
    super(`Invalid ${location}: ${errors.map((error) => `${error.pointer || '/'} ${error.detail}`).join(', ')}`);
    this.name = 'RequestValidationError';
  }
}

type SchemaErrorFormatter = NonNullable<FastifyServerOptions['schemaErrorFormatter']>;

/** Keeps the field errors described by the validator compiler for the error handler. */
export const schemaErrorFormatter: SchemaErrorFormatter = (errors, location) =>
  new RequestValidationError(
    errors.map((error) => ({ pointer: error.instancePath, detail: error.message ?? 'is invalid' })),
    location,
  );

const LOCATION_NAMES: Record<string, string> = {
  body: 'request body',
  querystring: 'query string',
  params: 'path parameters',
  headers: 'request headers',
};

/**
 * Turns every error that reaches Fastify into a problem response. Client errors keep their
 * message. Any other error is logged with the request id and gets a bare 500 response, so
 * that no internals leak.
 */
export function handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof RequestValidationError) {
    return sendProblem(reply, invalidRequest(error.errors, LOCATION_NAMES[error.location] ?? error.location));
  }
  if (error instanceof ProblemError) return sendProblem(reply, error.problem);

  const code = 'code' in error ? error.code : undefined;
  switch (code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return sendProblem(reply, problem('malformed-body', 'The request body is not valid JSON.'));
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return sendProblem(reply, problem('malformed-body', 'The request body is empty. Send a JSON object.'));
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      const limit = request.routeOptions.bodyLimit;
      return sendProblem(reply, problem('body-too-large', `The request body is larger than the limit of ${formatBytes(limit)} for this route.`));
    }
    case 'ECONNRESET':
      // The connection closed while the body was being read, for example after the HTTP parser
      // rejected a malformed chunk, so this response is most likely never delivered.
      request.log.info({ err: error }, 'connection closed before the request body was received');
      return sendProblem(reply, httpProblem(400, 'The connection closed before the request body was received completely.'));
    case 'FST_ERR_BAD_URL':
      return sendProblem(
        reply,
        httpProblem(400, 'The request URL contains an invalid percent-encoding, such as %FF or a lone %. Percent-encode the UTF-8 bytes of each path segment.'),
      );
    case 'FST_ERR_MAX_PARAM_LENGTH': {
      // Fastify's default is 100 characters when no router option sets it.
      const limit = request.server.initialConfig.routerOptions?.maxParamLength ?? 100;
      return sendProblem(reply, httpProblem(414, `A path parameter of the request URL is longer than ${limit} characters, the limit.`));
    }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return sendProblem(
        reply,
        problem(
          'unsupported-media-type',
          `Content-Type ${JSON.stringify((request.headers['content-type'] ?? '').slice(0, 100))} is not supported. Send the body as application/json.`,
        ),
      );
  }

  const statusCode = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (statusCode >= 400 && statusCode < 500 && typeof code === 'string' && code.startsWith('FST_')) {
    return sendProblem(reply, httpProblem(statusCode, error.message));
  }

  request.log.error({ err: error }, 'request failed with an unexpected error');
  return sendProblem(
    reply,
    problem('internal', 'The server failed to handle the request. The requestId identifies the failure in the server log.'),
  );
}

type ClientErrorHandler = NonNullable<FastifyServerOptions['clientErrorHandler']>;

/**
 * Responds to requests that Node.js could not parse as HTTP, such as a malformed request line,
 * header or chunked body, with a problem response and closes the connection. Fastify calls it
 * with the server instance as `this`. Such requests never reach routing, so they have no
 * request id.
 */
export const handleClientError: ClientErrorHandler = function (this: FastifyInstance, error, socket) {
  // A reset or destroyed connection cannot carry a response.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;

  let body: Problem;
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    body = httpProblem(408, 'The request was not received completely in time. Send it again.');
  } else if (error.code === 'HPE_HEADER_OVERFLOW') {
    body = httpProblem(431, 'The request headers are larger than the server accepts. Send shorter headers.');
  } else {
    body = httpProblem(400, 'The request is not valid HTTP/1.1: its request line, a header or its chunked body could not be parsed.');
  }
  this.log.debug({ err: error, status: body.status }, 'malformed HTTP request rejected');
  if (socket.writable) {
    const text = JSON.stringify(body);
    socket.write(
      `HTTP/1.1 ${body.status} ${body.title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    );
  }
  socket.destroy(error);
};

export function handleNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = request.url.split('?')[0] ?? request.url;
  // The channel settings routes have one static path per channel, so a misspelt channel lands here.
  const hint = /^\/v1\/channels\/[^/]+$/.test(path) ? ` The channels are ${CHANNEL_IDS.join(', ')}, spelt exactly so.` : '';
  return sendProblem(reply, problem('not-found', `No route matches ${request.method} ${path}.${hint}`));
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
