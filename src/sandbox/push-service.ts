import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { RecordLog } from './record-log.js';
import { checkPushRequest, readPushHeaders } from './push-request.js';
import { parseVapidAuthorization, verifyVapid, type VapidCredentials } from './push-vapid.js';

/** Statuses a sandbox subscription can be configured to return for every valid push. */
export type SandboxPushResponse = 201 | 404 | 410 | 429 | 500;

export interface SandboxPushSubscribeOptions {
  /** Status for every valid push to this endpoint. Default 201 (accepted, with a `Location` header). */
  respond?: SandboxPushResponse;
  /** `Retry-After` of a 429 response, in seconds. Default 1. */
  retryAfterSeconds?: number;
  /**
   * The `applicationServerKey` the subscription was made with (base64url). When set, pushes
   * signed with another VAPID key are rejected with 403, as browsers' push services do.
   */
  applicationServerKey?: string;
}

/** One push request the sandbox received, accepted or not. */
export interface PushRecord {
  /** The endpoint URL the push was sent to. */
  endpoint: string;
  /** The RFC 8030 headers as sent; each is null when absent. */
  headers: {
    ttl: string | null;
    urgency: string | null;
    topic: string | null;
    contentEncoding: string | null;
    /** The `Authorization: vapid` parameters; null when absent or not of the vapid scheme. */
    vapid: VapidCredentials | null;
  };
  /** The encrypted body as received; empty when it was larger than the limit. */
  body: Buffer;
  /** Size of the body as sent, in bytes. */
  bodyBytes: number;
  /** HTTP status of the response. */
  status: number;
  /** Reason for the rejection; null when the status came from the subscription's `respond` option. */
  error: string | null;
  /** Epoch ms. */
  receivedAt: number;
}

export interface SandboxPushServiceOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0, which picks a free port. */
  port?: number;
  logger: Logger;
  /** Maximum push body size in bytes; larger bodies get 413. Default 4096, the size RFC 8030 section 7.2 requires push services to accept. */
  maxBodyBytes?: number;
}

export interface SandboxPushService {
  host: string;
  port: number;
  /** `http://host:port`, the origin of every endpoint and the required VAPID `aud`. */
  url: string;
  /** Creates an endpoint on this service. The caller generates and keeps the subscription's keys. */
  subscribe(options?: SandboxPushSubscribeOptions): { endpoint: string };
  /** Push requests received, oldest first; the last 10,000 are kept. */
  received(): PushRecord[];
  /**
   * Resolves with the first received push that matches, waiting for new ones. Rejects when none
   * arrives within `timeoutMs` or when the service closes.
   */
  waitFor(predicate: (record: PushRecord) => boolean, timeoutMs: number): Promise<PushRecord>;
  close(): Promise<void>;
}

interface SandboxSubscription {
  respond: SandboxPushResponse;
  retryAfterSeconds: number;
  applicationServerKey: string | null;
  /** The last accepted push, for `GET /sandbox/push/:id`. */
  lastPush: PushRecord | null;
}

const MAX_RECORDS = 10_000;
/** Maximum number of subscriptions kept. The oldest is dropped first, and its endpoint then returns 404. */
const MAX_SUBSCRIPTIONS = 10_000;
const DEFAULT_MAX_BODY_BYTES = 4096;
/** Maximum JSON body size of `POST /sandbox/push/subscriptions`, in bytes. */
const MAX_SUBSCRIBE_BODY_BYTES = 4096;
const PUSH_PATH = /^\/push\/([A-Za-z0-9_-]+)$/;
const LAST_PUSH_PATH = /^\/sandbox\/push\/([A-Za-z0-9_-]+)$/;
const RESPONSES: readonly number[] = [201, 404, 410, 429, 500];
const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  410: 'Gone',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
};

/**
 * Starts a local Web Push service (RFC 8030) for development and tests. Endpoints are
 * `POST /push/:id`. A push must carry `Authorization: vapid t=<JWT>, k=<key>` with a valid
 * ES256 JWT whose `aud` is this service's `url` (RFC 8292): absent, 401; invalid, 403. It must
 * carry a `TTL` header (else 400) and, when it has a body, use `Content-Encoding: aes128gcm`
 * (else 415) in one record (else 400), at most `maxBodyBytes` long (else 413). An unknown
 * endpoint gets 404. A valid push gets the status its subscription was created with: 201 with a
 * `Location` header by default.
 *
 * Further routes for demos and SDK tests:
 * - `POST /sandbox/push/subscriptions` with an optional JSON body `{ "respond", "retryAfterSeconds",
 *   "applicationServerKey" }` creates an endpoint and returns `201 { "endpoint" }`.
 * - `GET /sandbox/push/:id` returns the last accepted push of an endpoint as JSON, with the
 *   encrypted body in base64url; only the subscription's keys can decrypt it.
 *
 * The service stores pushes and does not deliver them: nothing connects to it as a user agent,
 * and the `Location` URLs it returns do not exist.
 *
 * NOTE: the service has no TLS and anyone who can connect can create endpoints. Bind it to a
 * loopback address only.
 */
