import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { Type, type Static } from 'typebox';
import { problem, sendProblem } from '../api/problem.js';
import { SEND_LIMITS } from '../api/schemas/send-request.js';
import { sdkBundle } from './sdk-bundle.js';

export { issueTokenThroughApi } from './token-issuer.js';

export interface DemoDeps {
  /** Issues an app token for a profile of the default space, as `POST /v1/app/tokens` does. */
  issueToken(profileId: string): Promise<{ token: string }>;
  logger: Logger;
}

const TokenBodySchema = Type.Object(
  { profileId: Type.String({ minLength: 1, maxLength: SEND_LIMITS.profileIdLength }) },
  { additionalProperties: false },
);

/** Static files of the page, by the path they are served at. */
const PAGE_FILES = {
  '/demo/app': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/demo/app/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/demo/app/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
} as const;

/**
 * The page loads only its own files and connects only to this server. In CSP Level 3 `'self'`
 * also matches the page's `ws:` or `wss:` socket to the same host.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Registers the demo app, a page that shows the `appMessaging` feed of one profile live:
 *
 * - `GET /demo/app?profileId=<id>` (default `demo`): the page. It connects with the app SDK,
 *   lists incoming messages (unread ones in bold), acknowledges each as delivered, and marks
 *   one read when it is clicked.
 * - `GET /demo/app/sdk.js`: the SDK (`sdk/src/index.ts`) bundled as one ES module by esbuild,
 *   built in memory once per process.
 * - `POST /demo/app/token` with `{ "profileId": "…" }`: an app token for that profile.
 *
 * NOTE: the token route hands out app tokens for any profile without the API key, so anyone
 * who can reach the server can read any profile's app feed. Register these routes only when the
 * sandbox is on (`SANDBOX=1`), never on a server that stores real customers' messages.
 *
 * @example
 * if (config.sandbox) {
 *   await registerDemoRoutes(api, { issueToken: issueTokenThroughApi(api, apiKey.key), logger: logger.child({ part: 'demo' }) });
 * }
 */
export async function registerDemoRoutes(app: FastifyInstance, deps: DemoDeps): Promise<void> {
  const logger = deps.logger;
  const pageDirectory = new URL('./page/', import.meta.url);

  for (const [path, { file, type }] of Object.entries(PAGE_FILES)) {
    const content = await readFile(new URL(file, pageDirectory), 'utf8');
    app.get(path, async (_request, reply) => securePage(reply).type(type).send(content));
  }

  // Built in the background, so start-up does not wait for esbuild. A failure is logged now,
  // and the route responds to it with 500.
  const started = sdkBundle();
  started.then(
    (bundle) => logger.info({ bytes: bundle.code.length, buildMs: bundle.buildMs }, 'demo SDK bundle built'),
    (error: unknown) => logger.error({ err: error }, 'bundling the app SDK for the demo page failed'),
  );
  app.get('/demo/app/sdk.js', async (_request, reply) => {
    const bundle = await sdkBundle();
    return securePage(reply).type('text/javascript; charset=utf-8').send(bundle.code);
  });

  app.post<{ Body: Static<typeof TokenBodySchema> }>('/demo/app/token', { schema: { body: TokenBodySchema } }, async (request, reply) => {
    const { profileId } = request.body;
    let token: string;
    try {
      ({ token } = await deps.issueToken(profileId));
    } catch (error) {
      request.log.error({ err: error, profileId }, 'issuing a demo app token failed');
      return sendProblem(reply, problem('internal', 'Issuing an app token for the demo page failed. The requestId identifies the failure in the server log.'));
    }
    request.log.info({ profileId }, 'demo app token issued');
    return reply.header('cache-control', 'no-store').send({ token });
  });
}

function securePage(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-cache');
}
