import type { Logger } from 'pino';
import type { Condition, SendOutcome } from '../../routing/types.js';
import { classifyGraphError } from '../meta/errors.js';
import type { Addresses, Channel, ChannelContent, MessagingWindow, ReceiptListener, SendRequest } from '../types.js';
import { normalizePsid } from './address.js';
import { SendApiClient, type SendApiResponse } from './client.js';
import { renderMessenger, resolveMessagingType } from './render.js';
import { checkMessagingWindow } from './window.js';

export interface MessengerChannelOptions {
  /** Graph API origin, such as `https://graph.facebook.com`, or the sandbox's URL. */
  apiUrl: string;
  /** Graph API version. Default `v21.0`. */
  apiVersion?: string;
  /** Page access token of the Page that sends. It is never logged. */
  pageToken: string;
  logger: Logger;
  /** Maximum time in ms for one Send API call, connecting included. Default 30,000. */
  timeoutMs?: number;
}

export const DEFAULT_API_VERSION = 'v21.0';
const DEFAULT_TIMEOUT_MS = 30_000;

type FailedOutcome = Exclude<SendOutcome, { kind: 'accepted' }>;

/** Error codes of failed connections, with the outcome code for each. */
const CONNECTION_CODES = new Map<string, string>([
  ['ECONNREFUSED', 'connection-refused'],
  ['ECONNRESET', 'connection-reset'],
  ['UND_ERR_SOCKET', 'connection-reset'],
  ['EPIPE', 'connection-reset'],
  ['ENOTFOUND', 'dns-error'],
  ['EAI_AGAIN', 'dns-error'],
  ['EHOSTUNREACH', 'host-unreachable'],
  ['ENETUNREACH', 'host-unreachable'],
  ['UND_ERR_CONNECT_TIMEOUT', 'timeout'],
  ['UND_ERR_HEADERS_TIMEOUT', 'timeout'],
  ['UND_ERR_BODY_TIMEOUT', 'timeout'],
]);

/**
 * The `fbMessenger` channel: the Messenger Send API (`POST /{version}/me/messages`) over
 * undici with keep-alive connections, addressed by page-scoped id (PSID).
 *
 * Content is built by `renderMessenger`: title and body as text, or `customBody.fbMessenger`
 * as a native message, with the messaging type and tag from the custom body or from
 * `channelOptions.fbMessenger`. `checkEligibility` applies the 24-hour standard messaging
 * window and the message tag rules (see `checkMessagingWindow`).
 *
 * Receipts: Meta reports delivery and reading with `message_deliveries` and `message_reads`
 * webhooks, which reach Cascade's webhook endpoint and are matched there. This class makes no
 * inbound connection, so listeners given to `onReceipt` are kept but never called.
 *
 * NOTE: the Send API has no idempotency key. When a connection fails after the request was
 * written, the outcome is transient and a retry can deliver the message twice.
 *
 * @example
 * const messenger = new MessengerChannel({ apiUrl: 'https://graph.facebook.com', pageToken, logger });
 * await messenger.send({ messageId, step: 0, attempt: 1, idempotencyKey, address: psid, content });
 */
export class MessengerChannel implements Channel {
  readonly id = 'fbMessenger' as const;
  readonly defaultCondition: Condition = 'delivered';
  readonly supportedConditions: readonly Condition[] = ['accepted', 'delivered', 'read'];
  readonly #client: SendApiClient;
  readonly #logger: Logger;
  readonly #apiVersion: string;
  readonly #listeners: ReceiptListener[] = [];
  #stopped = false;

  /** Throws an Error naming the option when the URL, version, token or timeout is invalid. */
  constructor(options: MessengerChannelOptions) {
    this.#logger = options.logger;
    this.#apiVersion = options.apiVersion ?? DEFAULT_API_VERSION;
    this.#client = new SendApiClient({
      apiUrl: options.apiUrl,
      apiVersion: this.#apiVersion,
      pageToken: options.pageToken,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
  }

  resolveAddress(addresses: Addresses): string | null {
    return normalizePsid(addresses.fbMessengerId);
  }

  /**
   * `ineligible` when the messaging window rules forbid the message now. Content whose
   * messaging type or tag is invalid returns null, so that `send` reports it as
   * `invalid-content` with the field at fault.
   */
  checkEligibility(content: ChannelContent, window: MessagingWindow): 'ineligible' | null {
    const resolved = resolveMessagingType(content);
    return resolved.ok ? checkMessagingWindow(resolved.choice, window) : null;
  }

  /** Renders and sends one message. Returns every failure as a classified outcome and never throws. */
  async send(request: SendRequest): Promise<SendOutcome> {
    const logger = this.#logger.child({ messageId: request.messageId, step: request.step, attempt: request.attempt });
    try {
      return await this.#send(request, logger);
    } catch (error) {
      // An unexpected error is a fault in Cascade, which a retry would repeat.
      const message = this.#client.redact(error instanceof Error ? error.message : String(error));
      logger.error({ error: message }, 'Messenger send failed unexpectedly');
      return { kind: 'permanent', code: 'internal-error', message: `Sending the Messenger message failed unexpectedly: ${message}` };
    }
  }

  matchKeys(providerMessageId: string): string[] {
    return [providerMessageId];
  }

  /** Stores the listener. Messenger receipts arrive through Cascade's webhook endpoint, so this channel never calls it. */
  onReceipt(listener: ReceiptListener): void {
    this.#listeners.push(listener);
  }

