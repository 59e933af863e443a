import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { RawRequestDefaultExpression } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rewriteCompatibilityUrl } from '../../src/api/compat.js';
import { SCOPES } from '../../src/api/keys.js';
import { startTestServer, TEST_API_KEY, type TestServer } from '../helpers/server.js';

const ADMIN_KEY = 'openapi-test-admin-key-0123456789abcdef';
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

type Json = Record<string, unknown>;

interface Operation {
  method: string;
  path: string;
  value: Json;
}

interface Example {
  where: string;
  value: unknown;
  schema: unknown;
}

interface SentResponse {
  status: number;
  contentType: string | null;
  body: unknown;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function operationsOf(document: Json): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths as Json)) {
    for (const method of HTTP_METHODS) {
      const value = (item as Json)[method];
      if (isObject(value)) operations.push({ method: method.toUpperCase(), path, value });
    }
  }
  return operations;
}

function operationOf(document: Json, method: string, path: string): Json {
  const value = ((document.paths as Json)[path] as Json | undefined)?.[method.toLowerCase()];
  if (!isObject(value)) throw new Error(`The document has no ${method} ${path}.`);
  return value;
}

/** Resolves a local `$ref` such as `#/components/responses/NotFound`. */
function resolvePointer(document: Json, ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`${ref} is not a local reference`);
  let target: unknown = document;
  for (const segment of ref.slice(2).split('/')) {
    const key = segment.replaceAll('~1', '/').replaceAll('~0', '~');
    if (!isObject(target) || !(key in target)) throw new Error(`${ref} does not resolve`);
    target = target[key];
  }
  return target;
}

function resolveRef<T>(document: Json, value: T): T {
  return isObject(value) && typeof value.$ref === 'string' ? (resolvePointer(document, value.$ref) as T) : value;
}

/** Replaces every `$ref` in a schema by its target, so that the schema compiles on its own. */
function inlineRefs(document: Json, schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map((item) => inlineRefs(document, item));
  if (!isObject(schema)) return schema;
  if (typeof schema.$ref === 'string') return inlineRefs(document, resolvePointer(document, schema.$ref));
  return Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, inlineRefs(document, value)]));
}

/** Collects the examples of a media type object, each named by where it is. */
function mediaExamples(where: string, media: Json): Example[] {
  const examples: Example[] = [];
  if ('example' in media) examples.push({ where, value: media.example, schema: media.schema });
  for (const [name, example] of Object.entries((media.examples ?? {}) as Json)) {
    examples.push({ where: `${where} ${name}`, value: (example as Json).value, schema: media.schema });
  }
  return examples;
}

/** Collects the `examples` arrays of a schema and of every schema nested in it. */
function schemaExamples(where: string, schema: unknown): Example[] {
  if (Array.isArray(schema)) return schema.flatMap((item, index) => schemaExamples(`${where}/${index}`, item));
  if (!isObject(schema)) return [];
  const own = Array.isArray(schema.examples) ? schema.examples.map((value, index) => ({ where: `${where} examples[${index}]`, value, schema })) : [];
  const nested = Object.entries(schema)
    .filter(([key]) => key !== 'examples' && key !== 'example')
    .flatMap(([key, value]) => schemaExamples(`${where}/${key}`, value));
  return [...own, ...nested];
}

