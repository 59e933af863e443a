import type { Logger } from 'pino';
import { Agent, request } from 'undici';
import webPush, { type RequestDetails } from 'web-push';
import { checkVapidKeyPair, checkVapidSubject, type VapidDetails } from '../../vapid-keys.js';
import { buildPushPayload, pushTopic } from './push-payload.js';
import { endpointOrigin, validatePushSubscription, type PushEndpointPolicy } from './push-subscription.js';
import type { AppDevice, AppFeedStore, FeedEntry, PushSubscriptionInput } from './types.js';

/**
 * Result of one `notify` call over all devices of an app user:
 * - `sent`: at least one push service accepted the push.
 * - `no-device`: no push was accepted and none is worth a retry, because the user has no device
 *   with a push subscription, the push services reported every subscription gone (those devices
 *   are deleted), or they rejected every push permanently.
 * - `transient`: no push was accepted and at least one failure is worth a retry (HTTP 408, 429,
 *   5xx, timeout, network error). `retryAfterMs` is the largest `Retry-After` among them, in ms.
 */
export type PushNotifyResult = 'sent' | 'no-device' | { transient: string; retryAfterMs?: number };

/** Sends a feed entry to the app user's devices that are not connected. */
export interface AppPushNotifier {
  notify(spaceId: string, appUserId: string, entry: FeedEntry): Promise<PushNotifyResult>;
}

export interface WebPushNotifierOptions extends PushEndpointPolicy {
  feed: Pick<AppFeedStore, 'listDevices' | 'deleteDevice'>;
  vapid: VapidDetails;
  /**
   * The VAPID details of a space with Web Push settings of its own; null for a space without,
   * which pushes with `vapid`. A subscription made with one key pair is refused by push
   * services when another one signs.
   */
  vapidFor?: (spaceId: string) => Promise<VapidDetails | null>;
  logger: Logger;
  /** Deadline of one push request, from connecting to the end of the response, in ms. Default 30,000. */
  timeoutMs?: number;
  /** How long a push service keeps an undelivered push (the `TTL` header), in seconds. Default 86,400 (one day). */
  ttlSeconds?: number;
}

/** Outcome of the push to one device. */
type DeviceOutcome =
  | { kind: 'sent' }
  | { kind: 'gone' }
  | { kind: 'rejected'; reason: string }
  | { kind: 'transient'; reason: string; retryAfterMs: number | null };

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_TTL_SECONDS = 86_400;
/** Upper bound of `ttlSeconds`: 28 days, the default TTL of web-push 3.6. A push service may keep a push for less time than requested (RFC 8030 section 5.2). */
const MAX_TTL_SECONDS = 28 * 86_400;
/** Push services respond to a push with an empty or short body, so only this much is read, for the log. */
const MAX_RESPONSE_BYTES = 1024;
/** Maximum number of open connections to one push service origin. */
const MAX_CONNECTIONS_PER_ORIGIN = 16;
const KEEP_ALIVE_TIMEOUT_MS = 30_000;

/**
 * Sends Web Push messages (RFC 8030) to the devices of an app user. The payload is the feed
 * message as JSON (see `buildPushPayload`), encrypted with aes128gcm for each subscription
 * (RFC 8291). Each request is signed with the VAPID key pair (RFC 8292) and carries urgency
 * `high`, the configured TTL and a topic derived from the message id (see `pushTopic`).
 *
 * web-push 3.6 builds each request (`generateRequestDetails`), and undici sends it.
 * web-push's own `sendNotification` is not used, because it always connects with TLS and so
 * cannot reach the plain-http sandbox push service.
 *
 * Per device: 2xx is sent. 404 and 410 mean the subscription is gone, so the device is deleted.
 * 408, 429, 5xx, timeouts and network errors are transient. Every other status (400, 401, 403,
 * 413, redirects) is a permanent rejection of that push: it is logged and the device is kept,
 * because these statuses point at Cascade's VAPID keys or request, not at the subscription, and
 * deleting devices for them could remove every subscription after one configuration mistake.
 */
export class WebPushNotifier implements AppPushNotifier {
  readonly #feed: Pick<AppFeedStore, 'listDevices' | 'deleteDevice'>;
  readonly #vapid: VapidDetails;
  readonly #vapidFor: (spaceId: string) => Promise<VapidDetails | null>;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #ttlSeconds: number;
  readonly #policy: PushEndpointPolicy;
  readonly #agent: Agent;

