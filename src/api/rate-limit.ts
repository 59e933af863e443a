import fastifyRateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiInstance } from './deps.js';
import { problem, ProblemError, sendProblem, type Problem } from './problem.js';

/**
 * Request rate limits, each counted in fixed one-minute windows. A limit of 0 turns that limit
 * off.
 */
export interface RateLimitSettings {
  /** Requests per minute of each space through its API keys, and of each app user through its app tokens. */
  perMinute: number;
  /**
   * Requests per minute from one client IP address that carry no valid API key or app token:
   * admin API calls, demo pages, and failed authentication attempts.
   */
  perIpPerMinute: number;
}

const WINDOW_MS = 60_000;

/**
 * Maximum number of counters each limit keeps. `@fastify/rate-limit` keeps them in a
 * least-recently-used map, so beyond this many active clients the least recently used counter
 * is dropped and starts again from zero.
 */
const MAX_TRACKED_CLIENTS = 50_000;

/**
 * Returns whether a request's route is outside every limit. Probes call the health check and
 * `/metrics` on their own schedule, and Meta signs its webhooks and sends them at its own rate.
 * The API description (`/openapi.json`, `/docs`) is exempt too.
 */
function isExemptRoute(request: FastifyRequest): boolean {
  const url = request.routeOptions.url;
  if (url === undefined) return false;
  return (
    url === '/healthz' ||
    url === '/metrics' ||
    url === '/openapi.json' ||
    url.startsWith('/v1/providers/meta/webhook') ||
    url === '/docs' ||
    url.startsWith('/docs/')
  );
}

/** The client a request is counted for, named in log lines and in the 429 detail. */
interface Client {
  /** Rate limit key: `space:<spaceId>`, `app:<spaceId>:<appUserId>` or `ip:<address>`. */
  key: string;
  description: string;
}

/**
 * Selects the counter of a request. It runs after authentication, so API key requests count
 * for their space and app token requests for their app user. Everything else counts for the
 * client's IP address, with IPv6 addresses grouped by /64 network.
 */
function clientOf(request: FastifyRequest): Client {
  if (request.spaceId !== '') return { key: `space:${request.spaceId}`, description: `Space ${request.spaceId}` };
  // `appIdentity` is decorated on the app routes only, so other requests have no such property.
  const app = request.appIdentity ?? null;
  if (app !== null) {
    return { key: `app:${app.spaceId}:${app.appUserId}`, description: `App user ${app.appUserId} of space ${app.spaceId}` };
  }
  const address = normalizeIP(request.ip);
  return { key: `ip:${address}`, description: `Address ${address}` };
}

function isIpKey(key: string): boolean {
  return key.startsWith('ip:');
}

/**
 * Logs the first rejection of each client in a window and drops the others, so that a client
 * that keeps sending past its limit adds one warning per minute.
 */
class RejectionLog {
  private readonly loggedUntil = new Map<string, number>();

  shouldLog(key: string, windowEndsAt: number): boolean {
    const now = Date.now();
    if ((this.loggedUntil.get(key) ?? 0) > now) return false;
    if (this.loggedUntil.size >= MAX_TRACKED_CLIENTS) {
      for (const [logged, until] of this.loggedUntil) {
        if (until <= now) this.loggedUntil.delete(logged);
      }
      // Every entry is still in its window, so the oldest one goes, and that client may be logged twice.
      const oldest = this.loggedUntil.keys().next();
      if (this.loggedUntil.size >= MAX_TRACKED_CLIENTS && oldest.done !== true) this.loggedUntil.delete(oldest.value);
    }
    this.loggedUntil.set(key, windowEndsAt);
    return true;
  }
}

function setRateLimitHeaders(reply: FastifyReply, limit: number, retryAfterSeconds: number): void {
  reply.header('RateLimit-Limit', limit);
  reply.header('RateLimit-Remaining', 0);
  reply.header('RateLimit-Reset', retryAfterSeconds);
  reply.header('Retry-After', retryAfterSeconds);
}

