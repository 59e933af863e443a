import type { Logger } from 'pino';
import { Agent, request } from 'undici';
import { signMetaPayload } from '../channels/meta/index.js';

/** Labels of one webhook in logs; never message text. */
export interface WebhookLabel {
  channel: 'whatsApp' | 'fbMessenger';
  event: string;
  providerMessageId?: string;
}

export interface WebhookSenderOptions {
  appSecret: string;
  logger: Logger;
  /** Sends of one webhook at most, the first included. */
  maxAttempts: number;
  /** Delay before the first resend in ms; each further resend waits twice as long. */
  firstRetryDelayMs: number;
}

/** Webhooks scheduled or waiting for a resend at most; more are dropped and logged. */
const MAX_PENDING = 10_000;
/** Deadline of one webhook POST in ms. */
const POST_TIMEOUT_MS = 10_000;

/**
 * Posts signed webhooks to one URL, as Meta does: JSON with `X-Hub-Signature-256`, resent
 * with doubling delays while the receiver responds other than 2xx or cannot be reached, up to
 * `maxAttempts` sends.
 */
export class WebhookSender {
  readonly #options: WebhookSenderOptions;
  readonly #logger: Logger;
  readonly #agent = new Agent({ keepAliveTimeout: 10_000, connect: { timeout: POST_TIMEOUT_MS } });
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #inFlight = new Set<AbortController>();
  #url: string | null = null;
  #pending = 0;
  #delivered = 0;
  #closed = false;

  constructor(options: WebhookSenderOptions) {
    this.#options = options;
    this.#logger = options.logger;
  }

  /** Sets the receiver. Throws when `url` is not an absolute http or https URL. */
  setUrl(url: string): void {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`invalid webhook URL "${url}": expected an absolute http or https URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new Error(`invalid webhook URL "${url}": the scheme must be http or https`);
    }
    this.#url = parsed.href;
    this.#logger.info({ webhookUrl: parsed.origin + parsed.pathname }, 'sandbox Graph API webhook URL set');
  }

  get url(): string | null {
    return this.#url;
  }

  /** Number of webhooks the receiver accepted with a 2xx response. */
  get delivered(): number {
    return this.#delivered;
  }

  /**
   * Builds the payload after `delayMs` and posts it. The payload is built when it is due, so
   * times in it (a watermark) are those of the moment it is sent.
   */
  postLater(delayMs: number, label: WebhookLabel, build: () => unknown): void {
    if (this.#closed) {
      return;
    }
    if (this.#pending >= MAX_PENDING) {
      this.#logger.warn({ ...label, pending: this.#pending }, 'sandbox Graph API webhook queue full; webhook dropped');
      return;
    }
    this.#pending += 1;
    this.#after(delayMs, () => {
      const raw = Buffer.from(JSON.stringify(build()), 'utf8');
      void this.#attempt(raw, label, 1);
    });
  }

  /** Cancels due webhooks and resends, aborts posts under way and closes the connections. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) {
      clearTimeout(timer);
    }
    this.#timers.clear();
    for (const controller of this.#inFlight) {
      controller.abort();
    }
    await this.#agent.destroy();
  }

  async #attempt(raw: Buffer, label: WebhookLabel, attempt: number): Promise<void> {
    const url = this.#url;
    if (url === null) {
      this.#pending -= 1;
      this.#logger.warn(label, 'sandbox Graph API webhook dropped: no webhook URL is set');
      return;
    }

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), POST_TIMEOUT_MS);
    this.#inFlight.add(controller);
    let failure: string;
    try {
      const response = await request(url, {
        method: 'POST',
        dispatcher: this.#agent,
        signal: controller.signal,
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256': signMetaPayload(raw, this.#options.appSecret),
        },
        body: raw,
      });
      await response.body.dump();
      if (response.statusCode >= 200 && response.statusCode < 300) {
        this.#pending -= 1;
        this.#delivered += 1;
        this.#logger.debug({ ...label, attempt }, 'sandbox Graph API webhook delivered');
        return;
      }
      failure = `HTTP ${response.statusCode}`;
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    } finally {
      clearTimeout(timer);
      this.#inFlight.delete(controller);
    }

    if (this.#closed) {
      return;
    }
    if (attempt >= this.#options.maxAttempts) {
      this.#pending -= 1;
      this.#logger.warn({ ...label, attempt, error: failure }, 'sandbox Graph API webhook dropped after the last attempt');
      return;
    }
    const delayMs = this.#options.firstRetryDelayMs * 2 ** (attempt - 1);
    this.#logger.info({ ...label, attempt, maxAttempts: this.#options.maxAttempts, delayMs, error: failure }, 'sandbox Graph API webhook failed; sending it again');
    this.#after(delayMs, () => void this.#attempt(raw, label, attempt + 1));
  }

  #after(delayMs: number, callback: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      callback();
    }, delayMs);
    this.#timers.add(timer);
  }
}