  async start(): Promise<void> {
    const fields = { endpoint: this.#client.endpoint, apiVersion: this.#apiVersion };
    if (this.#client.sendsTokenInClear) {
      this.#logger.warn(fields, 'Messenger Send API URL uses plain http to a remote host, so the page token travels unencrypted; use https');
    }
    this.#logger.info(fields, 'Messenger channel started, calling the Send API on the first send');
  }

  /** Waits for calls in flight, then closes the connections. Later sends return a transient outcome. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#client.close();
    this.#logger.info({ endpoint: this.#client.endpoint }, 'Messenger channel stopped');
  }

  async #send(request: SendRequest, logger: Logger): Promise<SendOutcome> {
    if (this.#stopped) {
      logger.warn({ code: 'channel-stopped' }, 'Messenger message not sent: the channel is stopped');
      return { kind: 'transient', code: 'channel-stopped', message: 'The Messenger channel is stopped; the message was not sent.' };
    }
    const psid = normalizePsid(request.address);
    if (psid === null) {
      logger.warn({ code: 'invalid-address' }, 'Messenger message not sent: invalid page-scoped id');
      return {
        kind: 'permanent',
        code: 'invalid-address',
        message: 'The page-scoped id is empty, too long, or contains whitespace or control characters.',
      };
    }
    const rendered = renderMessenger(request.content);
    if (!rendered.ok) {
      const pointers = rendered.errors.map((error) => error.pointer);
      logger.warn({ code: 'invalid-content', pointers }, 'Messenger message not sent: invalid content');
      const message = rendered.errors.map((error) => `${error.pointer} ${error.message}`).join('; ');
      return { kind: 'permanent', code: 'invalid-content', message };
    }

    let response: SendApiResponse;
    try {
      response = await this.#client.send(psid, rendered.body);
    } catch (error) {
      const outcome = this.#classifyRequestError(error);
      logger.warn({ kind: outcome.kind, code: outcome.code, error: outcome.message }, 'Messenger message not sent: no response from the Send API');
      return outcome;
    }
    return this.#classifyResponse(response, logger);
  }

  #classifyResponse(response: SendApiResponse, logger: Logger): SendOutcome {
    if (response.status >= 200 && response.status < 300) {
      const messageId = isRecord(response.body) ? response.body['message_id'] : undefined;
      if (typeof messageId === 'string' && messageId !== '') {
        logger.info({ providerMessageId: messageId }, 'Messenger message accepted by the Send API');
        return { kind: 'accepted', providerMessageId: messageId };
      }
      // NOTE: without an id no receipt can be matched, and a retry could deliver the message twice.
      logger.error({ status: response.status }, 'Send API accepted a message without returning a message_id');
      return {
        kind: 'permanent',
        code: 'missing-message-id',
        message: `The Send API returned HTTP ${response.status} without a message_id, so its receipts cannot be matched.`,
      };
    }

    const classified = classifyGraphError(response.status, response.body, 'fbMessenger');
    const message = this.#client.redact(classified.message);
    const details = { status: response.status, kind: classified.kind, code: classified.code, ...graphErrorFields(response.body), error: message };
    let outcome: FailedOutcome;
    if (classified.kind === 'permanent') {
      outcome = { kind: 'permanent', code: classified.code, message, addressUnreachable: classified.addressUnreachable };
      logger.warn({ ...details, addressUnreachable: classified.addressUnreachable }, 'Messenger message rejected by the Send API');
    } else {
      outcome = { kind: 'transient', code: classified.code, message };
      if (response.retryAfterMs !== null) {
        outcome.retryAfterMs = response.retryAfterMs;
      }
      logger.warn({ ...details, retryAfterMs: response.retryAfterMs }, 'Messenger message not sent: Send API error, worth a retry');
    }
    return outcome;
  }

  /** Every failure to get a response is transient: a timeout, a refused or dropped connection, a DNS error. */
  #classifyRequestError(error: unknown): FailedOutcome {
    const detail = this.#client.redact(describeError(error));
    if (error instanceof Error && error.name === 'TimeoutError') {
      return { kind: 'transient', code: 'timeout', message: `The Send API call timed out: ${detail}` };
    }
    const code = errorCode(error);
    const outcomeCode = (code === null ? undefined : CONNECTION_CODES.get(code)) ?? 'network-error';
    return { kind: 'transient', code: outcomeCode, message: `The Send API could not be reached: ${detail}` };
  }
}

/** Picks the ids of a Graph error body that let Meta support trace a call, leaving out the error text. */
function graphErrorFields(body: unknown): Record<string, unknown> {
  const error = isRecord(body) ? body['error'] : undefined;
  if (!isRecord(error)) {
    return {};
  }
  return { graphCode: error['code'], graphSubcode: error['error_subcode'], fbtraceId: error['fbtrace_id'] };
}

/** Finds a known connection error code on the error or its causes, where Node.js and undici put it. */
function errorCode(error: unknown): string | null {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 3; current = current.cause, depth += 1) {
    const code = (current as Error & { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) {
      return code;
    }
  }
  return null;
}

/** Formats the error and its causes as one line of "message (code)" parts. */
function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = error, depth = 0; current !== undefined && depth < 3; depth += 1) {
    if (current instanceof Error) {
      const code = (current as Error & { code?: unknown }).code;
      const text = current.message !== '' ? current.message : current.name;
      parts.push(typeof code === 'string' ? `${text} (${code})` : text);
      current = current.cause;
    } else {
      parts.push(String(current));
      current = undefined;
    }
  }
  return parts.join(': ').replace(/\s+/g, ' ').trim();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
