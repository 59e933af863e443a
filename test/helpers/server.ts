import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig, type Config } from '../../src/config.js';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server.js';

export const TEST_API_KEY = 'test-key-0123456789';

export interface TestServer extends RunningServer {
  dataDir: string;
  /** Close the server and delete its data folder. */
  dispose(): Promise<void>;
}

/** Start a server on a free port with a fresh data folder and the sandbox peers. */
export async function startTestServer(env: Record<string, string> = {}, options: ServerOptions = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cascade-test-'));
  const config: Config = loadConfig({ PORT: '0', DATA_DIR: dataDir, API_KEY: TEST_API_KEY, LOG_LEVEL: 'silent', ...env });
  const server = await startServer(config, { logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), ...options });
  return {
    ...server,
    dataDir,
    dispose: async () => {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ApiResponse<T> {
  status: number;
  contentType: string | null;
  body: T;
}

/** Call the API over HTTP with the test key. */
export async function api<T = Record<string, unknown>>(server: { url: string }, method: string, path: string, body?: unknown, key = TEST_API_KEY): Promise<ApiResponse<T>> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type'), body: (text ? JSON.parse(text) : null) as T };
}

/** Poll a message until `done` holds for it; fails with the last view after `timeoutMs`. */
export async function waitForMessage<T extends { completedAt?: unknown; status?: unknown }>(
  server: { url: string },
  messageId: string,
  done: (message: T) => boolean = (message) => message.completedAt !== null && message.completedAt !== undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | null = null;
  while (Date.now() < deadline) {
    const response = await api<T>(server, 'GET', `/v1/messages/${messageId}`);
    last = response.body;
    if (response.status === 200 && done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`message ${messageId} did not reach the expected state in ${timeoutMs} ms; last view: ${JSON.stringify(last)}`);
}
