import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import fastifySwagger, { type SwaggerTransform, type SwaggerTransformObject } from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifySchema } from 'fastify';
import type { ApiInstance } from './deps.js';
import type { Scope } from './keys.js';
import { ProblemSchema } from './schemas/common.js';

declare module 'fastify' {
  interface FastifySchema {
    /**
     * Problem responses of the route's handler, by HTTP status, each with when it is sent.
     * Responses of authentication and request validation are added to the document without
     * it. Only the OpenAPI document reads this field.
     */
    problems?: Readonly<Record<number, string>>;
    /**
     * The request body as the document shows it, for a route that checks its body in the
     * handler rather than with `body`. Only the OpenAPI document reads this field.
     */
    documentedBody?: unknown;
    /** The query string as the document shows it, for a route that reads its query in the handler. */
    documentedQuerystring?: unknown;
  }
}

/** Path of the OpenAPI document. */
export const OPENAPI_PATH = '/openapi.json';
/** Prefix of the browsable API reference (Swagger UI). */
export const DOCS_PREFIX = '/docs';

/**
 * Paths of the compatibility aliases and the `/v1` routes whose operations they share, as
 * `rewriteCompatibilityUrl` maps them.
 */
const COMPATIBILITY_ALIASES: ReadonlyArray<{ path: string; target: string }> = [
  { path: '/cpaas/messages', target: '/v1/messages' },
  { path: '/cpaas/messages/batch', target: '/v1/messages/batch' },
];

const PROBLEM_MEDIA_TYPE = 'application/problem+json';
const PROBLEM_REF = { $ref: '#/components/schemas/Problem' };

const TAGS = [
  { name: 'Messages', prefixes: ['/v1/messages', '/cpaas/'], description: 'Send messages with a fallback route, follow their status and cancel them.' },
  { name: 'Profiles', prefixes: ['/v1/profiles'], description: 'People with their addresses, properties, opt-outs and time zone.' },
  { name: 'Rule sets', prefixes: ['/v1/rulesets'], description: 'Named fallback routes that sends select with `ruleSet`.' },
  { name: 'Webhooks', prefixes: ['/v1/webhooks'], description: 'Endpoints that receive signed status events, and their dead letters.' },
  { name: 'Channels', prefixes: ['/v1/channels'], description: 'Provider settings of the space: its own SMSC, SMTP relay, WhatsApp number, Messenger Page and Web Push keys.' },
  { name: 'API keys', prefixes: ['/v1/keys'], description: 'The API keys of the caller\'s own space.' },
  { name: 'Admin', prefixes: ['/v1/admin'], description: 'Spaces and their API keys, for the operator with `ADMIN_KEY`.' },
  { name: 'App channel', prefixes: ['/v1/app'], description: 'App tokens, the app socket, the app inbox and push devices of `appMessaging`.' },
  { name: 'Provider webhooks', prefixes: ['/v1/providers'], description: 'Callbacks from messaging providers: receipts and inbound messages.' },
  { name: 'Operations', prefixes: ['/healthz', '/metrics'], description: 'Health check and Prometheus metrics.' },
  { name: 'Sandbox demo', prefixes: ['/demo'], description: 'A demo page of the app channel, served only when `SANDBOX` is on.' },
] as const;

const SECURITY_SCHEMES = {
  apiKey: {
    type: 'http',
    scheme: 'bearer',
    description:
      'API key of a space (`csk_…`), sent as `Authorization: Bearer <key>`. It selects the space the request acts in. ' +
      'A key with a scope list can call only the routes whose scope it has.',
  },
  basicAuth: {
    type: 'http',
    scheme: 'basic',
    description:
      'Accepted on the `/cpaas` compatibility paths only: the API key as user name with an empty password, ' +
      'or the key id as user name and the key as password.',
  },
  adminKey: {
    type: 'http',
    scheme: 'bearer',
    description: 'The server\'s `ADMIN_KEY`. When `ADMIN_KEY` is not set, every admin route responds with 403.',
  },
  appToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'App token from `POST /v1/app/tokens`. It acts for one app user of one space until it expires.',
  },
  appSocketProtocol: {
    type: 'apiKey',
    in: 'header',
    name: 'Sec-WebSocket-Protocol',
    description: 'App token on the app socket, offered as a WebSocket subprotocol after `cascade.v1`: `cascade.v1, <app token>`.',
  },
  appSocketQuery: {
    type: 'apiKey',
    in: 'query',
    name: 'token',
    description: 'App token on the app socket, for clients that cannot set `Sec-WebSocket-Protocol`.',
  },
  metaSignature: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Hub-Signature-256',
    description: '`sha256=` and the hex HMAC-SHA256 of the raw request body, keyed with the Meta app secret (`META_APP_SECRET`).',
  },
} as const;

