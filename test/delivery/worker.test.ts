import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Delivery } from '../../src/delivery/index.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { NewMessage, Store } from '../../src/store/types.js';
import { newMessage } from '../store/fixtures.js';

/** Longer than any test here, so that only reports and wake-ups can make the worker claim. */
const IDLE_MS = 60_000;
const HOUR = 3_600_000;

interface Harness {
  store: Store;
  delivery: Delivery;
  clock: { now: number };
  /** Calls of `claimJobs` since the worker started. */
  claims(): number;
}

let dir = '';
let harness: Harness | null = null;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cascade-worker-'));
});

afterEach(async () => {
  await harness?.delivery.stop();
  await harness?.store.close();
  harness = null;
  await rm(dir, { recursive: true, force: true });
});

/** Start a worker on a real SQLite store with no channel configured, so every step is skipped and each message fails at once. */
async function startWorker(clockStart: number | null = null): Promise<Harness> {
  const store = await openSqliteStore({ file: join(dir, 'cascade.sqlite') });
  await store.migrate();
  let claims = 0;
  const claimJobs = store.claimJobs.bind(store);
  store.claimJobs = (...args) => {
    claims += 1;
    return claimJobs(...args);
  };
  const clock = { now: clockStart ?? Date.now() };
  const delivery = new Delivery({
    store,
    channels: new Map(),
    spaceId: 'default',
    logger: pino({ level: 'silent' }),
    clock: { now: () => (clockStart === null ? Date.now() : clock.now) },
    worker: { idleMs: IDLE_MS },
  });
  await delivery.start();
  await waitFor(() => claims > 0);
  harness = { store, delivery, clock, claims: () => claims };
  return harness;
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function isFinal(store: Store, message: NewMessage): Promise<boolean> {
  return (await store.getMessage('default', message.id))?.completedAt != null;
}

/** Accept each message in its own call, waking the worker after each commit as the API does. */
async function accept(h: Harness, messages: NewMessage[]): Promise<void> {
  await Promise.all(
    messages.map(async (message) => {
      await h.store.createMessages([message]);
      h.delivery.worker.wake();
    }),
  );
}

describe('worker', () => {
  it('runs due messages without a poll', async () => {
    const h = await startWorker();
    const now = Date.now();
    const messages = Array.from({ length: 40 }, () => newMessage({ createdAt: now, steps: [{ channel: 'sms', condition: 'delivered', fallbackAfterMs: null }] }));

    await accept(h, messages);

    await waitFor(async () => (await Promise.all(messages.map((message) => isFinal(h.store, message)))).every(Boolean));
    const view = await h.store.getMessage('default', messages[0]!.id);
    expect(view?.status).toBe('failed');
    // Each message has a start job and a step job. Claims take many of them at once.
    expect(h.claims()).toBeLessThan(messages.length / 2);
  });

  it('claims nothing for a burst of scheduled messages', async () => {
    const h = await startWorker();
    const before = h.claims();
    const now = Date.now();
    const messages = Array.from({ length: 50 }, () => newMessage({ createdAt: now, sendAt: now + HOUR }));

    await accept(h, messages);
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(h.claims()).toBe(before);
    expect(await isFinal(h.store, messages[0]!)).toBe(false);
  });

  it('runs a scheduled message at its time', async () => {
    const h = await startWorker();
    const sendAt = Date.now() + 300;
    const message = newMessage({ createdAt: Date.now(), sendAt, steps: [{ channel: 'sms', condition: 'delivered', fallbackAfterMs: null }] });

    await accept(h, [message]);

    await waitFor(() => isFinal(h.store, message));
    const view = await h.store.getMessage('default', message.id);
    expect(view?.completedAt).toBeGreaterThanOrEqual(sendAt);
  });

  it('runs a scheduled message when woken after the clock moved', async () => {
    const start = Date.UTC(2025, 0, 1);
    const h = await startWorker(start);
    const message = newMessage({ createdAt: start, sendAt: start + HOUR, steps: [{ channel: 'sms', condition: 'delivered', fallbackAfterMs: null }] });
    await accept(h, [message]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await isFinal(h.store, message)).toBe(false);

    h.clock.now = start + HOUR;
    h.delivery.worker.wake();

    await waitFor(() => isFinal(h.store, message));
  });
});
