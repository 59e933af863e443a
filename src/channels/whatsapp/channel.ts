import type { Logger } from 'pino';
import type { Condition, SendOutcome } from '../../routing/types.js';
import { classifyGraphError } from '../meta/index.js';
import { normalizePhoneNumber } from '../sms/phone.js';
import type { Addresses, Channel, ChannelContent, MessagingWindow, ReceiptListener, SendRequest } from '../types.js';
import { CloudApiClient, type GraphResponse } from './client.js';
import { classifyRequestFailure, type FailedSendOutcome } from './errors.js';
import { buildRequestBody, isTemplateMessage, renderWhatsAppMessage } from './render.js';
import { isWithinServiceWindow } from './window.js';

export interface WhatsAppChannelOptions {
  /** Base URL of the Graph API: `https://graph.facebook.com`, or the sandbox's URL. */
  apiUrl: string;
  /** Graph API version in the request path. Default `v21.0`. */
  apiVersion?: string;
  /** Id of the business phone number that sends the messages. */
  phoneNumberId: string;
  /** System user or app access token with the `whatsapp_business_messaging` permission. */
  token: string;
  logger: Logger;
  /** Deadline of one send call in ms, connecting included. Default 30,000. */
  timeoutMs?: number;
}

export const DEFAULT_API_VERSION = 'v21.0';
const DEFAULT_TIMEOUT_MS = 30_000;
/** E.164 digits without `+`: a country code and at most 15 digits in total. */
const E164_DIGITS = /^[1-9]\d{1,14}$/;

/**
 * The WhatsApp channel: text, template and media messages through the WhatsApp Cloud API.
 *
 * Status receipts (`sent`, `delivered`, `read`, `failed`) reach Cascade as signed webhooks on
 * its Meta webhook endpoint, which matches them to attempts by the `wamid` this channel
 * returns as provider message id. This class receives none of them, so listeners given to
 * `onReceipt` are stored but never called.
 *
 * @example
 * const whatsApp = new WhatsAppChannel({ apiUrl: 'https://graph.facebook.com', phoneNumberId, token, logger });
 * await whatsApp.send({ messageId, step: 0, attempt: 1, idempotencyKey, address: '+12025550111', content });
 */
export class WhatsAppChannel implements Channel {
  readonly id = 'whatsApp';
  readonly defaultCondition: Condition = 'delivered';
  readonly supportedConditions: readonly Condition[] = ['accepted', 'delivered', 'read'];

  readonly #logger: Logger;
  readonly #client: CloudApiClient;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #receiptListeners: ReceiptListener[] = [];

