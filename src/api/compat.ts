import type { RawRequestDefaultExpression } from 'fastify';

/**
 * Compatibility paths for clients of the Omnichannel API, each served by the `/v1` route with
 * the same request body and response. Only `POST` is aliased.
 */
const COMPATIBILITY_PATHS: ReadonlyMap<string, string> = new Map([
  ['/cpaas/messages', '/v1/messages'],
  ['/cpaas/messages/batch', '/v1/messages/batch'],
]);

function splitQuery(url: string): [path: string, query: string] {
  const mark = url.indexOf('?');
  return mark < 0 ? [url, ''] : [url.slice(0, mark), url.slice(mark)];
}

/**
 * Fastify `rewriteUrl` hook: maps `POST` to a compatibility path onto its `/v1` route before
 * routing, so the alias runs that route's validation, hooks and handler. Fastify keeps the
 * path the client sent in `request.originalUrl`.
 */
export function rewriteCompatibilityUrl(request: RawRequestDefaultExpression): string {
  const url = request.url ?? '/';
  if (request.method !== 'POST') return url;
  const [path, query] = splitQuery(url);
  const target = COMPATIBILITY_PATHS.get(path);
  return target === undefined ? url : `${target}${query}`;
}

/** Returns whether `url`, as the client sent it, is a compatibility path. These also accept HTTP Basic. */
export function isCompatibilityUrl(url: string): boolean {
  return COMPATIBILITY_PATHS.has(splitQuery(url)[0]);
}