  /** Throws when the VAPID details, `timeoutMs`, `ttlSeconds` or a trusted origin is invalid. */
  constructor(options: WebPushNotifierOptions) {
    checkVapidKeyPair(options.vapid.publicKey, options.vapid.privateKey, 'vapid.publicKey', 'vapid.privateKey');
    checkVapidSubject(options.vapid.subject, 'vapid.subject');
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
      throw new Error(`invalid Web Push timeoutMs ${timeoutMs}: expected a positive integer of milliseconds`);
    }
    const ttlSeconds = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 0 || ttlSeconds > MAX_TTL_SECONDS) {
      throw new Error(`invalid Web Push ttlSeconds ${ttlSeconds}: expected a whole number of seconds from 0 to ${MAX_TTL_SECONDS}`);
    }
    const trustedOrigins = (options.trustedOrigins ?? []).map((origin) => normalizeOrigin(origin));

    this.#feed = options.feed;
    this.#vapid = { publicKey: options.vapid.publicKey, privateKey: options.vapid.privateKey, subject: options.vapid.subject };
    this.#vapidFor = options.vapidFor ?? (async () => null);
    this.#logger = options.logger;
    this.#timeoutMs = timeoutMs;
    this.#ttlSeconds = ttlSeconds;
    this.#policy = { trustedOrigins };
    this.#agent = new Agent({
      connections: MAX_CONNECTIONS_PER_ORIGIN,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      connect: { timeout: timeoutMs },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  }

  /** The VAPID public key that apps pass to `pushManager.subscribe` as `applicationServerKey`. */
  get publicKey(): string {
    return this.#vapid.publicKey;
  }

  /**
   * Sends the entry to every device of the app user that has a push subscription, all at once.
   * Push failures become the result. The promise rejects only when `listDevices` fails or
   * `entry.sentOn` is not a valid time.
   */
  async notify(spaceId: string, appUserId: string, entry: FeedEntry): Promise<PushNotifyResult> {
    const logger = this.#logger.child({ spaceId, appUserId, messageId: entry.messageId });
    const devices = (await this.#feed.listDevices(spaceId, appUserId)).filter(
      (device): device is AppDevice & { push: PushSubscriptionInput } => device.push !== null,
    );
    if (devices.length === 0) {
      logger.debug('no Web Push sent: the app user has no device with a push subscription');
      return 'no-device';
    }

    const { json, payload } = buildPushPayload(entry);
    if ('truncated' in payload) {
      logger.info({ seq: entry.seq }, 'feed message too large for one push; sending it without body and data');
    }
    const topic = pushTopic(entry.messageId);
    const vapid = (await this.#vapidFor(spaceId)) ?? this.#vapid;
    const outcomes = await Promise.all(devices.map((device) => this.#notifyDevice(device, json, topic, vapid, logger)));
    return summarize(outcomes, devices.length);
  }

  /** Closes idle connections at once and the others after their request finished. */
  async close(): Promise<void> {
    await this.#agent.close();
  }

  async #notifyDevice(
    device: AppDevice & { push: PushSubscriptionInput },
    json: string,
    topic: string,
    vapid: VapidDetails,
    parentLogger: Logger,
  ): Promise<DeviceOutcome> {
    const subscription = device.push;
    const logger = parentLogger.child({ deviceId: device.deviceId, pushService: endpointOrigin(subscription.endpoint) });

    const problem = validatePushSubscription(subscription, this.#policy);
    if (problem !== null) {
      logger.warn({ problem }, 'Web Push not sent: the stored push subscription is invalid');
      return { kind: 'rejected', reason: `invalid push subscription: ${problem}` };
    }

    let details: RequestDetails;
    try {
      details = webPush.generateRequestDetails(subscription, json, {
        vapidDetails: vapid,
        TTL: this.#ttlSeconds,
        urgency: 'high',
        topic,
        contentEncoding: 'aes128gcm',
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      logger.warn({ problem: reason }, 'Web Push not sent: the push could not be encrypted or signed');
      return { kind: 'rejected', reason: `push not built: ${reason}` };
    }

    let status: number;
    let retryAfterMs: number | null;
    let responseText: string;
    try {
      const response = await request(details.endpoint, {
        method: 'POST',
        dispatcher: this.#agent,
        signal: AbortSignal.timeout(this.#timeoutMs),
        headers: requestHeaders(details.headers),
        body: details.body,
      });
      status = response.statusCode;
      retryAfterMs = parseRetryAfter(response.headers['retry-after'], Date.now());
      responseText = await readText(response.body, MAX_RESPONSE_BYTES);
    } catch (error) {
      const reason = describeRequestError(error, this.#timeoutMs);
      logger.warn({ error: reason }, 'Web Push not sent: no response from the push service; worth a retry');
      return { kind: 'transient', reason: `${reason} (${endpointOrigin(subscription.endpoint)})`, retryAfterMs: null };
    }

    const origin = endpointOrigin(subscription.endpoint);
    if (status >= 200 && status < 300) {
      logger.info({ status }, 'Web Push accepted by the push service');
      return { kind: 'sent' };
    }
    const responseSummary = summarizeResponse(responseText);
    if (status === 404 || status === 410) {
      logger.info({ status, response: responseSummary }, 'push subscription is gone; deleting the device');
      await this.#deleteGoneDevice(device, logger);
      return { kind: 'gone' };
    }
    if (status === 408 || status === 429 || status >= 500) {
      logger.warn({ status, retryAfterMs, response: responseSummary }, 'Web Push not accepted by the push service; worth a retry');
      return { kind: 'transient', reason: `HTTP ${status} from ${origin}`, retryAfterMs };
    }
    logger.error({ status, response: responseSummary }, 'Web Push rejected by the push service; the device is kept');
    return { kind: 'rejected', reason: `HTTP ${status} from ${origin}` };
  }

  /**
   * Deletes the device unless it registered a different subscription since `listDevices`,
   * because the old endpoint of a browser that replaced its subscription returns 410.
   *
   * NOTE: a registration between the second `listDevices` and `deleteDevice` is still lost, since
   * `AppFeedStore` has no conditional delete.
   */
  async #deleteGoneDevice(device: AppDevice & { push: PushSubscriptionInput }, logger: Logger): Promise<void> {
    try {
      const current = (await this.#feed.listDevices(device.spaceId, device.appUserId)).find((candidate) => candidate.deviceId === device.deviceId);
      if (current === undefined) {
        return;
      }
      if (current.push?.endpoint !== device.push.endpoint) {
        logger.info('device registered a new push subscription meanwhile; keeping it');
        return;
      }
      await this.#feed.deleteDevice(device.spaceId, device.appUserId, device.deviceId);
    } catch (error) {
      logger.error({ err: error }, 'failed to delete a device whose push subscription is gone');
    }
  }
}

/** Combines the per-device outcomes into the result of `notify`. */
function summarize(outcomes: DeviceOutcome[], deviceCount: number): PushNotifyResult {
  if (outcomes.some((outcome) => outcome.kind === 'sent')) {
    return 'sent';
  }
  const transient = outcomes.filter((outcome): outcome is Extract<DeviceOutcome, { kind: 'transient' }> => outcome.kind === 'transient');
  if (transient.length === 0) {
    return 'no-device';
  }
  const reasons = [...new Set(transient.map((outcome) => outcome.reason))].join('; ');
  const result: { transient: string; retryAfterMs?: number } = {
    transient: `Web Push failed for ${transient.length} of ${deviceCount} devices: ${reasons}`,
  };
  const delays = transient.map((outcome) => outcome.retryAfterMs).filter((delay): delay is number => delay !== null);
  if (delays.length > 0) {
    result.retryAfterMs = Math.max(...delays);
  }
  return result;
}

/** Converts web-push's headers (some of them numbers) to strings; undici sets `Content-Length` itself. */
function requestHeaders(headers: Record<string, string | number>): Record<string, string> {
  const converted: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() !== 'content-length') {
      converted[name] = String(value);
    }
  }
  return converted;
}

/** Reads a `Retry-After` header given in seconds or as an HTTP date (RFC 9110 section 10.2.3), in ms. */
export function parseRetryAfter(header: string | string[] | undefined, now: number): number | null {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (value === undefined || value === '') {
    return null;
  }
  if (/^[0-9]+$/.test(value)) {
    return Number(value) * 1000;
  }
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

async function readText(body: AsyncIterable<Buffer> & { destroy(): unknown }, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    bytes += chunk.length;
    if (bytes >= maxBytes) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}

/** Returns the start of a push service's error body on one line, for the log, because push services put the reason there. */
function summarizeResponse(text: string): string | undefined {
  const line = text.replace(/\s+/g, ' ').trim();
  return line === '' ? undefined : line.slice(0, 300);
}

function describeRequestError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || /TIMEOUT/.test(String((error as { code?: unknown }).code)))) {
    return `no response within ${timeoutMs} ms`;
  }
  const parts: string[] = [];
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 3; current = current.cause, depth += 1) {
    const code = (current as Error & { code?: unknown }).code;
    parts.push(typeof code === 'string' ? `${current.message} (${code})` : current.message);
  }
  return parts.length > 0 ? `request failed: ${parts.join(': ')}` : `request failed: ${String(error)}`;
}

function normalizeOrigin(origin: string): string {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new Error(`invalid Web Push trusted origin "${origin}": expected an origin such as http://127.0.0.1:4000`);
  }
  return url.origin;
}
