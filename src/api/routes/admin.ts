import { Type, type Static } from 'typebox';
import { uuidv7 } from '../../ids.js';
import type { ApiKeyRecord, Space } from '../../store/types.js';
import type { ApiDeps, ApiInstance } from '../deps.js';
import { coversScopes, expandScopes, REQUESTABLE_SCOPES, type ApiKeys, type Scope } from '../keys.js';
import { toDateTime } from '../message-view.js';
import { problem, sendProblem } from '../problem.js';
import { DateTimeSchema, NoContentSchema, NullableDateTimeSchema } from '../schemas/common.js';

const ID_LIMITS = { minLength: 1, maxLength: 100 };

const SpaceJsonSchema = Type.Object({
  spaceId: Type.String(),
  name: Type.String(),
  createdAt: DateTimeSchema,
});

const SpaceListJsonSchema = Type.Object({ items: Type.Array(SpaceJsonSchema) });

const CreateSpaceSchema = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S', description: 'a name for people; need not be unique' }) },
  { additionalProperties: false, examples: [{ name: 'Acme Retail' }] },
);

const SpaceParamsSchema = Type.Object({ spaceId: Type.String(ID_LIMITS) });
const SpaceKeyParamsSchema = Type.Object({ spaceId: Type.String(ID_LIMITS), keyId: Type.String(ID_LIMITS) });
const KeyParamsSchema = Type.Object({ keyId: Type.String(ID_LIMITS) });

const CreateKeySchema = Type.Object(
  {
    scopes: Type.Optional(
      Type.Array(Type.Enum([...REQUESTABLE_SCOPES]), {
        minItems: 1,
        maxItems: 20,
        description: 'what the key may do; omit for a key with every scope of its space',
      }),
    ),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'a label for people, such as where the key is used' })),
  },
  { additionalProperties: false, examples: [{ name: 'web shop', scopes: ['messages:write', 'messages:read'] }] },
);
type CreateKeyBody = Static<typeof CreateKeySchema>;

const ScopesJsonSchema = Type.Union([Type.Array(Type.String()), Type.Null()], {
  description: 'null: every scope of the space, including scopes added in later versions',
});

const KeyJsonSchema = Type.Object({
  keyId: Type.String(),
  prefix: Type.String({ description: 'the first characters of the key, to tell keys apart' }),
  name: Type.Union([Type.String(), Type.Null()]),
  scopes: ScopesJsonSchema,
  createdAt: DateTimeSchema,
  lastUsedAt: NullableDateTimeSchema,
  revokedAt: NullableDateTimeSchema,
});

const KeyListJsonSchema = Type.Object({ items: Type.Array(KeyJsonSchema) });

const IssuedKeyJsonSchema = Type.Object(
  {
    keyId: Type.String(),
    key: Type.String({ description: 'the API key; this response is the only time it is shown' }),
    prefix: Type.String(),
    name: Type.Union([Type.String(), Type.Null()]),
    scopes: ScopesJsonSchema,
    createdAt: DateTimeSchema,
  },
  {
    examples: [
      {
        keyId: 'b3c16ac59d701980',
        key: 'csk_b3c16ac59d701980_WuZ_pcMFipOInyDSe2HoRpwwPZQ1ghAubEIfgm0Z0x4',
        prefix: 'csk_b3c16ac5',
        name: 'web shop',
        scopes: ['messages:write', 'messages:read'],
        createdAt: '2025-06-01T12:00:00.000Z',
      },
    ],
  },
);

function toSpaceJson(space: Space) {
  return { spaceId: space.id, name: space.name, createdAt: toDateTime(space.createdAt) };
}

function toKeyJson(record: ApiKeyRecord) {
  return {
    keyId: record.id,
    prefix: record.prefix,
    name: record.name,
    scopes: record.scopes,
    createdAt: toDateTime(record.createdAt),
    lastUsedAt: record.lastUsedAt === null ? null : toDateTime(record.lastUsedAt),
    revokedAt: record.revokedAt === null ? null : toDateTime(record.revokedAt),
  };
}

