import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { GraphContext, HandledSend } from './graph-context.js';
import { graphError, GRAPH_ERRORS, type GraphErrorResponse } from './graph-errors.js';
import { handleInbound } from './graph-inbound.js';
import { handleMessengerSend } from './graph-messenger.js';
import { GraphTestRecipients } from './graph-recipients.js';
import { WebhookSender } from './graph-webhooks.js';
import { handleWhatsAppSend } from './graph-whatsapp.js';

export interface SandboxGraphOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Key of the `X-Hub-Signature-256` HMAC on every webhook. */
  appSecret: string;
  /** The WhatsApp bearer token to require; when unset, any non-empty token is accepted. */
  token?: string;
  /** The Messenger page access token to require; when unset, any non-empty token is accepted. */
  pageToken?: string;
  logger: Logger;
  /** Delay from acceptance to the delivery (or failure) webhook, in ms. Default 300. */
  statusDelayMs?: number;
  /** Delay from the delivery webhook to the read webhook, in ms. Default 1,000. */
  readDelayMs?: number;
  /** The Page's id in Messenger webhooks. Default 100000000000002. */
  pageId?: string;
  /**
   * The business phone number's id in inbound WhatsApp webhooks. Status webhooks name the id
   * of the send path instead. Default 100000000000001.
   */
  phoneNumberId?: string;
  /** The WhatsApp Business Account id in WhatsApp webhooks. Default 100000000000003. */
  businessAccountId?: string;
  /** The business number in WhatsApp webhook metadata. Default 15550001234. */
  displayPhoneNumber?: string;
  /** Sends of one webhook at most, the first included, while the receiver fails. Default 5. */
  webhookAttempts?: number;
  /** Delay before the first webhook resend in ms; each further resend waits twice as long. Default 500. */
  webhookRetryDelayMs?: number;
}

/** One send call the sandbox received, accepted or not. */
export interface GraphRequestRecord {
  channel: 'whatsApp' | 'fbMessenger';
  /** The request path without its query, which may hold an access token. */
  path: string;
  /** WhatsApp `to` or Messenger `recipient.id` as sent; null when missing. */
  to: string | null;
  /** The request body parsed as JSON; null when it was not JSON. */
  body: unknown;
  /** HTTP status of the response. */
  status: number;
  /** The `wamid` or Messenger `message_id` of an accepted message, else null. */
  providerMessageId: string | null;
  /** Epoch ms. */
  receivedAt: number;
}

export interface SandboxGraph {
  host: string;
  port: number;
  /** `http://host:port`, the base URL for the WhatsApp and Messenger channels. */
  url: string;
  /** Sets where webhooks go: Cascade's `POST /v1/providers/meta/webhook`. */
  setWebhookUrl(url: string): void;
  /** Every send call received, oldest first; the last 10,000 are kept. */
  requests(): GraphRequestRecord[];
  /** Number of webhooks the receiver accepted with a 2xx response. */
  webhooksSent(): number;
  close(): Promise<void>;
}

const MAX_RECORDS = 10_000;
/** Largest request body read, in bytes; larger bodies are rejected with 413. */
const MAX_BODY_BYTES = 1024 * 1024;
const SEND_PATH = /^\/(v\d+\.\d+)\/([^/]+)\/messages\/?$/;

/**
 * Starts a local stand-in for the Graph API endpoints Cascade calls, for development and tests:
 * `POST /{version}/{phone-number-id}/messages` (WhatsApp Cloud API, `Authorization: Bearer`) and
 * `POST /{version}/me/messages` (Messenger Send API, `access_token` query parameter or bearer
 * header). A missing or wrong token gets a 401 response with Graph error 190. Requests and
 * errors have the Graph API's shapes, and accepted messages get signed status webhooks.
 *
 * WhatsApp test recipients:
 * - +12025550111: `sent`, `delivered` after `statusDelayMs`, `read` after `readDelayMs` more.
 * - +12025550112: accepted, then a `failed` status with error 131026 (message undeliverable).
 * - +12025550113: rate limited with error 130429 twice, then accepted and delivered; the count
 *   starts again after each accepted send.
 * - any other valid number: `sent`, then `delivered`.
 * A free-form message (any type but `template`) to a number that sent no message to
 * `POST /sandbox/inbound` in the last 24 hours is rejected with error 131047.
 *
 * Messenger test recipients:
 * - psid-delivered: `message_deliveries`, then `message_reads`.
 * - psid-unavailable: rejected with error 551, subcode 1545041.
 * - any other page-scoped id: `message_deliveries`.
 *
 * `POST /sandbox/inbound` with `{ "channel", "from", "text" }` sends Cascade a signed inbound
 * message webhook; see `handleInbound`.
 *
 * NOTE: the sandbox has no TLS, and `/sandbox/inbound` needs no token. Bind it to a loopback
 * address only.
 *
 * @example
 * const graph = await startSandboxGraph({ appSecret, token, logger });
 * graph.setWebhookUrl('http://127.0.0.1:3000/v1/providers/meta/webhook');
 * const whatsApp = new WhatsAppChannel({ apiUrl: graph.url, phoneNumberId: '100000000000001', token, logger });
 */
