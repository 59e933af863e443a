import { Agent } from 'undici';
import type { MessengerSendBody } from './render.js';

export interface SendApiClientOptions {
  /** Graph API origin, optionally with a base path, such as `https://graph.facebook.com`. */
  apiUrl: string;
  /** Graph API version in the path, such as `v21.0`. */
  apiVersion: string;
  /** Page access token, sent as the `access_token` query parameter. */
  pageToken: string;
  /** Maximum time in ms for one call, from connecting to the last byte of the response. */
  timeoutMs: number;
}

/** The Send API's response, whatever its status. */
export interface SendApiResponse {
  status: number;
  /** The parsed JSON body; the raw text when it is not JSON; null when it was empty or too large. */
  body: unknown;
  /** Delay the server asked for in a `Retry-After` header, in ms; null when absent or unreadable. */
  retryAfterMs: number | null;
}

/** Larger response bodies are not read: a Send API reply is a few hundred bytes. */
const MAX_RESPONSE_BYTES = 64 * 1024;
/** Idle keep-alive connections close after this long unless the server's `Keep-Alive` header says sooner. */
const KEEP_ALIVE_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_MAX_TIMEOUT_MS = 60_000;
const REDACTED = '[redacted]';

/**
 * Calls `POST /{version}/me/messages` of the Graph API over one keep-alive connection pool.
 *
 * The page token travels in the query string, so it is part of the request URL: `redact`
 * removes it from any text before that text reaches a log or an error, and `endpoint` is the
 * URL without the query.
 */
export class SendApiClient {
  /** The Send API URL without the query string, safe to log. */
  readonly endpoint: string;
  private readonly origin: string;
  private readonly path: string;
  private readonly pageToken: string;
  private readonly timeoutMs: number;
  private readonly agent: Agent;
  private closed = false;

  /** Throws an Error naming the option when the URL, version, token or timeout is invalid. */
  constructor(options: SendApiClientOptions) {
    const base = parseApiUrl(options.apiUrl);
    if (!/^v[0-9]+\.[0-9]+$/.test(options.apiVersion)) {
      throw new Error(`invalid Messenger apiVersion "${options.apiVersion}": expected a Graph API version such as v21.0`);
    }
    if (options.pageToken === '' || /[\s\p{C}]/u.test(options.pageToken)) {
      throw new Error('invalid Messenger pageToken: it is empty or contains whitespace or control characters');
    }
    if (!Number.isInteger(options.timeoutMs) || options.timeoutMs <= 0) {
      throw new Error(`invalid Messenger timeoutMs ${options.timeoutMs}: expected a positive integer of milliseconds`);
    }

    this.origin = base.origin;
    const basePath = base.pathname.replace(/\/+$/, '');
    this.path = `${basePath}/${options.apiVersion}/me/messages?access_token=${encodeURIComponent(options.pageToken)}`;
    this.endpoint = `${base.origin}${basePath}/${options.apiVersion}/me/messages`;
    this.pageToken = options.pageToken;
    this.timeoutMs = options.timeoutMs;
    this.agent = new Agent({
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      keepAliveMaxTimeout: KEEP_ALIVE_MAX_TIMEOUT_MS,
      connect: { timeout: options.timeoutMs },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  /** True when the API URL is plain http to a host other than a loopback address. */
  get sendsTokenInClear(): boolean {
    const host = new URL(this.origin).hostname;
    return this.origin.startsWith('http:') && !['localhost', '127.0.0.1', '[::1]'].includes(host);
  }

  /**
   * Sends one message to `psid`. Resolves with the response for every HTTP status, and rejects
   * when no complete response arrived: the connection failed, or `timeoutMs` passed (the error
   * is then a `DOMException` named `TimeoutError`). Error messages may contain the request URL;
   * pass them through `redact` before logging.
   */
  async send(psid: string, body: MessengerSendBody): Promise<SendApiResponse> {
    if (this.closed) {
      throw new Error('the Messenger Send API client is closed');
    }
    const payload = JSON.stringify({ recipient: { id: psid }, ...body });
    const response = await this.agent.request({
      origin: this.origin,
      path: this.path,
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: payload,
      signal: AbortSignal.timeout(this.timeoutMs),
    });

    const text = await readCapped(response.body);
    return {
      status: response.statusCode,
      body: text === null ? null : parseJson(text),
      retryAfterMs: parseRetryAfter(response.headers['retry-after'], Date.now()),
    };
  }

  /** Replaces the page token, raw or URL-encoded, with `[redacted]`. */
  redact(text: string): string {
    return text.split(this.pageToken).join(REDACTED).split(encodeURIComponent(this.pageToken)).join(REDACTED);
  }

  /** Waits for requests in flight, then closes every connection. Later calls do nothing. */
  async close(): Promise<void> {
    if (this.closed) {
      return;
    }
    this.closed = true;
    await this.agent.close();
  }
}

function parseApiUrl(apiUrl: string): URL {
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    // Only the part before any query is shown, in case a token was pasted into the URL.
    const urlWithoutQuery = apiUrl.split('?')[0] ?? '';
    throw new Error(`invalid Messenger apiUrl "${urlWithoutQuery}": expected an absolute URL such as https://graph.facebook.com`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`invalid Messenger apiUrl: the scheme ${url.protocol} is not supported, use https`);
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new Error('invalid Messenger apiUrl: remove the credentials, query or fragment; the page token is a separate setting');
  }
  return url;
}

/** Reads at most `MAX_RESPONSE_BYTES`; returns null for an empty or a larger body, which is then discarded. */
async function readCapped(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_RESPONSE_BYTES) {
      body.destroy();
      return null;
    }
    chunks.push(chunk);
  }
  return size === 0 ? null : Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Reads a `Retry-After` header given in seconds or as an HTTP date (RFC 9110 section 10.2.3). */
export function parseRetryAfter(header: string | string[] | undefined, now: number): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') {
    return null;
  }
  if (/^\s*[0-9]+\s*$/.test(value)) {
    return Number(value) * 1000;
  }
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
