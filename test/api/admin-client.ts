import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** The admin key of test servers; config requires at least 32 characters. */
export const ADMIN_KEY = 'admin-key-for-tests-5d0c2b9e71f4a6';

export interface HttpResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RequestOptions {
  /** Sent as `Authorization: Bearer <key>`. Ignored when `authorization` is given. */
  key?: string;
  /** The whole Authorization header. */
  authorization?: string;
  body?: unknown;
  /** More request headers. */
  headers?: Record<string, string>;
}

/** Calls a running server over HTTP and parses the JSON response, if any. */
export async function http<T = Record<string, unknown>>(
  server: { url: string },
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<HttpResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  else if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';

  const response = await fetch(`${server.url}${path}`, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : null) as T };
}

export interface IssuedKey {
  keyId: string;
  key: string;
  prefix: string;
  name: string | null;
  scopes: string[] | null;
  createdAt: string;
}

/** Creates a space through the admin API and returns its id. */
export async function createSpace(server: { url: string }, name: string): Promise<string> {
  const response = await http<{ spaceId: string }>(server, 'POST', '/v1/admin/spaces', { key: ADMIN_KEY, body: { name } });
  if (response.status !== 201) throw new Error(`creating space ${name} returned HTTP ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body.spaceId;
}

/** Issues a key of `spaceId` through the admin API. */
export async function issueKey(server: { url: string }, spaceId: string, body: { scopes?: string[]; name?: string } = {}): Promise<IssuedKey> {
  const response = await http<IssuedKey>(server, 'POST', `/v1/admin/spaces/${spaceId}/keys`, { key: ADMIN_KEY, body });
  if (response.status !== 201) throw new Error(`issuing a key returned HTTP ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body;
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/** Creates a debug-level logger that keeps every output line in `lines`. */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}
