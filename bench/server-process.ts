/**
 * Child process of the benchmark: runs one server on 127.0.0.1 and handles the parent's
 * requests over the IPC channel. Usage: `server-process.ts <bare|cascade-sqlite|cascade-postgres> <dataDir>`.
 * With `cascade-postgres`, the `DATABASE_URL` environment variable selects the database and schema.
 *
 * Each server runs in its own process, so the load generator in the parent does not share an
 * event loop with it. The process exits when the parent sends `close` or disconnects.
 */
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { ECHO_PATH, type ChildReply, type MemorySamples, type ParentRequest, type SubmitSample } from './ipc.js';

/** Same level as the Cascade server's logger in the benchmark, so both pay the same logging cost. */
const LOG_LEVEL = 'warn';
const CLOSE_TIMEOUT_MS = 15_000;

interface Running {
  url: string;
  apiKey: string | null;
  submits(): SubmitSample[];
  close(): Promise<void>;
}

function send(reply: ChildReply): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) {
      resolve();
      return;
    }
    process.send(reply, undefined, {}, () => resolve());
  });
}

/** Starts Fastify with one route that parses the JSON body and returns it unchanged. */
async function startBare(): Promise<Running> {
  const app = Fastify({ loggerInstance: pino({ level: LOG_LEVEL }) });
  app.post(ECHO_PATH, async (request) => request.body);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, apiKey: null, submits: () => [], close: () => app.close() };
}

/**
 * Starts Cascade with the sandbox SMSC and SMTP relay in this process. Its key files go to
 * `dataDir`, and so does its SQLite database unless `databaseUrl` selects PostgreSQL.
 */
async function startCascade(dataDir: string, databaseUrl: string | null): Promise<Running> {
  // The benchmark sends far more than the default per-space request limit, so the limit is off.
  // A key from the environment, as production has it, so that the server does not warn about a key file in its data folder.
  // SANDBOX is set because it defaults to off when DATABASE_URL is set.
  const encryptionKey = randomBytes(32).toString('base64');
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    ...(databaseUrl === null ? {} : { DATABASE_URL: databaseUrl }),
    LOG_LEVEL,
    SANDBOX: '1',
    RATE_LIMIT_PER_MINUTE: '0',
    ENCRYPTION_KEY: encryptionKey,
  });
  const server: RunningServer = await startServer(config);
  const smsc = server.sandbox.smsc;
  return {
    url: server.url,
    apiKey: server.apiKey.key,
    submits: () => {
      if (smsc === null) return [];
      const samples: SubmitSample[] = [];
      for (const record of smsc.submits()) {
        if (record.messageId === null) continue;
        samples.push({ messageId: record.messageId, destination: record.destination, receivedAt: record.receivedAt });
      }
      return samples;
    },
    close: () => server.close(),
  };
}

async function closeWithin(running: Running, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`closing the server timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([running.close(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function main(): Promise<void> {
  const [kind, dataDir] = process.argv.slice(2);
  if ((kind !== 'bare' && kind !== 'cascade-sqlite' && kind !== 'cascade-postgres') || dataDir === undefined) {
    throw new Error(`usage: server-process.ts <bare|cascade-sqlite|cascade-postgres> <dataDir>; received ${process.argv.slice(2).join(' ')}`);
  }
  let running: Running;
  if (kind === 'bare') {
    running = await startBare();
  } else if (kind === 'cascade-sqlite') {
    running = await startCascade(dataDir, null);
  } else {
    const databaseUrl = process.env.DATABASE_URL;
    if (!databaseUrl) throw new Error('DATABASE_URL is missing; the parent sets it for a cascade-postgres server');
    running = await startCascade(dataDir, databaseUrl);
  }

  let sampler: NodeJS.Timeout | null = null;
  let samples: MemorySamples = { intervalMs: 0, count: 0, peakRss: 0 };
  let closing = false;

  const shutdown = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    if (sampler !== null) clearInterval(sampler);
    await closeWithin(running, CLOSE_TIMEOUT_MS);
  };

  const handle = async (request: ParentRequest): Promise<void> => {
    switch (request.type) {
      case 'usage': {
        const cpu = process.cpuUsage();
        await send({ id: request.id, type: 'usage', usage: { rss: process.memoryUsage.rss(), cpuMicros: cpu.user + cpu.system } });
        return;
      }
      case 'start-sampling': {
        if (sampler !== null) clearInterval(sampler);
        samples = { intervalMs: request.intervalMs, count: 1, peakRss: process.memoryUsage.rss() };
        sampler = setInterval(() => {
          samples.count += 1;
          samples.peakRss = Math.max(samples.peakRss, process.memoryUsage.rss());
        }, request.intervalMs);
        await send({ id: request.id, type: 'sampling-started' });
        return;
      }
      case 'stop-sampling':
        if (sampler !== null) clearInterval(sampler);
        sampler = null;
        samples.count += 1;
        samples.peakRss = Math.max(samples.peakRss, process.memoryUsage.rss());
        await send({ id: request.id, type: 'samples', samples });
        return;
      case 'submits':
        await send({ id: request.id, type: 'submits', submits: running.submits() });
        return;
      case 'close':
        await shutdown();
        await send({ id: request.id, type: 'closed' });
        process.exit(0);
    }
  };

  process.on('message', (request: ParentRequest) => {
    handle(request).catch(async (error: unknown) => {
      await send({ id: request.id, type: 'error', error: error instanceof Error ? error.message : String(error) });
      if (request.type === 'close') process.exit(1);
    });
  });
  // The parent died or closed the channel: stop the server instead of running on as an orphan.
  process.on('disconnect', () => {
    shutdown().finally(() => process.exit(0));
  });

  await send({ type: 'ready', url: running.url, apiKey: running.apiKey });
}

main().catch(async (error: unknown) => {
  await send({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
});