function rateLimited(detail: string): Problem {
  return problem('rate-limited', detail);
}

/**
 * Registers the request rate limits on the API's root instance. Call it before any route is
 * added, because `@fastify/rate-limit` attaches its check to each route as the route is added.
 *
 * The check is a route-level `onRequest` hook. Fastify runs those after the `onRequest` hooks of
 * the route's plugin scopes, which include API key and app token authentication, so the space
 * or app user is known when the check picks a counter. Requests over a limit get 429
 * `application/problem+json` with `Retry-After`; counted requests carry `RateLimit-Limit`,
 * `RateLimit-Remaining` and `RateLimit-Reset`, named as in the IETF RateLimit header draft.
 *
 * Requests that fail authentication stop before that check, so a second counter tracks their
 * 401 responses per IP address. Once an address has had `perIpPerMinute` of them in the window,
 * every request from it gets 429 before authentication until the window ends, valid keys
 * included. That keeps the server from checking endless forged keys.
 *
 * NOTE: counters live in this process's memory. Several processes behind a load balancer each
 * allow the full limit, and a restart resets them. Behind a reverse proxy every client has the
 * proxy's address, so the per-IP limit covers all of them together.
 */
export async function registerRateLimits(app: ApiInstance, settings: RateLimitSettings | null): Promise<void> {
  if (settings === null || (settings.perMinute === 0 && settings.perIpPerMinute === 0)) return;
  const { perMinute, perIpPerMinute } = settings;
  const limitOf = (key: string): number => (isIpKey(key) ? perIpPerMinute : perMinute);
  const rejections = new RejectionLog();

  await app.register(fastifyRateLimit, {
    global: true,
    hook: 'onRequest',
    timeWindow: WINDOW_MS,
    cache: MAX_TRACKED_CLIENTS,
    enableDraftSpec: true,
    keyGenerator: (request) => clientOf(request).key,
    max: (_request, key) => limitOf(key),
    // A limit of 0 means no limit for that kind of client, not zero requests.
    allowList: (request, key) => isExemptRoute(request) || limitOf(key) === 0,
    errorResponseBuilder: (request, context) => {
      const client = clientOf(request);
      const retryAfter = Math.ceil(context.ttl / 1000);
      if (rejections.shouldLog(client.key, Date.now() + context.ttl)) {
        request.log.warn({ rateLimitKey: client.key, limit: context.max, retryAfterSeconds: retryAfter }, 'request rate limit reached, so requests get 429 until the window ends');
      }
      const detail = `${client.description} sent more than ${context.max} requests in the current one-minute window, the limit. Retry after ${retryAfter} seconds.`;
      return new ProblemError(rateLimited(detail));
    },
  });

  if (perIpPerMinute === 0) return;
  const failedAuthentications = app.createRateLimit({
    keyGenerator: (request) => `ip:${normalizeIP(request.ip)}`,
    max: perIpPerMinute,
    timeWindow: WINDOW_MS,
  });

  app.addHook('onRequest', async (request, reply) => {
    const state = await failedAuthentications(request, { increment: false });
    if (state.isAllowed || state.remaining > 0) return undefined;
    const retryAfter = Math.max(1, state.ttlInSeconds);
    if (rejections.shouldLog(`auth:${state.key}`, Date.now() + state.ttl)) {
      request.log.warn({ rateLimitKey: state.key, limit: state.max, retryAfterSeconds: retryAfter }, 'failed authentication limit reached, so requests get 429 until the window ends');
    }
    setRateLimitHeaders(reply, state.max, retryAfter);
    const detail = `Requests from this address failed authentication ${state.max} times in the current one-minute window, the limit. Retry after ${retryAfter} seconds with a valid key or token.`;
    return sendProblem(reply, rateLimited(detail));
  });

  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode === 401) await failedAuthentications(request);
  });
}
