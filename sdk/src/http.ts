import { AppClientError } from './errors.js';
import { parseFeedMessage, type InboxPage } from './protocol.js';

export interface InboxQuery {
  /** Return messages with a larger `seq`; 0 (the default) starts at the beginning of the feed. */
  after?: number;
  /** Maximum number of messages; the server applies its own default and maximum. */
  limit?: number;
}

export type FetchFunction = typeof fetch;

export interface InboxHttpOptions {
  baseUrl: string;
  fetch: FetchFunction;
  /** Returns the app token; `refresh` requests a new one after the server rejected the last. */
  token(refresh: boolean): Promise<string>;
  /** Whether a new token may differ from a rejected one, so that one retry is worth making. */
  canRefresh: boolean;
}

/** The inbox routes under `/v1/app/inbox`, authenticated with the app token. */
export class InboxHttp {
  readonly #options: InboxHttpOptions;
  readonly #root: string;

  constructor(options: InboxHttpOptions) {
    this.#options = options;
    this.#root = options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`;
  }

  async inbox(query: InboxQuery = {}): Promise<InboxPage> {
    const url = new URL('v1/app/inbox', this.#root);
    if (query.after !== undefined) url.searchParams.set('after', String(query.after));
    if (query.limit !== undefined) url.searchParams.set('limit', String(query.limit));
    const response = await this.#request('GET', url);
    return parseInboxPage(await readJson(response));
  }

  async mark(messageId: string, state: 'ack' | 'read'): Promise<void> {
    const url = new URL(`v1/app/inbox/${encodeURIComponent(messageId)}/${state}`, this.#root);
    const response = await this.#request('POST', url);
    // The body is not needed; reading it lets the connection be reused.
    await response.arrayBuffer().catch(() => undefined);
  }

  async #request(method: string, url: URL): Promise<Response> {
    let response = await this.#send(method, url, await this.#options.token(false));
    if (response.status === 401 && this.#options.canRefresh) {
      await response.arrayBuffer().catch(() => undefined);
      response = await this.#send(method, url, await this.#options.token(true));
    }
    if (response.ok) return response;

    const detail = await problemDetail(response);
    const summary = `${method} ${url.pathname} returned HTTP ${response.status}${detail ? `: ${detail}` : ''}`;
    if (response.status === 401) {
      throw new AppClientError('unauthorized', `The server rejected the app token (${summary}). Request a new token from the business backend, which issues it with POST /v1/app/tokens.`, { status: 401 });
    }
    throw new AppClientError('request-failed', `${summary}.`, { status: response.status });
  }

  async #send(method: string, url: URL, token: string): Promise<Response> {
    try {
      return await this.#options.fetch(url.toString(), { method, headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
    } catch (error) {
      throw new AppClientError('request-failed', `${method} ${url.pathname} failed before a response arrived: ${errorMessage(error)}.`, { cause: error });
    }
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function readJson(response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch (error) {
    throw new AppClientError('invalid-frame', 'The server sent an inbox response that is not JSON.', { cause: error });
  }
}

/** Returns `detail` (or `title`) of an RFC 9457 problem response, or an empty string. */
async function problemDetail(response: Response): Promise<string> {
  try {
    const body: unknown = await response.json();
    if (typeof body === 'object' && body !== null) {
      const { detail, title } = body as { detail?: unknown; title?: unknown };
      if (typeof detail === 'string') return detail;
      if (typeof title === 'string') return title;
    }
  } catch {
    // A body that is not JSON adds nothing to the status.
  }
  return '';
}

function parseInboxPage(value: unknown): InboxPage {
  if (typeof value !== 'object' || value === null) {
    throw new AppClientError('invalid-frame', 'The server sent an invalid inbox response: expected a JSON object.');
  }
  const { messages, lastSeq } = value as { messages?: unknown; lastSeq?: unknown };
  if (!Array.isArray(messages)) throw new AppClientError('invalid-frame', 'The server sent an invalid inbox response: `messages` must be an array.');
  if (typeof lastSeq !== 'number' || !Number.isSafeInteger(lastSeq) || lastSeq < 0) {
    throw new AppClientError('invalid-frame', 'The server sent an invalid inbox response: `lastSeq` must be a non-negative integer.');
  }
  return { messages: messages.map((message) => parseFeedMessage(message, 'inbox message')), lastSeq };
}