type SecuritySchemeName = keyof typeof SECURITY_SCHEMES;
type SecurityRequirement = Partial<Record<SecuritySchemeName, string[]>>;

/** The credentials a route takes, as `buildApi` and the app routes register their hooks. */
type RouteAuth =
  | { kind: 'none' }
  /** `scope` null: the route declares no scope, so only a key without a scope list may call it. */
  | { kind: 'apiKey'; scope: Scope | null }
  | { kind: 'adminKey' }
  | { kind: 'appToken' }
  | { kind: 'appSocket' }
  | { kind: 'metaSignature' };

/**
 * Classifies a route by its path, because the authentication hooks are registered per
 * encapsulated scope and a route's options do not show the hooks it inherits.
 */
function routeAuth(method: string, url: string, scope: Scope | undefined): RouteAuth {
  if (url.startsWith('/v1/admin/')) return { kind: 'adminKey' };
  if (url.startsWith('/v1/providers/meta/webhook')) return method === 'POST' ? { kind: 'metaSignature' } : { kind: 'none' };
  if (url === '/v1/app/socket') return { kind: 'appSocket' };
  // `POST /v1/app/tokens` is called by the business's backend with its API key.
  if (url.startsWith('/v1/app/') && url !== '/v1/app/tokens') {
    // Browsers send CORS preflight requests without credentials.
    return method === 'OPTIONS' ? { kind: 'none' } : { kind: 'appToken' };
  }
  if (url.startsWith('/v1/')) return { kind: 'apiKey', scope: scope ?? null };
  return { kind: 'none' };
}

function securityOf(auth: RouteAuth): SecurityRequirement[] {
  switch (auth.kind) {
    case 'none':
      return [];
    case 'apiKey':
      // OpenAPI 3.1 lets a requirement of a non-OAuth scheme list the roles it needs.
      return [{ apiKey: auth.scope === null ? [] : [auth.scope] }];
    case 'adminKey':
      return [{ adminKey: [] }];
    case 'appToken':
      return [{ appToken: [] }];
    case 'appSocket':
      return [{ appSocketProtocol: [] }, { appSocketQuery: [] }];
    case 'metaSignature':
      return [{ metaSignature: [] }];
  }
}

function describeScope(scope: Scope | null): string {
  if (scope === null) {
    return 'Required scope: none declared, so the route needs an API key without a scope list (a key with every scope).';
  }
  return `Required scope: \`${scope}\`. A key without a scope list has every scope.`;
}

