import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One webhook POST as the recorder received it. */
export interface RecordedWebhook {
  /** The body bytes as received, for signature checks. */
  raw: Buffer;
  /** The body parsed as JSON; null when it is not JSON. */
  json: unknown;
  /** `X-Hub-Signature-256`, or undefined when missing. */
  signature: string | undefined;
  contentType: string | undefined;
  /** Epoch ms. */
  receivedAt: number;
}

export interface WebhookRecorderOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /**
   * Returns the response status for the n-th POST (1-based); default 200 for every POST. Lets a test
   * make the receiver fail and check that webhooks are sent again.
   */
  statusFor?: (postNumber: number) => number;
}

export interface WebhookRecorder {
  /** `http://host:port/webhook`. */
  url: string;
  /** Every POST received, oldest first, including those that got an error status. */
  received(): RecordedWebhook[];
  /** Resolves with the first POST, received or arriving later, that matches; rejects after `timeoutMs`. */
  waitFor(predicate: (webhook: RecordedWebhook) => boolean, timeoutMs?: number): Promise<RecordedWebhook>;
  close(): Promise<void>;
}

/** Largest body kept, in bytes. */
const MAX_BODY_BYTES = 1024 * 1024;
const MAX_RECORDS = 10_000;

/**
 * Starts a local HTTP receiver that stores every POST, to stand in for Cascade's Meta webhook
 * endpoint in tests and demos of the sandbox Graph API. It checks no signature, so that tests
 * can check it themselves.
 */
export async function startWebhookRecorder(options: WebhookRecorderOptions = {}): Promise<WebhookRecorder> {
  const records: RecordedWebhook[] = [];
  const waiters = new Set<{ predicate: (webhook: RecordedWebhook) => boolean; resolve: (webhook: RecordedWebhook) => void }>();
  let posts = 0;

  const server = createServer((request, response) => {
    readBody(request)
      .then((raw) => {
        posts += 1;
        const status = options.statusFor?.(posts) ?? 200;
        if (request.method === 'POST') {
          const record = toRecord(request, raw);
          records.push(record);
          if (records.length > MAX_RECORDS) {
            records.splice(0, records.length - MAX_RECORDS);
          }
          for (const waiter of waiters) {
            if (waiter.predicate(record)) {
              waiters.delete(waiter);
              waiter.resolve(record);
            }
          }
        }
        response.writeHead(status, { 'content-type': 'text/plain' });
        response.end(status < 300 ? 'EVENT_RECEIVED' : 'failed on purpose');
      })
      .catch(() => {
        response.writeHead(400);
        response.end();
      });
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/webhook`,
    received: () => [...records],
    waitFor(predicate, timeoutMs = 5_000) {
      const found = records.find(predicate);
      if (found !== undefined) {
        return Promise.resolve(found);
      }
      return new Promise<RecordedWebhook>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching webhook arrived within ${timeoutMs} ms (${records.length} received)`));
        }, timeoutMs);
        const waiter = {
          predicate,
          resolve: (webhook: RecordedWebhook) => {
            clearTimeout(timer);
            resolve(webhook);
          },
        };
        waiters.add(waiter);
      });
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    bytes += buffer.length;
    if (bytes <= MAX_BODY_BYTES) {
      chunks.push(buffer);
    }
  }
  return Buffer.concat(chunks);
}

function toRecord(request: IncomingMessage, raw: Buffer): RecordedWebhook {
  let json: unknown = null;
  try {
    json = JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    json = null;
  }
  const signature = request.headers['x-hub-signature-256'];
  return {
    raw,
    json,
    signature: Array.isArray(signature) ? signature[0] : signature,
    contentType: request.headers['content-type'],
    receivedAt: Date.now(),
  };
}