export async function startSandboxPushService(options: SandboxPushServiceOptions): Promise<SandboxPushService> {
  const logger = options.logger;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new Error(`invalid maxBodyBytes ${maxBodyBytes}: expected a positive integer of bytes`);
  }
  const subscriptions = new Map<string, SandboxSubscription>();
  const records = new RecordLog<PushRecord>(MAX_RECORDS, 'push', 'sandbox push service');
  let url = '';

  function subscribe(subscribeOptions: SandboxPushSubscribeOptions = {}): { endpoint: string } {
    const respond = subscribeOptions.respond ?? 201;
    if (!RESPONSES.includes(respond)) {
      throw new Error(`invalid respond ${String(respond)}: expected one of ${RESPONSES.join(', ')}`);
    }
    const retryAfterSeconds = subscribeOptions.retryAfterSeconds ?? 1;
    if (!Number.isInteger(retryAfterSeconds) || retryAfterSeconds < 0) {
      throw new Error(`invalid retryAfterSeconds ${retryAfterSeconds}: expected a non-negative integer of seconds`);
    }
    const id = randomBytes(16).toString('base64url');
    subscriptions.set(id, {
      respond,
      retryAfterSeconds,
      applicationServerKey: subscribeOptions.applicationServerKey ?? null,
      lastPush: null,
    });
    if (subscriptions.size > MAX_SUBSCRIPTIONS) {
      const oldest = subscriptions.keys().next().value as string;
      subscriptions.delete(oldest);
    }
    return { endpoint: `${url}/push/${id}` };
  }


  async function handlePush(id: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const read = await readBody(request, maxBodyBytes);
    const headers = readPushHeaders(request.headers);
    const authorization = parseVapidAuthorization(single(request.headers.authorization));
    const record: PushRecord = {
      endpoint: `${url}/push/${id}`,
      headers: { ...headers, vapid: authorization === null || authorization === 'malformed' ? null : authorization },
      body: read.body,
      bodyBytes: read.bytes,
      status: 0,
      error: null,
      receivedAt: Date.now(),
    };
    const reject = (status: number, error: string, extraHeaders: Record<string, string> = {}): void => {
      record.status = status;
      record.error = error;
      records.add(record);
      logger.debug({ status, error }, 'sandbox push service rejected a push');
      sendError(response, status, error, extraHeaders);
    };

    const subscription = subscriptions.get(id);
    if (subscription === undefined) {
      reject(404, 'no subscription has this endpoint');
      return;
    }
    if (authorization === null) {
      reject(401, 'the Authorization header of the vapid scheme is missing', { 'www-authenticate': 'vapid' });
      return;
    }
    if (authorization === 'malformed') {
      reject(403, 'the vapid Authorization header needs the parameters t and k');
      return;
    }
    const verification = verifyVapid(authorization, url, Math.floor(Date.now() / 1000));
    if (!verification.ok) {
      reject(403, verification.error);
      return;
    }
    if (subscription.applicationServerKey !== null && subscription.applicationServerKey !== authorization.k) {
      reject(403, 'the VAPID key k is not the applicationServerKey this subscription was created with');
      return;
    }
    if (read.tooLarge) {
      reject(413, `the push body is ${read.bytes} bytes; the maximum is ${maxBodyBytes}`);
      return;
    }
    const problem = checkPushRequest(headers, read.body);
    if (problem !== null) {
      reject(problem.status, problem.error, problem.status === 415 ? { 'accept-encoding': 'aes128gcm' } : {});
      return;
    }

    record.status = subscription.respond;
    records.add(record);
    logger.debug({ status: subscription.respond, bytes: read.bytes }, 'sandbox push service received a push');
    if (subscription.respond === 201) {
      subscription.lastPush = record;
      response.writeHead(201, { location: `${url}/message/${randomBytes(16).toString('base64url')}`, 'content-length': '0' });
      response.end();
      return;
    }
    if (subscription.respond === 429) {
      sendError(response, 429, 'the sandbox subscription is configured to return 429', { 'retry-after': String(subscription.retryAfterSeconds) });
      return;
    }
    sendError(response, subscription.respond, `the sandbox subscription is configured to return ${subscription.respond}`);
  }

  async function handleSubscribe(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const read = await readBody(request, MAX_SUBSCRIBE_BODY_BYTES);
    if (read.tooLarge) {
      sendError(response, 413, `the body is larger than ${MAX_SUBSCRIBE_BODY_BYTES} bytes`);
      return;
    }

    let input: unknown = {};
    if (read.body.length > 0) {
      try {
        input = JSON.parse(read.body.toString('utf8')) as unknown;
      } catch {
        sendError(response, 400, 'the body is not valid JSON');
        return;
      }
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      sendError(response, 400, 'the body must be a JSON object');
      return;
    }

    const fields = input as Record<string, unknown>;
    const respond = fields['respond'];
    const retryAfterSeconds = fields['retryAfterSeconds'];
    const applicationServerKey = fields['applicationServerKey'];
    if (applicationServerKey !== undefined && typeof applicationServerKey !== 'string') {
      sendError(response, 400, 'applicationServerKey must be a base64url string');
      return;
    }

    let created: { endpoint: string };
    try {
      created = subscribe({
        ...(respond === undefined ? {} : { respond: respond as SandboxPushResponse }),
        ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds: retryAfterSeconds as number }),
        ...(applicationServerKey === undefined ? {} : { applicationServerKey }),
      });
    } catch (error) {
      sendError(response, 400, error instanceof Error ? error.message : 'invalid subscription options');
      return;
    }
    sendJson(response, 201, created);
  }

  function handleLastPush(id: string, response: ServerResponse): void {
    const last = subscriptions.get(id)?.lastPush ?? null;
    if (last === null) {
      sendError(response, 404, 'this endpoint does not exist or has received no accepted push');
      return;
    }
    sendJson(response, 200, {
      endpoint: last.endpoint,
      receivedAt: new Date(last.receivedAt).toISOString(),
      ttl: last.headers.ttl,
      urgency: last.headers.urgency,
      topic: last.headers.topic,
      contentEncoding: last.headers.contentEncoding,
      body: last.body.toString('base64url'),
    });
  }

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://sandbox.invalid').pathname;
    const push = PUSH_PATH.exec(path);
    if (push !== null) {
      if (request.method !== 'POST') {
        request.resume();
        sendError(response, 405, 'use POST to send a push', { allow: 'POST' });
        return;
      }
      await handlePush(push[1] ?? '', request, response);
      return;
    }
    if (path === '/sandbox/push/subscriptions' && request.method === 'POST') {
      await handleSubscribe(request, response);
      return;
    }
    const last = LAST_PUSH_PATH.exec(path);
    if (last !== null && request.method === 'GET') {
      handleLastPush(last[1] ?? '', response);
      return;
    }
    request.resume();
    sendError(response, 404, 'no such resource');
  }

  const server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      logger.error({ err: error, method: request.method }, 'sandbox push service failed to handle a request');
      if (!response.headersSent) {
        sendError(response, 500, 'the sandbox push service failed');
      } else {
        response.destroy();
      }
    });
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error: Error) => logger.error({ err: error }, 'sandbox push service server error'));
  const port = (server.address() as AddressInfo).port;
  url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ host, port }, 'sandbox push service listening');

  return {
    host,
    port,
    url,
    subscribe,
    received: () => records.all(),
    waitFor: (predicate, timeoutMs) => records.waitFor(predicate, timeoutMs),
    async close() {
      records.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      logger.info({ host, port }, 'sandbox push service stopped');
    },
  };
}

/** Reads a request body up to `maxBytes`; past the limit the rest is read and dropped, so the response can still be written. */
async function readBody(request: IncomingMessage, maxBytes: number): Promise<{ body: Buffer; bytes: number; tooLarge: boolean }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    bytes += buffer.length;
    if (bytes <= maxBytes) {
      chunks.push(buffer);
    }
  }
  const tooLarge = bytes > maxBytes;
  return { body: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks), bytes, tooLarge };
}

function sendError(response: ServerResponse, status: number, message: string, extraHeaders: Record<string, string> = {}): void {
  sendJson(response, status, { code: status, error: REASONS[status] ?? 'Error', message }, extraHeaders);
}

function sendJson(response: ServerResponse, status: number, body: unknown, extraHeaders: Record<string, string> = {}): void {
  const raw = JSON.stringify(body);
  response.writeHead(status, {
    ...extraHeaders,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(raw)),
  });
  response.end(raw);
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
