import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { pino, type Logger } from 'pino';
import { buildApi } from '../../src/api/app.js';
import { Delivery } from '../../src/delivery/index.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { testSecretBox } from '../support/secret-box.js';

export const API_KEY = 'test-api-key-7f3a9c';
/** 2025-06-01T12:00:00Z, the clock of every test app unless a test moves it. */
export const START = Date.parse('2025-06-01T12:00:00Z');

export interface TestApi {
  app: FastifyInstance;
  store: Store;
  delivery: Delivery;
  clock: { now: number };
  /** How often the API woke the delivery worker. */
  wakeUps: { count: number };
  /** Closes the store while the API keeps running, so that store calls fail. */
  closeStore(): Promise<void>;
  close(): Promise<void>;
}

export interface TestApiOptions {
  defaultRegion?: string | null;
  logger?: Logger;
  /** Run the delivery worker, so accepted messages are routed (no channel is configured). */
  runWorker?: boolean;
}

/** Builds an API on a real SQLite store in a fresh temporary folder, with a real delivery layer. */
export async function createTestApi(options: TestApiOptions = {}): Promise<TestApi> {
  const dir = await mkdtemp(join(tmpdir(), 'cascade-api-'));
  const store = await openSqliteStore({ file: join(dir, 'cascade.sqlite') });
  await store.migrate();

  const clock = { now: START };
  const wakeUps = { count: 0 };
  const logger = options.logger ?? pino({ level: 'silent' });
  const delivery = new Delivery({
    store,
    channels: new Map(),
    spaceId: 'default',
    logger,
    clock: { now: () => clock.now },
  });
  if (options.runWorker) await delivery.start();

  const app = await buildApi({
    store,
    apiKey: API_KEY,
    now: () => clock.now,
    defaultRegion: options.defaultRegion ?? null,
    onAccepted: () => {
      wakeUps.count += 1;
      delivery.worker.wake();
    },
    cancelMessage: (spaceId, messageId) => delivery.cancelMessage(spaceId, messageId),
    logger,
    channelSettings: { box: testSecretBox() },
  });
  await app.ready();

  let storeOpen = true;
  const closeStore = async (): Promise<void> => {
    if (!storeOpen) return;
    storeOpen = false;
    await store.close();
  };

  return {
    app,
    store,
    delivery,
    clock,
    wakeUps,
    closeStore,
    close: async () => {
      await app.close();
      await delivery.stop();
      await closeStore();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface CallOptions {
  body?: unknown;
  key?: string | null;
  headers?: Record<string, string>;
}

/** Calls the API in-process with the test key, sending `body` as JSON. */
export function call(api: TestApi, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, options: CallOptions = {}): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { ...options.headers };
  const key = options.key === undefined ? API_KEY : options.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (options.body !== undefined) headers['content-type'] ??= 'application/json';
  return api.app.inject({
    method,
    url,
    headers,
    ...(options.body === undefined ? {} : { payload: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
  });
}

/** Counts the stored messages of the default space. */
export async function countMessages(store: Store): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const page = await store.listMessages('default', { limit: 100, ...(cursor === null ? {} : { cursor }) });
    count += page.items.length;
    cursor = page.nextCursor;
  } while (cursor !== null);
  return count;
}

export function json<T = Record<string, unknown>>(response: LightMyRequestResponse): T {
  return response.json<T>();
}