  /** Throws an Error naming the invalid option when the URL, version, phone number id, token or timeout is invalid. */
  constructor(options: WhatsAppChannelOptions) {
    this.#logger = options.logger;
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#client = new CloudApiClient({
      apiUrl: options.apiUrl,
      apiVersion: options.apiVersion ?? DEFAULT_API_VERSION,
      phoneNumberId: options.phoneNumberId,
      token: options.token,
      timeoutMs: this.#timeoutMs,
    });
  }

  /** Returns the phone number in E.164 with `+`, or null when there is none or it is invalid. */
  resolveAddress(addresses: Addresses): string | null {
    const phoneNumber = addresses.phoneNumber;
    if (phoneNumber === undefined || phoneNumber.trim() === '') {
      return null;
    }
    const result = normalizePhoneNumber(phoneNumber);
    return result.ok ? result.e164 : null;
  }

  /**
   * Returns `ineligible` for a free-form message (anything but a template) when the person has
   * not written within the last 24 hours, because the Cloud API rejects such messages with
   * error 131047.
   */
  checkEligibility(content: ChannelContent, window: MessagingWindow): 'ineligible' | null {
    if (isTemplateMessage(content)) {
      return null;
    }
    return isWithinServiceWindow(window) ? null : 'ineligible';
  }

  /**
   * Renders and posts one message. Returns `accepted` with the `wamid` of the message, or the
   * failure classified, and never throws.
   *
   * NOTE: the attempt's idempotency key is not sent anywhere, because the Cloud API accepts
   * no idempotency key. A retry after a timeout can therefore deliver a message twice.
   */
  async send(request: SendRequest): Promise<SendOutcome> {
    const logger = this.#logger.child({ messageId: request.messageId, step: request.step, attempt: request.attempt });

    const to = request.address.replace(/^\+/, '');
    if (!E164_DIGITS.test(to)) {
      logger.warn({ code: 'invalid-address' }, 'WhatsApp message not sent: invalid recipient number');
      return {
        kind: 'permanent',
        code: 'invalid-address',
        message: 'The phone number is not in E.164 format (a country code and up to 15 digits in total).',
      };
    }

    const rendered = renderWhatsAppMessage(request.content);
    if (!rendered.ok) {
      const pointers = rendered.errors.map((error) => error.pointer);
      logger.warn({ code: 'invalid-content', pointers }, 'WhatsApp message not sent: invalid content');
      const message = rendered.errors.map((error) => `${error.pointer} ${error.message}`).join('; ');
      return { kind: 'permanent', code: 'invalid-content', message };
    }

    const deadline = AbortSignal.timeout(this.#timeoutMs);
    let response: GraphResponse;
    try {
      response = await this.#client.postMessage(buildRequestBody(rendered.message, to), deadline);
    } catch (thrown) {
      const outcome = classifyRequestFailure(thrown, deadline.aborted, this.#timeoutMs);
      logger.warn({ kind: outcome.kind, code: outcome.code, error: this.#redact(outcome.message) }, 'WhatsApp message not sent: Graph API unreachable');
      return { ...outcome, message: this.#redact(outcome.message) };
    }

    if (response.status >= 200 && response.status < 300) {
      return this.#accepted(response, logger);
    }
    return this.#rejected(response, logger);
  }

  matchKeys(providerMessageId: string): string[] {
    return [providerMessageId];
  }

  /** Stores the listener. WhatsApp receipts arrive on Cascade's webhook endpoint, so this channel never calls it. */
  onReceipt(listener: ReceiptListener): void {
    this.#receiptListeners.push(listener);
  }

  /** Logs the endpoint. Connections open on the first send, so the Graph API is not contacted here. */
  async start(): Promise<void> {
    this.#logger.info({ endpoint: this.#client.messagesUrl.href }, 'WhatsApp channel started');
  }

  async stop(): Promise<void> {
    await this.#client.close();
    this.#logger.info({ endpoint: this.#client.messagesUrl.href }, 'WhatsApp channel stopped');
  }

  #accepted(response: GraphResponse, logger: Logger): SendOutcome {
    const providerMessageId = readMessageId(response.body);
    if (providerMessageId === null) {
      // NOTE: without an id no status webhook can be matched, so the step could only wait for its timeout.
      logger.error({ httpStatus: response.status }, 'Graph API accepted a WhatsApp message without a message id');
      return {
        kind: 'permanent',
        code: 'missing-message-id',
        message: 'The Graph API accepted the message but returned no messages[0].id, so its status webhooks cannot be matched.',
      };
    }
    logger.info({ providerMessageId }, 'WhatsApp message accepted by the Graph API');
    return { kind: 'accepted', providerMessageId };
  }

  #rejected(response: GraphResponse, logger: Logger): FailedSendOutcome {
    const classified = classifyGraphError(response.status, response.body, 'whatsApp');
    const message = this.#redact(classified.message);
    logger.warn(
      { httpStatus: response.status, kind: classified.kind, code: classified.code, addressUnreachable: classified.addressUnreachable },
      'WhatsApp message rejected by the Graph API',
    );
    if (classified.kind === 'transient') {
      return {
        kind: 'transient',
        code: classified.code,
        message,
        ...(response.retryAfterMs === null ? {} : { retryAfterMs: response.retryAfterMs }),
      };
    }
    return { kind: 'permanent', code: classified.code, message, addressUnreachable: classified.addressUnreachable };
  }

  /** Removes the access token from text that came from elsewhere, in case a server echoes it. */
  #redact(text: string): string {
    return text.split(this.#token).join('[token]');
  }
}

/** Reads `messages[0].id` of a send response. */
function readMessageId(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) {
    return null;
  }
  const messages = (body as { messages?: unknown }).messages;
  if (!Array.isArray(messages)) {
    return null;
  }
  const first: unknown = messages[0];
  const id = typeof first === 'object' && first !== null ? (first as { id?: unknown }).id : undefined;
  return typeof id === 'string' && id !== '' ? id : null;
}
