import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isCompatibilityUrl } from './compat.js';
import { DEFAULT_SPACE_ID, hasScope, type ApiKeys, type Scope, type VerifiedKey } from './keys.js';
import { problem, sendProblem } from './problem.js';

export { DEFAULT_SPACE_ID };

declare module 'fastify' {
  interface FastifyRequest {
    /** The space the request acts in, set by API key authentication. */
    spaceId: string;
    /** The API key the request authenticated with; null on routes without API key authentication. */
    apiKey: VerifiedKey | null;
  }

  interface FastifyContextConfig {
    /**
     * The scope an API key needs for the route. A route behind API key authentication that
     * declares none accepts only keys with every scope (keys without a scope list).
     */
    scope?: Scope;
  }
}

type AuthHook = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;

type Credentials =
  | { kind: 'missing' }
  | { kind: 'malformed' }
  /** `keyId` is the Basic user name sent beside the key as password; null when there is none. */
  | { kind: 'key'; key: string; keyId: string | null };

/**
 * Reads `Authorization: Bearer <key>`, and with `allowBasic` also HTTP Basic in two forms: the
 * key as user name with an empty password, or the key as password with its key id (or nothing)
 * as user name.
 */
function readCredentials(header: string | undefined, allowBasic: boolean): Credentials {
  if (header === undefined) return { kind: 'missing' };
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer?.[1]) return { kind: 'key', key: bearer[1], keyId: null };
  if (!allowBasic) return { kind: 'malformed' };

  const basic = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header);
  if (!basic?.[1]) return { kind: 'malformed' };
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { kind: 'malformed' };
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  if (password !== '') return { kind: 'key', key: password, keyId: user === '' ? null : user };
  if (user !== '') return { kind: 'key', key: user, keyId: null };
  return { kind: 'malformed' };
}

function pathOf(request: FastifyRequest): string {
  return request.originalUrl.split('?')[0] ?? request.originalUrl;
}

/**
 * Builds the `onRequest` hook of the routes behind API keys. It resolves the key to its space
 * and scopes, and checks the scope the route declares in `config.scope`. It runs before the
 * body is parsed, so a request without a valid key learns nothing about validation. Keys are
 * never logged; the request's log lines carry the space id and key id from here on.
 *
 * Every route accepts `Authorization: Bearer <key>`. The compatibility paths (`/cpaas/…`)
 * also accept HTTP Basic, because clients of the Omnichannel API send that.
 */
export function createKeyAuth(keys: ApiKeys): AuthHook {
  return async (request, reply) => {
    const allowBasic = isCompatibilityUrl(request.originalUrl);
    const basicChallenge = allowBasic ? ', Basic realm="cascade"' : '';
    const credentials = readCredentials(request.headers.authorization, allowBasic);

    if (credentials.kind !== 'key') {
      reply.header('WWW-Authenticate', `Bearer${basicChallenge}`);
      const forms = allowBasic ? 'Bearer <API key> or Basic <credentials>' : 'Bearer <API key>';
      const detail =
        credentials.kind === 'missing'
          ? `The Authorization header is missing. Send Authorization: ${forms}.`
          : `The Authorization header is not of the form ${forms}.`;
      return sendProblem(reply, problem('unauthorized', detail));
    }

    const verified = await keys.verify(credentials.key);
    if (verified === null || (credentials.keyId !== null && credentials.keyId !== verified.id)) {
      reply.header('WWW-Authenticate', `Bearer error="invalid_token"${basicChallenge}`);
      return sendProblem(reply, problem('unauthorized', 'The API key is not valid: it is unknown or revoked.'));
    }

    const required = request.routeOptions.config.scope;
    const allowed = required === undefined ? verified.scopes === null : hasScope(verified.scopes, required);
    if (!allowed) {
      const route = `${request.method} ${pathOf(request)}`;
      const detail =
        required === undefined
          ? `${route} needs an API key with every scope, and this key has only ${verified.scopes?.join(', ') || 'no scopes'}.`
          : `${route} needs the scope ${required}, which this API key does not have. Use a key with ${required}, or one without a scope list.`;
      if (required !== undefined) reply.header('WWW-Authenticate', `Bearer error="insufficient_scope", scope="${required}"`);
      return sendProblem(reply, problem('insufficient-scope', detail));
    }

    request.spaceId = verified.spaceId;
    request.apiKey = verified;
    request.log = request.log.child({ spaceId: verified.spaceId, keyId: verified.id });
    return undefined;
  };
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Builds the `onRequest` hook of the admin routes, which accept `Authorization: Bearer
 * <ADMIN_KEY>` only. Without an admin key every admin route responds with 403, so an operator sees
 * that the admin API is turned off rather than missing. Both keys are hashed before the
 * comparison, so it takes the same time whatever the length of the presented key.
 */
export function createAdminAuth(adminKey: string | null): AuthHook {
  const expected = adminKey === null ? null : sha256(adminKey);

  return async (request, reply) => {
    if (expected === null) {
      return sendProblem(reply, problem('admin-api-disabled', 'The admin API is turned off because ADMIN_KEY is not set. Set ADMIN_KEY and restart the server.'));
    }
    const credentials = readCredentials(request.headers.authorization, false);
    if (credentials.kind !== 'key') {
      reply.header('WWW-Authenticate', 'Bearer');
      const detail =
        credentials.kind === 'missing'
          ? 'The Authorization header is missing. Send Authorization: Bearer <ADMIN_KEY>.'
          : 'The Authorization header is not of the form Bearer <ADMIN_KEY>.';
      return sendProblem(reply, problem('unauthorized', detail));
    }
    if (!timingSafeEqual(sha256(credentials.key), expected)) {
      reply.header('WWW-Authenticate', 'Bearer error="invalid_token"');
      return sendProblem(reply, problem('unauthorized', 'The admin key is not valid. Send the value of ADMIN_KEY.'));
    }
    request.log = request.log.child({ admin: true });
    return undefined;
  };
}