/** Reusable problem responses, each with an example. */
const PROBLEM_RESPONSES = {
  BadRequest: problemResponse(
    'The request is invalid. `invalid-request` lists every bad field in `errors` by JSON pointer; `malformed-body` means that the body is not JSON.',
    {
      type: 'urn:cascade:problem:invalid-request',
      title: 'Invalid request',
      status: 400,
      detail: 'The request body has 1 invalid field, listed in errors.',
      requestId: '0b6f3c52-8f7e-4d0e-9f55-3f1d2a7c9e41',
      errors: [{ pointer: '/to', detail: 'is required' }],
    },
  ),
  Unauthorized: problemResponse('The credentials are missing or not valid. The `WWW-Authenticate` header names the expected scheme.', {
    type: 'urn:cascade:problem:unauthorized',
    title: 'Unauthorized',
    status: 401,
    detail: 'The Authorization header is missing. Send Authorization: Bearer <API key>.',
    requestId: '5d2a1e70-3b9c-4f1a-8e62-7c0b9d4f2a13',
  }),
  InsufficientScope: problemResponse('The API key is valid but lacks the scope of the route.', {
    type: 'urn:cascade:problem:insufficient-scope',
    title: 'Insufficient scope',
    status: 403,
    detail: 'POST /v1/messages needs the scope messages:write, which this API key does not have. Use a key with messages:write, or one without a scope list.',
    requestId: '9a4e7b21-6c3d-4e8f-b1a0-2d5c8f7e6b94',
  }),
  AdminApiDisabled: problemResponse('The admin API is turned off because `ADMIN_KEY` is not set.', {
    type: 'urn:cascade:problem:admin-api-disabled',
    title: 'Admin API disabled',
    status: 403,
    detail: 'The admin API is turned off because ADMIN_KEY is not set. Set ADMIN_KEY and restart the server.',
    requestId: 'c3e8f1a4-2b7d-4c9e-a6f0-8d1b5e2c7a39',
  }),
  NotFound: problemResponse('Nothing with the id in the path exists in the caller\'s space. Resources of other spaces are reported as not found too.', {
    type: 'urn:cascade:problem:not-found',
    title: 'Not found',
    status: 404,
    detail: 'Profile "cust-1042" was not found.',
    requestId: '4f7c2e9a-1d3b-4a8e-9c6f-b2e5d8a1c704',
  }),
  BodyTooLarge: problemResponse('The body is larger than the route\'s limit: 10 MiB for the batch route, 1 MiB for the others.', {
    type: 'urn:cascade:problem:body-too-large',
    title: 'Request body too large',
    status: 413,
    detail: 'The request body is larger than the limit of 1 MiB for this route.',
    requestId: 'e1a9d4c7-5f2b-4e3a-8b6d-0c7f9e2a5d18',
  }),
  UnsupportedMediaType: problemResponse('The body is not sent as `application/json`.', {
    type: 'urn:cascade:problem:unsupported-media-type',
    title: 'Unsupported media type',
    status: 415,
    detail: 'Content-Type "text/plain" is not supported. Send the body as application/json.',
    requestId: '7b3f5a2e-9c1d-4f6b-a8e2-d4c0b7f1e953',
  }),
  Error: problemResponse(
    'Any other error: 429 when a request rate limit is reached (with `Retry-After`), or an unexpected server error (500). Every error response is a problem document.',
    {
      type: 'urn:cascade:problem:internal',
      title: 'Internal server error',
      status: 500,
      detail: 'The server failed to handle the request. The requestId identifies the failure in the server log.',
      requestId: '2c8e6b1f-4a7d-4e9c-b3f5-a1d7e0c4b826',
    },
  ),
} as const;

type ProblemResponseName = keyof typeof PROBLEM_RESPONSES;

function problemResponse(description: string, example: Record<string, unknown>) {
  return { description, content: { [PROBLEM_MEDIA_TYPE]: { schema: PROBLEM_REF, example } } };
}

function responseRef(name: ProblemResponseName) {
  return { $ref: `#/components/responses/${name}` };
}

/** Lists the problem responses of an operation by status. Route-specific entries replace the generic ones. */
function problemResponsesOf(method: string, schema: FastifySchema, auth: RouteAuth): Record<string, unknown> {
  const responses: Record<string, unknown> = {};
  const hasBody = schema.body !== undefined || schema.documentedBody !== undefined;
  if (hasBody || schema.querystring !== undefined || schema.params !== undefined || schema.headers !== undefined) {
    responses['400'] = responseRef('BadRequest');
  }
  if (auth.kind !== 'none') responses['401'] = responseRef('Unauthorized');
  if (auth.kind === 'apiKey') responses['403'] = responseRef('InsufficientScope');
  if (auth.kind === 'adminKey') responses['403'] = responseRef('AdminApiDisabled');
  // PUT routes create what they do not find, so only other routes with an id in the path respond with 404.
  if (schema.params !== undefined && method !== 'PUT') responses['404'] = responseRef('NotFound');
  if (hasBody) responses['413'] = responseRef('BodyTooLarge');
  // The Meta webhook reads a body of any content type as bytes; every other route takes JSON only.
  if (hasBody && auth.kind !== 'metaSignature') responses['415'] = responseRef('UnsupportedMediaType');
  for (const [status, description] of Object.entries(schema.problems ?? {})) {
    responses[status] = { description, content: { [PROBLEM_MEDIA_TYPE]: { schema: PROBLEM_REF } } };
  }
  responses.default = responseRef('Error');
  return responses;
}