/** Every example in the document with the schema it must match. */
function collectExamples(document: Json): Example[] {
  const examples: Example[] = [];
  for (const operation of operationsOf(document)) {
    const name = `${operation.method} ${operation.path}`;
    for (const parameter of (operation.value.parameters ?? []) as Json[]) {
      const where = `${name} parameter ${String(parameter.name)}`;
      if ('example' in parameter) examples.push({ where, value: parameter.example, schema: parameter.schema });
      examples.push(...schemaExamples(where, parameter.schema));
    }
    const body = operation.value.requestBody as Json | undefined;
    for (const [mediaType, media] of Object.entries((body?.content ?? {}) as Json)) {
      examples.push(...mediaExamples(`${name} request ${mediaType}`, media as Json));
      examples.push(...schemaExamples(`${name} request ${mediaType}`, (media as Json).schema));
    }
    for (const [status, response] of Object.entries(operation.value.responses as Json)) {
      if (isObject(response) && typeof response.$ref === 'string') continue;
      for (const [mediaType, media] of Object.entries(((response as Json).content ?? {}) as Json)) {
        examples.push(...mediaExamples(`${name} response ${status} ${mediaType}`, media as Json));
        examples.push(...schemaExamples(`${name} response ${status} ${mediaType}`, (media as Json).schema));
      }
    }
  }
  const components = document.components as Json;
  for (const [name, response] of Object.entries(components.responses as Json)) {
    for (const [mediaType, media] of Object.entries(((response as Json).content ?? {}) as Json)) {
      examples.push(...mediaExamples(`components.responses.${name} ${mediaType}`, media as Json));
    }
  }
  return examples;
}

/**
 * Ajv for the document's schemas: JSON Schema 2020-12, as OpenAPI 3.1 uses. Strict schema mode
 * rejects keywords that JSON Schema does not define, so non-standard leftovers fail to compile.
 */
function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, strictTypes: false, strictRequired: false, allErrors: true });
  addFormats.default(ajv);
  return ajv;
}

function pathOf(route: string): string {
  return route.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/**
 * Lists the routes of `printRoutes({ commonPrefix: false })` as `METHOD /path`. Each line is a
 * tree node whose label continues the path of its parent, four characters deeper per level.
 */
function registeredRoutes(tree: string): string[] {
  const routes: string[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^((?:│ {3}| {4})*)[├└]── (.*) \(([^)]*)\)$/.exec(line);
    if (match === null) continue;
    const depth = (match[1] ?? '').length / 4;
    stack.length = depth;
    const path = `${stack[depth - 1] ?? ''}${match[2] ?? ''}`;
    stack.push(path);
    for (const method of (match[3] ?? '').split(', ')) {
      if (method !== '-') routes.push(`${method} ${path}`);
    }
  }
  return routes;
}

/** Fills each path parameter with its documented example; null when one has none. */
function exampleUrl(operation: Json, path: string): string | null {
  let url = path;
  for (const parameter of (operation.parameters ?? []) as Json[]) {
    if (parameter.in !== 'path') continue;
    if (typeof parameter.example !== 'string') return null;
    url = url.replace(`{${String(parameter.name)}}`, encodeURIComponent(parameter.example));
  }
  return url;
}

function requestExamples(operation: Json): unknown[] {
  const media = ((operation.requestBody as Json | undefined)?.content as Json | undefined)?.['application/json'] as Json | undefined;
  if (media === undefined) return [];
  return mediaExamples('', media).map((example) => example.value);
}

