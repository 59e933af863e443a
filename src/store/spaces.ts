import type { Kysely, Selectable } from 'kysely';
import { fromJson, toJson } from './json.js';
import type { ApiKeysTable, Database, SpacesTable } from './schema.js';
import type { ApiKeyRecord, NewApiKey, Space } from './types.js';

function rowToSpace(row: Selectable<SpacesTable>): Space {
  return { id: row.id, name: row.name, createdAt: Number(row.created_at) };
}

function rowToApiKey(row: Selectable<ApiKeysTable>): ApiKeyRecord {
  return {
    id: row.id,
    spaceId: row.space_id,
    hash: row.hash,
    prefix: row.prefix,
    name: row.name,
    scopes: row.scopes === null ? null : fromJson<string[]>(row.scopes),
    origin: row.origin,
    createdAt: Number(row.created_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
  };
}

export async function createSpace(db: Kysely<Database>, space: Space): Promise<void> {
  await db.insertInto('spaces').values({ id: space.id, name: space.name, created_at: space.createdAt }).execute();
}

export async function getSpace(db: Kysely<Database>, spaceId: string): Promise<Space | null> {
  const row = await db.selectFrom('spaces').selectAll().where('id', '=', spaceId).executeTakeFirst();
  return row === undefined ? null : rowToSpace(row);
}

export async function listSpaces(db: Kysely<Database>): Promise<Space[]> {
  const rows = await db.selectFrom('spaces').selectAll().orderBy('created_at').orderBy('id').execute();
  return rows.map(rowToSpace);
}

export async function createApiKey(db: Kysely<Database>, key: NewApiKey): Promise<boolean> {
  const result = await db
    .insertInto('api_keys')
    .values({
      id: key.id,
      space_id: key.spaceId,
      hash: key.hash,
      prefix: key.prefix,
      name: key.name,
      scopes: key.scopes === null ? null : toJson(key.scopes),
      origin: key.origin,
      created_at: key.createdAt,
      revoked_at: null,
      last_used_at: null,
    })
    // Two processes bootstrapping the same configured key both reach this insert.
    .onConflict((oc) => oc.column('hash').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

export async function findApiKeyByHash(db: Kysely<Database>, hash: string): Promise<ApiKeyRecord | null> {
  const row = await db.selectFrom('api_keys').selectAll().where('hash', '=', hash).executeTakeFirst();
  return row === undefined ? null : rowToApiKey(row);
}

export async function listApiKeys(db: Kysely<Database>, spaceId: string): Promise<ApiKeyRecord[]> {
  const rows = await db.selectFrom('api_keys').selectAll().where('space_id', '=', spaceId).orderBy('created_at').orderBy('id').execute();
  return rows.map(rowToApiKey);
}

export async function revokeApiKey(db: Kysely<Database>, spaceId: string, keyId: string, now: number): Promise<ApiKeyRecord | null> {
  const row = await db
    .updateTable('api_keys')
    .set((eb) => ({ revoked_at: eb.fn.coalesce('revoked_at', eb.val(now)) }))
    .where('space_id', '=', spaceId)
    .where('id', '=', keyId)
    .returningAll()
    .executeTakeFirst();
  return row === undefined ? null : rowToApiKey(row);
}

export async function touchApiKey(db: Kysely<Database>, spaceId: string, keyId: string, now: number, minIntervalMs: number): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set({ last_used_at: now })
    .where('space_id', '=', spaceId)
    .where('id', '=', keyId)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', now - minIntervalMs)]))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
