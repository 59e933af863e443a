import { errors as undiciErrors, request, type Agent } from 'undici';
import { signPayload } from './signature.js';

/** Result of one try: the receiver's status, or the reason no response came. */
export type TryResult =
  | { kind: 'response'; status: number; retryAfter: string | undefined }
  | { kind: 'error'; error: string }
  /** The sender is stopping; the try counts for nothing. */
  | { kind: 'aborted' };

export interface WebhookRequest {
  url: string;
  /** The `webhook-id`. */
  id: string;
  secret: string;
  body: string;
  /** Epoch milliseconds of the try; sent in whole seconds as `webhook-timestamp`. */
  now: number;
}

/** Response bytes read before the connection is let go; the content is not used. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POST one signed webhook. Redirects are not followed. Never throws: every failure comes back
 * as a `TryResult`, described without the URL, which may carry a token.
 */
export async function postWebhook(agent: Agent, webhook: WebhookRequest, timeoutMs: number, stopSignal: AbortSignal): Promise<TryResult> {
  const timestamp = Math.floor(webhook.now / 1000);
  const signal = AbortSignal.any([stopSignal, AbortSignal.timeout(timeoutMs)]);
  try {
    const response = await request(webhook.url, {
      method: 'POST',
      dispatcher: agent,
      signal,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Cascade-Webhooks/1',
        'webhook-id': webhook.id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signPayload(webhook.secret, webhook.id, timestamp, webhook.body),
      },
      body: webhook.body,
    });
    try {
      await response.body.dump({ limit: MAX_RESPONSE_BYTES, signal });
    } catch {
      // The status is known already; an unread or cut-off response body does not change it.
    }
    const retryAfter = response.headers['retry-after'];
    return { kind: 'response', status: response.statusCode, retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined };
  } catch (error) {
    if (stopSignal.aborted) return { kind: 'aborted' };
    return { kind: 'error', error: describeError(error, timeoutMs, signal) };
  }
}

function describeError(error: unknown, timeoutMs: number, signal: AbortSignal): string {
  if (signal.aborted || error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError) {
    return `timed out after ${timeoutMs} ms`;
  }
  if (error instanceof undiciErrors.ConnectTimeoutError) return `connecting timed out after ${timeoutMs} ms`;
  const code = errorCode(error);
  if (code === 'ECONNREFUSED') return 'connection refused (ECONNREFUSED)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host name not resolved (${code})`;
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return `connection closed by the receiver (${code})`;
  const message = error instanceof Error ? error.message : String(error);
  return `request failed${code === undefined ? '' : ` (${code})`}: ${message.slice(0, 200)}`;
}

/** Returns the `code` of the error or of its cause, where Node puts socket errors. */
function errorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 3; current = current.cause, depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}
