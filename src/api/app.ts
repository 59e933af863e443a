import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { createAdminAuth, createKeyAuth } from './auth.js';
import { rewriteCompatibilityUrl } from './compat.js';
import type { ApiDeps } from './deps.js';
import { ApiKeys } from './keys.js';
import { registerOpenApi } from './openapi.js';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from './json-depth.js';
import { handleClientError, handleError, handleNotFound, problem, ProblemError, schemaErrorFormatter } from './problem.js';
import { registerRateLimits } from './rate-limit.js';
import { serializeRequest } from './request-log.js';
import { registerAdminRoutes, registerKeyRoutes } from './routes/admin.js';
import { registerAppTokenRoute } from './routes/app-tokens.js';
import { registerBatchRoute } from './routes/batch.js';
import { registerChannelSettingsRoutes } from './routes/channels.js';
import { registerHealthRoute } from './routes/health.js';
import { registerMessageRoutes } from './routes/messages.js';
import { registerMetaWebhookRoute } from './routes/meta-webhook.js';
import { registerProfileRoutes } from './routes/profiles.js';
import { registerRuleSetRoutes } from './routes/rulesets.js';
import { registerWebhookRoutes } from './routes/webhooks.js';
import { typeboxValidatorCompiler } from './validator.js';

export type { ApiDeps } from './deps.js';

/** Body limit of every route but the batch route. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** Longest path parameter, in characters; longer ones get 414. */
export const MAX_PATH_PARAMETER_LENGTH = 256;

/**
 * Builds the HTTP API: `/healthz` without authentication, `/v1/admin` behind `ADMIN_KEY`, and
 * every other `/v1` route behind an API key, which selects the space the request acts in. The
 * configured key of the default space is stored first. `POST /cpaas/messages` and
 * `/cpaas/messages/batch` are rewritten to their `/v1` routes before routing (see `compat.ts`).
 * Every error response is `application/problem+json`. Each response carries its request id in
 * `X-Request-Id`, the same id as `reqId` in the log.
 *
 * The instance is returned before `ready()`, so that the caller can add routes (such as
 * `/metrics`) before it listens.
 */
export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const keys = new ApiKeys({ store: deps.store, now: deps.now, logger: deps.logger.child({ part: 'api-keys' }) });
  await keys.ensureConfiguredKey(deps.apiKey);
  const authenticate = createKeyAuth(keys);

  // Fastify takes the `req` serializer of this logger in place of its own, so request log lines
  // show no headers and no credentials from the query string.
  const loggerInstance: FastifyBaseLogger = deps.logger.child({}, { serializers: { req: serializeRequest } });
  const root = Fastify({
    loggerInstance,
    genReqId: () => randomUUID(),
    bodyLimit: DEFAULT_BODY_LIMIT,
    schemaErrorFormatter,
    rewriteUrl: rewriteCompatibilityUrl,
    // The longest path parameter any route accepts is a 256-character profile id; Fastify's default is 100.
    routerOptions: { maxParamLength: MAX_PATH_PARAMETER_LENGTH },
    // Malformed URLs and overlong path parameters fail before routing; they get problem responses too.
    frameworkErrors: handleError,
    clientErrorHandler: handleClientError,
  });
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(typeboxValidatorCompiler);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler(handleNotFound);
  app.decorateRequest('spaceId', '');
  app.decorateRequest('apiKey', null);

  // JSON is the only accepted body type, so any other Content-Type gets a 415 response.
  app.removeAllContentTypeParsers();
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    // An empty body is treated as no body, so POST /cancel works from clients that always
    // send a JSON content type. Routes that need a body reject it in validation.
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text === '') done(null, undefined);
    else if (exceedsJsonDepth(text)) done(new ProblemError(problem('malformed-body', `The request body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep, the limit.`)), undefined);
    else parseJson(request, text, done);
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
  });

  // Registered before every route, because the limits attach their check to each route as it is added.
  await registerRateLimits(app, deps.rateLimit ?? null);
  // Registered before every route, so that the OpenAPI document records each route as it is added.
  await registerOpenApi(app);
  registerHealthRoute(app);
  await registerMetaWebhookRoute(app, deps);
  await app.register(async (v1) => {
    v1.addHook('onRequest', authenticate);
    registerMessageRoutes(v1, deps);
    registerBatchRoute(v1, deps);
    registerProfileRoutes(v1, deps);
    registerRuleSetRoutes(v1, deps);
    registerWebhookRoutes(v1, deps);
    registerAppTokenRoute(v1, deps);
    registerChannelSettingsRoutes(v1, deps);
    registerKeyRoutes(v1, keys);
  });
  await app.register(async (admin) => {
    admin.addHook('onRequest', createAdminAuth(deps.adminKey ?? null));
    registerAdminRoutes(admin, deps, keys);
  });

  return root;
}
