import { Agent, request } from 'undici';

export interface CloudApiClientOptions {
  /** Base URL of the Graph API, such as `https://graph.facebook.com`; a path prefix is kept. */
  apiUrl: string;
  /** Graph API version, such as `v21.0`. */
  apiVersion: string;
  /** The business phone number's id, which names the sending number in the request path. */
  phoneNumberId: string;
  /** Access token, sent as `Authorization: Bearer`. */
  token: string;
  /** Deadline for connecting, and for each of the response headers and body. */
  timeoutMs: number;
}

/** The Graph API's response to one call. */
export interface GraphResponse {
  status: number;
  /** The body parsed as JSON; the raw text when it is not JSON; null when it is empty. */
  body: unknown;
  /** `Retry-After` in ms when the response carries one in seconds, else null. */
  retryAfterMs: number | null;
}

/** Open connections kept to the Graph API host at most. */
const MAX_CONNECTIONS = 50;
/** Idle keep-alive connections are closed after this many ms. */
const KEEP_ALIVE_TIMEOUT_MS = 30_000;
/** Graph API responses to a send are a few hundred bytes; a longer body is cut here. */
const MAX_RESPONSE_BYTES = 1024 * 1024;
const API_VERSION = /^v\d+\.\d+$/;

/**
 * The part of the WhatsApp Cloud API that Cascade calls: `POST /{version}/{phone-number-id}/messages`,
 * over keep-alive connections from one undici agent.
 */
export class CloudApiClient {
  /** The messages endpoint. It contains no credentials, so it may be logged. */
  readonly messagesUrl: URL;
  readonly #authorization: string;
  readonly #agent: Agent;

  /** Throws an Error naming the invalid option when the URL, version, phone number id or token is invalid. */
  constructor(options: CloudApiClientOptions) {
    let base: URL;
    try {
      base = new URL(options.apiUrl);
    } catch {
      throw new Error(`invalid WhatsApp apiUrl "${options.apiUrl}": expected an absolute http or https URL such as https://graph.facebook.com`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new Error(`invalid WhatsApp apiUrl "${options.apiUrl}": the scheme must be http or https`);
    }
    if (base.username !== '' || base.password !== '' || base.search !== '' || base.hash !== '') {
      throw new Error('invalid WhatsApp apiUrl: it must not contain credentials, a query or a fragment; pass the token as the token option');
    }
    if (!API_VERSION.test(options.apiVersion)) {
      throw new Error(`invalid WhatsApp apiVersion "${options.apiVersion}": expected the form v21.0`);
    }
    if (options.phoneNumberId.trim() === '' || options.phoneNumberId.includes('/')) {
      throw new Error(`invalid WhatsApp phoneNumberId "${options.phoneNumberId}": expected the numeric id of the business phone number`);
    }
    if (options.token === '' || /[\r\n]/.test(options.token)) {
      throw new Error('invalid WhatsApp token: it is empty or contains a line break');
    }
    if (!Number.isInteger(options.timeoutMs) || options.timeoutMs <= 0) {
      throw new Error(`invalid WhatsApp timeoutMs ${options.timeoutMs}: expected a positive integer of milliseconds`);
    }

    const prefix = base.pathname.replace(/\/+$/, '');
    this.messagesUrl = new URL(`${prefix}/${options.apiVersion}/${encodeURIComponent(options.phoneNumberId)}/messages`, base);
    this.#authorization = `Bearer ${options.token}`;
    this.#agent = new Agent({
      connections: MAX_CONNECTIONS,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      connect: { timeout: options.timeoutMs },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  /** Posts one message. Throws when no HTTP response arrives (connection failure, timeout, abort). */
  async postMessage(body: Record<string, unknown>, signal: AbortSignal): Promise<GraphResponse> {
    const response = await request(this.messagesUrl, {
      method: 'POST',
      dispatcher: this.#agent,
      signal,
      headers: {
        authorization: this.#authorization,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify(body),
    });
    const text = await readText(response.body, MAX_RESPONSE_BYTES);
    return {
      status: response.statusCode,
      body: parseBody(text),
      retryAfterMs: parseRetryAfter(response.headers['retry-after']),
    };
  }

  /** Closes idle connections at once and the others after their request finished. */
  async close(): Promise<void> {
    await this.#agent.close();
  }
}

async function readText(body: AsyncIterable<Buffer> & { destroy(): unknown }, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    bytes += chunk.length;
    if (bytes >= maxBytes) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}

function parseBody(text: string): unknown {
  if (text.trim() === '') {
    return null;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function parseRetryAfter(header: string | string[] | undefined): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !/^\d+$/.test(value.trim())) {
    return null;
  }
  return Number(value.trim()) * 1000;
}