/**
 * Documentation of the routes that are registered outside the API modules and declare no
 * schema: the metrics route of `startServer` and the sandbox demo page.
 */
const UNSCHEMATIZED_OPERATIONS: Readonly<Record<string, FastifySchema>> = {
  'GET /metrics': {
    summary: 'Prometheus metrics',
    description: 'Delivery and process metrics in the Prometheus text format. Needs no credentials.',
    response: { 200: textResponse('Metrics in the Prometheus text exposition format.', 'text/plain; version=0.0.4') },
  },
  'GET /demo/app': {
    summary: 'Demo page of the app channel',
    description: 'An HTML page that shows the `appMessaging` feed of one profile live. The `profileId` query parameter selects the profile; the default is `demo`.',
    response: { 200: textResponse('The HTML page.', 'text/html') },
  },
  'GET /demo/app/app.js': { summary: 'Script of the demo page', response: { 200: textResponse('The page\'s script.', 'text/javascript') } },
  'GET /demo/app/app.css': { summary: 'Style sheet of the demo page', response: { 200: textResponse('The page\'s style sheet.', 'text/css') } },
  'GET /demo/app/sdk.js': {
    summary: 'App SDK for the demo page',
    description: 'The app SDK bundled as one ES module.',
    response: { 200: textResponse('The SDK bundle.', 'text/javascript') },
  },
  'POST /demo/app/token': {
    summary: 'App token for the demo page',
    description:
      'Issues an app token for a profile of the default space without an API key, so that the demo page can connect. ' +
      'Anyone who can reach the server can read any profile\'s app feed through it.',
    response: {
      200: {
        description: 'The app token.',
        type: 'object',
        required: ['token'],
        properties: { token: { type: 'string' } },
      },
    },
  },
};

function textResponse(description: string, mediaType: string) {
  return { description, content: { [mediaType]: { schema: { type: 'string' } } } };
}