describe('OpenAPI document', () => {
  let server: TestServer;
  let document: Json;
  const ajv = createAjv();
  const validators = new Map<unknown, ValidateFunction>();
  /** Write operations whose documented examples were sent, as `METHOD /path`. */
  const exercised = new Set<string>();

  function validatorFor(schema: unknown): ValidateFunction {
    let validate = validators.get(schema);
    if (validate === undefined) {
      validate = ajv.compile(inlineRefs(document, schema) as Json);
      validators.set(schema, validate);
    }
    return validate;
  }

  async function send(method: string, url: string, authorization: string | null, body?: unknown): Promise<SentResponse> {
    const headers: Record<string, string> = {};
    if (authorization !== null) headers.authorization = authorization;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${server.url}${url}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const contentType = response.headers.get('content-type');
    const text = await response.text();
    return { status: response.status, contentType, body: text !== '' && contentType?.includes('json') ? JSON.parse(text) : text };
  }

  /** Checks a response against the documented response of its status. */
  function expectDocumentedResponse(name: string, operation: Json, response: SentResponse): void {
    const documented = resolveRef(document, (operation.responses as Json)[String(response.status)]) as Json | undefined;
    expect(documented, `${name} responded with ${response.status}, which the document does not list: ${JSON.stringify(response.body)}`).toBeDefined();
    const content = (documented?.content ?? {}) as Json;
    const mediaType = Object.keys(content).find((type) => response.contentType?.startsWith(type));
    if (Object.keys(content).length === 0) return;
    expect(mediaType, `${name} responded with ${response.contentType ?? 'no content type'}, not a documented one`).toBeDefined();
    const validate = validatorFor((content[mediaType ?? ''] as Json).schema);
    expect(validate(response.body), `${name} response ${response.status}: ${ajv.errorsText(validate.errors)}`).toBe(true);
  }

  /** Sends every documented request example of an operation and checks each response against the document. */
  async function sendExamples(method: string, path: string, authorization: string): Promise<SentResponse[]> {
    const name = `${method} ${path}`;
    const operation = operationOf(document, method, path);
    const examples = requestExamples(operation);
    expect(examples.length, `${name} has no request example`).toBeGreaterThan(0);
    const url = exampleUrl(operation, path);
    expect(url, `${name} has a path parameter without an example`).not.toBeNull();

    const responses: SentResponse[] = [];
    for (const example of examples) {
      const response = await send(method, url ?? path, authorization, example);
      expect(response.status, `${name} with ${JSON.stringify(example)}: ${JSON.stringify(response.body)}`).toBeGreaterThanOrEqual(200);
      expect(response.status, `${name} with ${JSON.stringify(example)}: ${JSON.stringify(response.body)}`).toBeLessThan(300);
      expectDocumentedResponse(name, operation, response);
      responses.push(response);
    }
    exercised.add(name);
    return responses;
  }

  const bearer = (key: string) => `Bearer ${key}`;
  const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

  beforeAll(async () => {
    server = await startTestServer({ ADMIN_KEY });
    const response = await fetch(`${server.url}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    document = (await response.json()) as Json;
  });

  afterAll(async () => {
    await server?.dispose();
  });

  it('has the shape of an OpenAPI 3.1 document', () => {
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    const info = document.info as Json;
    expect(typeof info.title).toBe('string');
    expect(typeof info.version).toBe('string');
    const components = document.components as Json;
    expect(isObject(components.schemas)).toBe(true);
    expect(isObject(components.securitySchemes)).toBe(true);
    expect(isObject(components.responses)).toBe(true);
    expect(Object.keys(document.paths as Json).length).toBeGreaterThan(0);

    const declaredTags = new Set(((document.tags ?? []) as Json[]).map((tag) => tag.name));
    const schemes = components.securitySchemes as Json;
    for (const { method, path, value } of operationsOf(document)) {
      const name = `${method} ${path}`;
      expect(path.startsWith('/'), name).toBe(true);
      expect(typeof value.summary, `${name} has no summary`).toBe('string');
      expect(value.summary, `${name} has an empty summary`).not.toBe('');
      const tags = (value.tags ?? []) as string[];
      expect(tags.length, `${name} has no tag`).toBeGreaterThan(0);
      for (const tag of tags) expect(declaredTags.has(tag), `${name} has the undeclared tag ${tag}`).toBe(true);

      const responses = value.responses as Json;
      expect(Object.keys(responses).length, `${name} has no responses`).toBeGreaterThan(0);
      for (const [status, response] of Object.entries(responses)) {
        expect(typeof resolveRef(document, response as Json).description, `${name} response ${status} has no description`).toBe('string');
      }

      for (const requirement of (value.security ?? []) as Json[]) {
        for (const scheme of Object.keys(requirement)) expect(schemes[scheme], `${name} uses the undefined scheme ${scheme}`).toBeDefined();
      }

      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]).sort();
      const pathParameters = ((value.parameters ?? []) as Json[]).filter((parameter) => parameter.in === 'path');
      expect(pathParameters.map((parameter) => parameter.name).sort(), `${name} path parameters`).toEqual(templated);
      for (const parameter of pathParameters) expect(parameter.required, `${name} parameter ${String(parameter.name)}`).toBe(true);
    }
  });

  it('contains only standard JSON Schema keywords', () => {
    const text = JSON.stringify(document);
    expect(text).not.toMatch(/"~/);
    // `nullable` is OpenAPI 3.0; in 3.1 a null type expresses the same.
    expect(text).not.toMatch(/"nullable":/);
    for (const [name, schema] of Object.entries((document.components as Json).schemas as Json)) {
      expect(() => validatorFor(schema), `components.schemas.${name}`).not.toThrow();
    }
    for (const { method, path, value } of operationsOf(document)) {
      const schemas = [
        ...((value.parameters ?? []) as Json[]).map((parameter) => parameter.schema),
        ...Object.values(((value.requestBody as Json | undefined)?.content ?? {}) as Json).map((media) => (media as Json).schema),
        ...Object.values(value.responses as Json).flatMap((response) =>
          Object.values(((resolveRef(document, response as Json) as Json).content ?? {}) as Json).map((media) => (media as Json).schema),
        ),
      ];
      for (const schema of schemas) expect(() => validatorFor(schema), `${method} ${path}`).not.toThrow();
    }
  });

  it('documents every registered route', () => {
    const routes = registeredRoutes(server.api.printRoutes({ commonPrefix: false }))
      .filter((route) => !route.startsWith('HEAD '))
      .filter((route) => {
        const path = route.slice(route.indexOf(' ') + 1);
        // Swagger UI's own files and the document itself.
        return path !== '/openapi.json' && path !== '/docs' && !path.startsWith('/docs/');
      });
    // Routes from every part of the server, so that a broken tree parse cannot pass unnoticed.
    expect(routes).toEqual(expect.arrayContaining(['POST /v1/messages', 'GET /v1/app/socket', 'GET /metrics', 'DELETE /v1/admin/spaces/:spaceId/keys/:keyId']));

    const documented = new Set(operationsOf(document).map(({ method, path }) => `${method} ${path}`));
    const missing = routes.map((route) => {
      const [method = '', path = ''] = route.split(' ');
      return `${method} ${pathOf(path)}`;
    }).filter((route) => !documented.has(route));
    expect(missing).toEqual([]);
  });

  it('documents the /cpaas aliases with Basic auth', () => {
    const aliases = [
      ['/cpaas/messages', '/v1/messages'],
      ['/cpaas/messages/batch', '/v1/messages/batch'],
    ] as const;
    const documented = operationsOf(document).filter(({ path }) => path.startsWith('/cpaas/'));
    expect(documented.map(({ method, path }) => `${method} ${path}`).sort()).toEqual(aliases.map(([alias]) => `POST ${alias}`).sort());

    for (const [alias, target] of aliases) {
      expect(rewriteCompatibilityUrl({ method: 'POST', url: alias } as RawRequestDefaultExpression)).toBe(target);
      const operation = operationOf(document, 'POST', alias);
      const original = operationOf(document, 'POST', target);
      expect(operation.requestBody).toEqual(original.requestBody);
      expect(operation.responses).toEqual(original.responses);
      expect(operation.security).toEqual([{ apiKey: ['messages:write'] }, { basicAuth: ['messages:write'] }]);
    }
  });

  it('documents problem responses as application/problem+json', () => {
    const notFound = resolveRef(document, (operationOf(document, 'GET', '/v1/messages/{id}').responses as Json)['404']) as Json;
    expect(Object.keys(notFound.content as Json)).toEqual(['application/problem+json']);
    expect(((notFound.content as Json)['application/problem+json'] as Json).schema).toEqual({ $ref: '#/components/schemas/Problem' });
    for (const { method, path, value } of operationsOf(document)) {
      for (const [status, response] of Object.entries(value.responses as Json)) {
        if (status !== 'default' && Number(status) < 400) continue;
        const content = (resolveRef(document, response as Json).content ?? {}) as Json;
        expect(Object.keys(content), `${method} ${path} response ${status}`).toEqual(['application/problem+json']);
      }
    }
  });

  it('has examples that match their schemas', () => {
    const examples = collectExamples(document);
    const where = examples.map((example) => example.where);
    // The main request bodies each carry an example.
    for (const name of [
      'POST /v1/messages request application/json example1',
      'POST /v1/messages request application/json example2',
      'POST /v1/messages/batch request application/json',
      'PUT /v1/profiles/{profileId} request application/json',
      'PATCH /v1/profiles/{profileId} request application/json',
      'PUT /v1/rulesets/{name} request application/json',
      'POST /v1/webhooks request application/json',
      'POST /v1/app/tokens request application/json',
      'POST /v1/messages response 201 application/json',
      'GET /v1/messages/{id} response 200 application/json',
    ]) {
      expect(where, name).toContain(name);
    }

    for (const example of examples) {
      const validate = validatorFor(example.schema);
      expect(validate(example.value), `${example.where}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    }
  });

  it('names the scope the server enforces on each API key route', async () => {
    const keyRoutes = operationsOf(document).filter(({ path, value }) => {
      const security = (value.security ?? []) as Json[];
      return path.startsWith('/v1/') && security.some((requirement) => 'apiKey' in requirement);
    });
    expect(keyRoutes.length).toBeGreaterThan(20);

    for (const scope of SCOPES) {
      const issued = await send('POST', '/v1/keys', bearer(TEST_API_KEY), { name: `only ${scope}`, scopes: [scope] });
      expect(issued.status).toBe(201);
      const key = (issued.body as { key: string }).key;

      for (const { method, path, value } of keyRoutes) {
        expect(value, `${method} ${path}`).toHaveProperty('x-required-scope');
        const required = value['x-required-scope'];
        expect(String(value.description), `${method} ${path}`).toContain('Required scope');
        const response = await send(method, path.replace(/\{[^}]+\}/g, 'unknown'), bearer(key));
        const name = `${method} ${path} with a key that has only ${scope} (documented scope ${String(required)})`;
        if (required === scope) expect(response.status, name).not.toBe(403);
        else expect(response.status, name).toBe(403);
      }
    }
  });

  it('lists the credentials each route requires', async () => {
    for (const { method, path, value } of operationsOf(document)) {
      const secured = ((value.security ?? []) as Json[]).length > 0;
      const response = await send(method, path.replace(/\{[^}]+\}/g, 'unknown'), null);
      const name = `${method} ${path} without credentials`;
      if (secured) expect(response.status, name).toBe(401);
      else expect(response.status, name).not.toBe(401);
    }
  });

  // Webhook examples run before any message is sent, and the endpoint is deleted at once, so
  // that no event is ever delivered to the example's host.
  it('accepts the webhook endpoint example', async () => {
    const [created] = await sendExamples('POST', '/v1/webhooks', bearer(TEST_API_KEY));
    const id = (created?.body as { id: string }).id;
    const deleted = await send('DELETE', `/v1/webhooks/${id}`, bearer(TEST_API_KEY));
    expect(deleted.status).toBe(204);
  });

  it('accepts the channel settings examples and returns them masked', async () => {
    for (const channel of ['sms', 'email', 'whatsApp', 'fbMessenger', 'appMessaging']) {
      const [stored] = await sendExamples('PUT', `/v1/channels/${channel}`, bearer(TEST_API_KEY));
      const settings = (stored?.body as { settings: Record<string, unknown> }).settings;
      const example = requestExamples(operationOf(document, 'PUT', `/v1/channels/${channel}`))[0] as Record<string, unknown>;
      // Every credential of the example comes back masked; nothing else changes.
      const changed = Object.keys(example).filter((field) => settings[field] !== example[field]);
      expect(changed.length, `${channel} masks no field`).toBeGreaterThan(0);
      for (const field of changed) expect(String(settings[field]), `${channel}.${field}`).toMatch(/^\*\*\*\*/);
    }
    const listed = await send('GET', '/v1/channels', bearer(TEST_API_KEY));
    expect((listed.body as { items: Array<{ channel: string }> }).items.map((item) => item.channel).sort()).toEqual(['appMessaging', 'email', 'fbMessenger', 'sms', 'whatsApp']);
  });

  it('accepts the profile, rule set and key examples', async () => {
    await sendExamples('PUT', '/v1/profiles/{profileId}', bearer(TEST_API_KEY));
    await sendExamples('PATCH', '/v1/profiles/{profileId}', bearer(TEST_API_KEY));
    await sendExamples('PUT', '/v1/rulesets/{name}', bearer(TEST_API_KEY));
    await sendExamples('POST', '/v1/keys', bearer(TEST_API_KEY));
    await sendExamples('POST', '/v1/admin/spaces', bearer(ADMIN_KEY));
  });

  it('accepts the app token example', async () => {
    const [issued] = await sendExamples('POST', '/v1/app/tokens', bearer(TEST_API_KEY));
    const token = (issued?.body as { token: string }).token;

    const inbox = await send('GET', '/v1/app/inbox', bearer(token));
    expect(inbox.status).toBe(200);
    expectDocumentedResponse('GET /v1/app/inbox', operationOf(document, 'GET', '/v1/app/inbox'), inbox);
  });

  it('accepts the send examples with 201', async () => {
    const sent = await sendExamples('POST', '/v1/messages', bearer(TEST_API_KEY));
    expect(sent.map((response) => response.status)).toEqual([201, 201]);
    const compat = await sendExamples('POST', '/cpaas/messages', basic(TEST_API_KEY));
    expect(compat.map((response) => response.status)).toEqual([201, 201]);

    const messageId = (sent[0]?.body as { messageId: string }).messageId;
    const message = await send('GET', `/v1/messages/${messageId}`, bearer(TEST_API_KEY));
    expect(message.status).toBe(200);
    expectDocumentedResponse('GET /v1/messages/{id}', operationOf(document, 'GET', '/v1/messages/{id}'), message);
  });

  it('accepts the batch example with 202', async () => {
    const batch = await sendExamples('POST', '/v1/messages/batch', bearer(TEST_API_KEY));
    const compat = await sendExamples('POST', '/cpaas/messages/batch', basic(TEST_API_KEY));
    for (const response of [...batch, ...compat]) {
      expect(response.status).toBe(202);
      // Every item of the example is accepted, not only some.
      expect((response.body as { rejected: unknown[] }).rejected).toEqual([]);
      expect((response.body as { accepted: unknown[] }).accepted.length).toBe(2);
    }
  });

  it('sent the examples of every write route that needs no earlier state', () => {
    // Routes the test can call with an API key or ADMIN_KEY, whose path parameters all have examples.
    const eligible = operationsOf(document)
      .filter(({ method }) => method !== 'GET' && method !== 'OPTIONS')
      .filter(({ value }) => requestExamples(value).length > 0)
      .filter(({ value }) => ((value.security ?? []) as Json[]).some((requirement) => 'apiKey' in requirement || 'adminKey' in requirement))
      .filter(({ path, value }) => exampleUrl(value, path) !== null)
      .map(({ method, path }) => `${method} ${path}`);
    expect(eligible.length).toBeGreaterThanOrEqual(10);
    expect([...exercised].sort()).toEqual(expect.arrayContaining(eligible.sort()));
  });

  it('serves Swagger UI at /docs from its own files', async () => {
    const page = await fetch(`${server.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] ?? '');
    expect(assets).toContain('/docs/static/swagger-ui-bundle.js');
    for (const asset of assets) {
      expect(asset, 'every asset is served by this server').toMatch(/^\//);
      const response = await fetch(`${server.url}${asset}`);
      expect(response.status, asset).toBe(200);
      // Reading the body ends the request, so that the server can close.
      expect((await response.arrayBuffer()).byteLength, asset).toBeGreaterThan(0);
    }

    const documentForUi = await fetch(`${server.url}/docs/json`);
    expect(await documentForUi.json()).toEqual(document);
  });
});