async function issueKey(keys: ApiKeys, spaceId: string, body: CreateKeyBody) {
  const scopes = body.scopes === undefined ? null : expandScopes(body.scopes);
  const { record, key } = await keys.issue(spaceId, { name: body.name ?? null, scopes });
  return { keyId: record.id, key, prefix: record.prefix, name: record.name, scopes: record.scopes, createdAt: toDateTime(record.createdAt) };
}

function spaceNotFound(spaceId: string) {
  return problem('not-found', `Space ${JSON.stringify(spaceId)} was not found.`);
}

function keyNotFound(keyId: string) {
  return problem('not-found', `API key ${JSON.stringify(keyId)} was not found in this space.`);
}

/**
 * Registers the admin API, for the operator with `ADMIN_KEY`: create and list spaces, and issue,
 * list and revoke the API keys of any space. Register it behind `createAdminAuth`.
 *
 * - `POST /v1/admin/spaces` `{ "name" }` → 201 `{ spaceId, name, createdAt }`
 * - `GET /v1/admin/spaces` → `{ items: [space] }`, oldest first; `GET /v1/admin/spaces/{spaceId}`
 * - `POST /v1/admin/spaces/{spaceId}/keys` `{ "scopes"?, "name"? }` → 201 with the key, shown once
 * - `GET /v1/admin/spaces/{spaceId}/keys` → `{ items: [key] }` without secrets, revoked keys included
 * - `DELETE /v1/admin/spaces/{spaceId}/keys/{keyId}` → 204; revoking a revoked key changes nothing
 */
export function registerAdminRoutes(app: ApiInstance, deps: ApiDeps, keys: ApiKeys): void {
  const createSpaceSchema = { summary: 'Create a space', body: CreateSpaceSchema, response: { 201: SpaceJsonSchema } };
  app.post('/v1/admin/spaces', { schema: createSpaceSchema }, async (request, reply) => {
    const now = deps.now();
    const space: Space = { id: uuidv7(now), name: request.body.name, createdAt: now };
    await deps.store.createSpace(space);
    request.log.info({ spaceId: space.id }, 'space created');
    return reply.status(201).send(toSpaceJson(space));
  });

  app.get('/v1/admin/spaces', { schema: { summary: 'List spaces', description: 'Returns every space, oldest first.', response: { 200: SpaceListJsonSchema } } }, async (_request, reply) => {
    // NOTE: not paged; an operator is expected to run tens or hundreds of spaces, not millions.
    const spaces = await deps.store.listSpaces();
    return reply.send({ items: spaces.map(toSpaceJson) });
  });

  const getSpaceSchema = { summary: 'Get a space', params: SpaceParamsSchema, response: { 200: SpaceJsonSchema } };
  app.get('/v1/admin/spaces/:spaceId', { schema: getSpaceSchema }, async (request, reply) => {
    const space = await deps.store.getSpace(request.params.spaceId);
    if (space === null) return sendProblem(reply, spaceNotFound(request.params.spaceId));
    return reply.send(toSpaceJson(space));
  });

  app.post(
    '/v1/admin/spaces/:spaceId/keys',
    {
      schema: {
        summary: 'Issue an API key for a space',
        description: 'Issues a key with the scopes given, or with every scope when scopes is left out. The response is the only one that contains the key.',
        params: SpaceParamsSchema,
        body: CreateKeySchema,
        response: { 201: IssuedKeyJsonSchema },
      },
    },
    async (request, reply) => {
      const { spaceId } = request.params;
      if ((await deps.store.getSpace(spaceId)) === null) return sendProblem(reply, spaceNotFound(spaceId));
      return reply.status(201).send(await issueKey(keys, spaceId, request.body));
    },
  );

  app.get(
    '/v1/admin/spaces/:spaceId/keys',
    {
      schema: {
        summary: 'List the API keys of a space',
        description: 'Returns every key of the space, revoked ones included, without the keys themselves.',
        params: SpaceParamsSchema,
        response: { 200: KeyListJsonSchema },
      },
    },
    async (request, reply) => {
      const { spaceId } = request.params;
      if ((await deps.store.getSpace(spaceId)) === null) return sendProblem(reply, spaceNotFound(spaceId));
      const records = await keys.list(spaceId);
      return reply.send({ items: records.map(toKeyJson) });
    },
  );

  const revokeSchema = {
    summary: 'Revoke an API key of a space',
    description: 'Revokes the key; revoking a revoked key changes nothing.',
    params: SpaceKeyParamsSchema,
    response: { 204: NoContentSchema },
  };
  app.delete('/v1/admin/spaces/:spaceId/keys/:keyId', { schema: revokeSchema }, async (request, reply) => {
    const { spaceId, keyId } = request.params;
    if ((await deps.store.getSpace(spaceId)) === null) return sendProblem(reply, spaceNotFound(spaceId));
    const revoked = await keys.revoke(spaceId, keyId);
    if (revoked === null) return sendProblem(reply, keyNotFound(keyId));
    return reply.status(204).send();
  });
}