export async function startSandboxGraph(options: SandboxGraphOptions): Promise<SandboxGraph> {
  const logger = options.logger;
  const webhooks = new WebhookSender({
    appSecret: options.appSecret,
    logger,
    maxAttempts: options.webhookAttempts ?? 5,
    firstRetryDelayMs: options.webhookRetryDelayMs ?? 500,
  });
  const pageId = options.pageId ?? '100000000000002';
  const context: GraphContext = {
    logger,
    recipients: new GraphTestRecipients(),
    webhooks,
    business: {
      businessAccountId: options.businessAccountId ?? '100000000000003',
      displayPhoneNumber: options.displayPhoneNumber ?? '15550001234',
      phoneNumberId: options.phoneNumberId ?? '100000000000001',
    },
    pageId,
    statusDelayMs: options.statusDelayMs ?? 300,
    readDelayMs: options.readDelayMs ?? 1_000,
  };
  const records: GraphRequestRecord[] = [];

  const server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      logger.error({ err: error, method: request.method }, 'sandbox Graph API failed to handle a request');
      if (!response.headersSent) {
        sendJson(response, 500, { error: { message: 'An unexpected error has occurred. Please retry your request later.', type: 'OAuthException', code: 2 } });
      }
    });
  });

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://sandbox.invalid');
    const send = SEND_PATH.exec(url.pathname);

    if (url.pathname === '/sandbox/inbound') {
      if (request.method !== 'POST') {
        sendJson(response, 405, { error: { message: 'Use POST for /sandbox/inbound.' } });
        return;
      }
      const read = await readJson(request);
      if (read.kind !== 'json') {
        const status = read.kind === 'too-large' ? 413 : 400;
        sendJson(response, status, { error: { message: read.kind === 'too-large' ? `The body is larger than ${MAX_BODY_BYTES} bytes.` : 'The body is not valid JSON.' } });
        return;
      }
      const result = handleInbound(context, read.value);
      sendJson(response, result.status, result.body);
      return;
    }

    if (send === null) {
      sendGraphError(response, graphError(GRAPH_ERRORS.unknownPath, `Unknown path components: ${url.pathname}`));
      return;
    }
    if (request.method !== 'POST') {
      sendGraphError(response, graphError(GRAPH_ERRORS.unsupportedMethod, `Unsupported ${request.method ?? ''} request.`));
      return;
    }

    const objectId = send[2] ?? '';
    // Only `me` names the Page in this path, so any other id is taken as a WhatsApp business number.
    const channel = objectId === 'me' ? 'fbMessenger' : 'whatsApp';
    const read = await readJson(request);
    const body = read.kind === 'json' ? read.value : null;
    let handled: HandledSend;
    if (!tokenMatches(request, url, channel === 'whatsApp' ? options.token : options.pageToken)) {
      handled = { ...graphError(GRAPH_ERRORS.invalidToken), to: null, providerMessageId: null };
    } else if (read.kind !== 'json') {
      const problem = read.kind === 'too-large' ? `The request body is larger than ${MAX_BODY_BYTES} bytes.` : 'The request body could not be parsed as JSON.';
      handled = { ...graphError(GRAPH_ERRORS.invalidParameter, `(#100) ${problem}`), to: null, providerMessageId: null };
    } else if (channel === 'whatsApp') {
      handled = handleWhatsAppSend(context, decodePathSegment(objectId), body);
    } else {
      handled = handleMessengerSend(context, body);
    }

    records.push({
      channel,
      path: url.pathname,
      to: handled.to,
      body,
      status: handled.status,
      providerMessageId: handled.providerMessageId,
      receivedAt: Date.now(),
    });
    if (records.length > MAX_RECORDS) {
      records.splice(0, records.length - MAX_RECORDS);
    }
    logger.debug({ channel, status: handled.status, providerMessageId: handled.providerMessageId }, 'sandbox Graph API responded to a send');
    sendJson(response, handled.status, handled.body);
  }

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error: Error) => logger.error({ err: error }, 'sandbox Graph API server error'));
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ host, port }, 'sandbox Graph API listening');

  return {
    host,
    port,
    url,
    setWebhookUrl: (webhookUrl) => webhooks.setUrl(webhookUrl),
    requests: () => [...records],
    webhooksSent: () => webhooks.delivered,
    async close() {
      await webhooks.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      logger.info({ host, port }, 'sandbox Graph API stopped');
    },
  };
}

/** Compares the bearer token or `access_token` parameter with `expected`; any non-empty token passes when `expected` is unset. */
function tokenMatches(request: IncomingMessage, url: URL, expected: string | undefined): boolean {
  const header = request.headers.authorization;
  const bearer = header !== undefined && /^bearer\s+/i.test(header) ? header.replace(/^bearer\s+/i, '').trim() : null;
  const token = bearer ?? url.searchParams.get('access_token');
  if (token === null || token === '') {
    return false;
  }
  return expected === undefined || token === expected;
}

type ReadResult = { kind: 'json'; value: unknown } | { kind: 'invalid' } | { kind: 'too-large' };

async function readJson(request: IncomingMessage): Promise<ReadResult> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    bytes += buffer.length;
    // Past the limit the rest is read and dropped, so the response can still be written.
    if (bytes <= MAX_BODY_BYTES) {
      chunks.push(buffer);
    }
  }
  if (bytes > MAX_BODY_BYTES) {
    return { kind: 'too-large' };
  }
  try {
    return { kind: 'json', value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
  } catch {
    return { kind: 'invalid' };
  }
}

function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function sendGraphError(response: ServerResponse, error: GraphErrorResponse): void {
  sendJson(response, error.status, error.body);
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const raw = JSON.stringify(body);
  response.setHeader('content-type', 'application/json; charset=UTF-8');
  response.setHeader('content-length', Buffer.byteLength(raw));
  if (status === 401) {
    // RFC 9110 requires a WWW-Authenticate header on every 401 response.
    response.setHeader('www-authenticate', 'OAuth "Facebook Platform" "invalid_token" "Invalid OAuth access token"');
  }
  response.writeHead(status);
  response.end(raw);
}