function tagOf(url: string): string | undefined {
  return TAGS.find((tag) => tag.prefixes.some((prefix) => url === prefix || url.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`)))?.name;
}

/**
 * Extension that carries an operation's problem responses from `transform` to `transformObject`,
 * which moves them into `responses`. `@fastify/swagger` would read them as schemas if the
 * transform put them there, because they are response objects with `$ref`s.
 */
const PROBLEM_RESPONSES_KEY = 'x-problem-responses';

/** Gives each success response a description: the schema's own, else the status's reason phrase. */
function describeResponses(responses: unknown): Record<string, unknown> {
  const described: Record<string, unknown> = {};
  for (const [status, response] of Object.entries((responses ?? {}) as Record<string, Record<string, unknown>>)) {
    const description = typeof response.description === 'string' ? response.description : (STATUS_CODES[Number(status)] ?? 'Response');
    described[status] = { ...response, 'x-response-description': description };
  }
  return described;
}

/** Adds the tag, security, scope and problem responses of every route to its schema for the document. */
const transform: SwaggerTransform = ({ schema, url, route }) => {
  const method = Array.isArray(route.method) ? String(route.method[0]) : String(route.method);
  const base: FastifySchema = { ...(UNSCHEMATIZED_OPERATIONS[`${method} ${url}`] ?? {}), ...(schema ?? {}) };
  const auth = routeAuth(method, url, route.config?.scope);
  const problems = problemResponsesOf(method, base, auth);
  if (base.documentedBody !== undefined) base.body = base.documentedBody;
  if (base.documentedQuerystring !== undefined) base.querystring = base.documentedQuerystring;
  const tag = tagOf(url);

  const descriptions = base.description === undefined ? [] : [base.description];
  const extensions: Record<string, unknown> = { [PROBLEM_RESPONSES_KEY]: problems };
  if (auth.kind === 'apiKey') {
    descriptions.push(describeScope(auth.scope));
    extensions['x-required-scope'] = auth.scope;
  }

  const documented: FastifySchema = { ...base, ...extensions, security: securityOf(auth), response: describeResponses(base.response) };
  if (tag !== undefined && base.tags === undefined) documented.tags = [tag];
  if (descriptions.length > 0) documented.description = descriptions.join('\n\n');
  delete documented.problems;
  delete documented.documentedBody;
  delete documented.documentedQuerystring;
  return { schema: documented, url };
};

type Operation = Record<string, unknown> & { responses?: Record<string, unknown> };

/**
 * Moves each operation's problem responses into its responses, and adds the compatibility
 * aliases, which are URL rewrites rather than routes, as copies of the operations they share
 * with HTTP Basic as a second way to authenticate.
 */
const transformObject: SwaggerTransformObject = (documentObject) => {
  if (!('openapiObject' in documentObject)) return documentObject.swaggerObject;
  const document = documentObject.openapiObject;
  const paths = (document.paths ?? {}) as Record<string, Record<string, Operation> | undefined>;

  for (const pathItem of Object.values(paths)) {
    for (const operation of Object.values(pathItem ?? {})) {
      const problems = operation[PROBLEM_RESPONSES_KEY] as Record<string, unknown> | undefined;
      if (problems === undefined) continue;
      operation.responses = { ...operation.responses, ...problems };
      delete operation[PROBLEM_RESPONSES_KEY];
    }
  }

  for (const alias of COMPATIBILITY_ALIASES) {
    const operation = paths[alias.target]?.post;
    if (operation === undefined) continue;
    const security = (operation.security as SecurityRequirement[] | undefined) ?? [];
    const scopes = security[0]?.apiKey ?? [];
    paths[alias.path] = {
      post: {
        ...structuredClone(operation),
        summary: `${String(operation.summary ?? '')} (compatibility path)`,
        description:
          `The same operation as \`POST ${alias.target}\`, for clients of the Omnichannel API: the same body, headers and responses. ` +
          `Besides Bearer it accepts HTTP Basic.\n\n${String(operation.description ?? '')}`,
        security: [{ apiKey: [...scopes] }, { basicAuth: [...scopes] }],
      },
    };
  }
  return document;
};

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : '0.0.0';
}

const API_DESCRIPTION = [
  'Cascade sends one message to one person over an ordered list of channels, falling back to the next channel until the person has the message.',
  '',
  'The `/v1` routes take an API key as `Authorization: Bearer <key>`, and the key selects the space the request acts in. ' +
    'The exceptions are the admin routes (`ADMIN_KEY`), the routes apps call (an app token) and the provider webhooks (a signature). ' +
    'Each operation that takes an API key names the scope it needs in its description and in `x-required-scope`.',
  '',
  'Every error response is an RFC 9457 problem document (`application/problem+json`). A request that fails validation lists each bad field in `errors`, and writes nothing.',
].join('\n');

/**
 * Registers the OpenAPI document at `/openapi.json` and Swagger UI at `/docs`, both without
 * credentials. Call it before any route is registered, because `@fastify/swagger` lists the
 * routes it records as they are added, including those added after `buildApi` returns.
 */
export async function registerOpenApi(app: ApiInstance): Promise<void> {
  await app.register(fastifySwagger, {
    mode: 'dynamic',
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Cascade API', version: packageVersion(), description: API_DESCRIPTION, license: { name: 'Apache-2.0', identifier: 'Apache-2.0' } },
      tags: TAGS.map(({ name, description }) => ({ name, description })),
      components: {
        securitySchemes: SECURITY_SCHEMES,
        schemas: { Problem: ProblemSchema },
        responses: PROBLEM_RESPONSES,
      },
    },
    transform,
    transformObject,
  });

  await app.register(fastifySwaggerUi, {
    routePrefix: DOCS_PREFIX,
    // The UI's files are served from the package, so the page loads nothing from other origins.
    staticCSP:
      "default-src 'self'; base-uri 'self'; img-src 'self' data:; object-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
    theme: { title: 'Cascade API' },
  });

  app.get(OPENAPI_PATH, { schema: { hide: true } }, async (_request, reply) => reply.send(app.swagger()));
}