/**
 * `GET`, `POST /v1/keys` and `DELETE /v1/keys/{keyId}`: the keys of the caller's own space, for
 * API keys with the `admin` scope. Bodies and responses are those of the admin API's key
 * routes. A key can issue keys only with scopes it has itself, so an `admin` key with a scope
 * list cannot issue a key with more. It can revoke any key of its space, itself included.
 */
export function registerKeyRoutes(app: ApiInstance, keys: ApiKeys): void {
  const config = { scope: 'admin' as const };

  const listSchema = {
    summary: 'List the API keys of the space',
    description: 'Returns every key of the caller\'s space, revoked ones included, without the keys themselves.',
    response: { 200: KeyListJsonSchema },
  };
  app.get('/v1/keys', { config, schema: listSchema }, async (request, reply) => {
    const records = await keys.list(request.spaceId);
    return reply.send({ items: records.map(toKeyJson) });
  });

  const issueSchema = {
    summary: 'Issue an API key',
    description:
      'Issues a key of the caller\'s space with the scopes given, or with every scope when scopes is left out. A key can issue only scopes it has itself, ' +
      'so a key with a scope list cannot issue a key without one. The response is the only one that contains the key.',
    body: CreateKeySchema,
    response: { 201: IssuedKeyJsonSchema },
    problems: { 403: 'The calling key lacks the admin scope, or a scope it asked the new key to have.' },
  };
  app.post('/v1/keys', { config, schema: issueSchema }, async (request, reply) => {
    // Every request here passed key authentication; without its key nothing may be issued.
    const granted = request.apiKey === null ? [] : request.apiKey.scopes;
    const requested = request.body.scopes === undefined ? null : expandScopes(request.body.scopes);
    if (!coversScopes(granted, requested)) {
      return sendProblem(reply, problem('insufficient-scope', describeMissingScopes(granted ?? [], requested)));
    }
    return reply.status(201).send(await issueKey(keys, request.spaceId, request.body));
  });

  const revokeSchema = {
    summary: 'Revoke an API key',
    description: 'Revokes any key of the caller\'s space, the calling key included.',
    params: KeyParamsSchema,
    response: { 204: NoContentSchema },
  };
  app.delete('/v1/keys/:keyId', { config, schema: revokeSchema }, async (request, reply) => {
    const revoked = await keys.revoke(request.spaceId, request.params.keyId);
    if (revoked === null) return sendProblem(reply, keyNotFound(request.params.keyId));
    return reply.status(204).send();
  });
}

function describeMissingScopes(granted: readonly Scope[], requested: readonly Scope[] | null): string {
  if (requested === null) {
    return `This API key has a scope list (${granted.join(', ')}), so it cannot issue a key with every scope. List the scopes the new key needs.`;
  }
  const missing = requested.filter((scope) => !granted.includes(scope));
  return `This API key cannot issue a key with ${missing.join(', ')}, because it does not have ${missing.length === 1 ? 'that scope' : 'those scopes'} itself.`;
}
