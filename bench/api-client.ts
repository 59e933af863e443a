import { request } from 'undici';
import type { MessageJson } from '../src/api/schemas/message-view.js';

/** Page size of `GET /v1/messages`; 100 is the largest the API allows. */
const PAGE_SIZE = 100;
const REQUEST_TIMEOUT_MS = 30_000;

export interface BatchResult {
  status: number;
  accepted: Array<{ index: number; messageId: string }>;
  rejected: Array<{ index: number; errors: Array<{ pointer: string; detail: string }> }>;
}

/** HTTP client for one Cascade server started by the benchmark. */
export class CascadeClient {
  constructor(
    readonly url: string,
    private readonly apiKey: string,
  ) {}

  /** `POST /v1/messages/batch`; a status other than 202 is returned with empty lists. */
  async sendBatch(messages: unknown[]): Promise<BatchResult> {
    const response = await request(`${this.url}/v1/messages/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages }),
      headersTimeout: REQUEST_TIMEOUT_MS,
      bodyTimeout: REQUEST_TIMEOUT_MS,
    });
    const text = await response.body.text();
    if (response.statusCode !== 202) {
      return { status: response.statusCode, accepted: [], rejected: [{ index: -1, errors: [{ pointer: '', detail: text.slice(0, 300) }] }] };
    }
    const body = JSON.parse(text) as Omit<BatchResult, 'status'>;
    return { status: response.statusCode, accepted: body.accepted, rejected: body.rejected };
  }

  /** Reads every message of the space through `GET /v1/messages`, 100 per page. */
  async listAll(maxPages: number): Promise<MessageJson[]> {
    const items: MessageJson[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < maxPages; page += 1) {
      const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (cursor !== null) query.set('cursor', cursor);
      const body = await this.#getJson<{ items: MessageJson[]; nextCursor: string | null }>(`/v1/messages?${query}`);
      items.push(...body.items);
      cursor = body.nextCursor;
      if (cursor === null) return items;
    }
    throw new Error(`listing messages stopped after ${maxPages} pages of ${PAGE_SIZE} with more pages left`);
  }

  /**
   * Reads Prometheus counters from `/metrics` and returns the sum over all label sets of each
   * requested name; a name that is absent counts as 0.
   */
  async counters(names: string[]): Promise<Map<string, number>> {
    const response = await request(`${this.url}/metrics`, { headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`GET /metrics returned ${response.statusCode}`);

    const sums = new Map(names.map((name) => [name, 0]));
    for (const line of text.split('\n')) {
      if (line.startsWith('#')) continue;
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})? (\S+)/.exec(line);
      if (match === null) continue;
      const [, name = '', value = ''] = match;
      const sum = sums.get(name);
      if (sum !== undefined) sums.set(name, sum + Number(value));
    }
    return sums;
  }

  async #getJson<T>(path: string): Promise<T> {
    const response = await request(`${this.url}${path}`, {
      headers: { authorization: `Bearer ${this.apiKey}` },
      headersTimeout: REQUEST_TIMEOUT_MS,
      bodyTimeout: REQUEST_TIMEOUT_MS,
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`GET ${path} returned ${response.statusCode}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }
}
