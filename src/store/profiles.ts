import type { Kysely, Selectable } from 'kysely';
import type { Addresses } from '../channels/types.js';
import type { ChannelId } from '../routing/types.js';
import { chunkRows } from './chunks.js';
import { fromJson, isPlainObject, toJson } from './json.js';
import type { Database, ProfilesTable } from './schema.js';
import type { NewMessage, Profile, ProfileInput } from './types.js';

export function rowToProfile(row: Selectable<ProfilesTable>): Profile {
  return {
    spaceId: row.space_id,
    profileId: row.profile_id,
    addresses: fromJson<Addresses>(row.addresses),
    properties: fromJson<Record<string, unknown>>(row.properties),
    optOuts: fromJson<ChannelId[]>(row.opt_outs),
    timeZone: row.time_zone,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function profileToRow(profile: Profile): Selectable<ProfilesTable> {
  return {
    space_id: profile.spaceId,
    profile_id: profile.profileId,
    addresses: toJson(profile.addresses),
    properties: toJson(profile.properties),
    opt_outs: toJson(profile.optOuts),
    time_zone: profile.timeZone,
    created_at: profile.createdAt,
    updated_at: profile.updatedAt,
  };
}

export async function getProfile(db: Kysely<Database>, spaceId: string, profileId: string): Promise<Profile | null> {
  const row = await db
    .selectFrom('profiles')
    .selectAll()
    .where('space_id', '=', spaceId)
    .where('profile_id', '=', profileId)
    .executeTakeFirst();
  return row === undefined ? null : rowToProfile(row);
}

export async function putProfile(
  db: Kysely<Database>,
  spaceId: string,
  profileId: string,
  input: ProfileInput,
  now: number,
): Promise<{ created: boolean; profile: Profile }> {
  return db.transaction().execute(async (trx) => {
    const existing = await getProfile(trx, spaceId, profileId);
    const profile: Profile = {
      spaceId,
      profileId,
      addresses: mergeAddresses({}, input.addresses ?? {}),
      properties: mergePatch({}, input.properties ?? {}),
      optOuts: uniqueChannels(input.optOuts ?? []),
      timeZone: input.timeZone ?? null,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    await writeProfile(trx, profile, existing !== null);
    return { created: existing === null, profile };
  });
}

export async function patchProfile(
  db: Kysely<Database>,
  spaceId: string,
  profileId: string,
  input: ProfileInput,
  now: number,
): Promise<Profile | null> {
  return db.transaction().execute(async (trx) => {
    const existing = await getProfile(trx, spaceId, profileId);
    if (existing === null) return null;
    const profile: Profile = {
      ...existing,
      addresses: input.addresses === undefined ? existing.addresses : mergeAddresses(existing.addresses, input.addresses),
      properties: input.properties === undefined ? existing.properties : mergePatch(existing.properties, input.properties),
      optOuts: input.optOuts === undefined ? existing.optOuts : uniqueChannels(input.optOuts ?? []),
      timeZone: input.timeZone === undefined ? existing.timeZone : input.timeZone,
      updatedAt: now,
    };
    await writeProfile(trx, profile, true);
    return profile;
  });
}

export async function deleteProfile(db: Kysely<Database>, spaceId: string, profileId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('profiles')
    .where('space_id', '=', spaceId)
    .where('profile_id', '=', profileId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

async function writeProfile(db: Kysely<Database>, profile: Profile, exists: boolean): Promise<void> {
  const row = profileToRow(profile);
  if (!exists) {
    await db.insertInto('profiles').values(row).execute();
    return;
  }
  await db
    .updateTable('profiles')
    .set({
      addresses: row.addresses,
      properties: row.properties,
      opt_outs: row.opt_outs,
      time_zone: row.time_zone,
      updated_at: row.updated_at,
    })
    .where('space_id', '=', row.space_id)
    .where('profile_id', '=', row.profile_id)
    .execute();
}

/**
 * Store the `to` addresses of new messages on their profiles, creating missing profiles. The
 * messages apply in order, as one call per message would: later messages override earlier
 * ones, a profile is written only when some message creates it or changes its addresses, and
 * its `updated_at` is the latest `createdAt` among those messages.
 */
export async function mergeAddressesIntoProfiles(db: Kysely<Database>, messages: NewMessage[], maxParameters: number): Promise<void> {
  const profiles = new Map<string, { spaceId: string; profileId: string }>();
  for (const message of messages) {
    if (message.profileId === null) continue;
    profiles.set(profileKey(message.spaceId, message.profileId), { spaceId: message.spaceId, profileId: message.profileId });
  }
  if (profiles.size === 0) return;

  const current = await loadAddresses(db, [...profiles.values()], maxParameters);
  const written = new Map<string, { spaceId: string; profileId: string; createdAt: number; updatedAt: number }>();
  for (const message of messages) {
    if (message.profileId === null) continue;
    const mapKey = profileKey(message.spaceId, message.profileId);
    const before = current.get(mapKey);
    const after = mergeAddresses(before ?? {}, message.to);
    current.set(mapKey, after);
    if (before !== undefined && sameAddresses(before, after)) continue;

    const entry = written.get(mapKey);
    if (entry === undefined) {
      written.set(mapKey, { spaceId: message.spaceId, profileId: message.profileId, createdAt: message.createdAt, updatedAt: message.createdAt });
    } else {
      entry.updatedAt = Math.max(entry.updatedAt, message.createdAt);
    }
  }

  const rows: Array<Selectable<ProfilesTable>> = [];
  for (const [mapKey, entry] of written) {
    rows.push({
      space_id: entry.spaceId,
      profile_id: entry.profileId,
      addresses: toJson(current.get(mapKey) ?? {}),
      properties: '{}',
      opt_outs: '[]',
      time_zone: null,
      created_at: entry.createdAt,
      updated_at: entry.updatedAt,
    });
  }

  for (const chunk of chunkRows(rows, 8, maxParameters)) {
    await db
      .insertInto('profiles')
      .values(chunk)
      .onConflict((oc) =>
        oc.columns(['space_id', 'profile_id']).doUpdateSet((eb) => ({
          addresses: eb.ref('excluded.addresses'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }
}

function profileKey(spaceId: string, profileId: string): string {
  return JSON.stringify([spaceId, profileId]);
}

async function loadAddresses(
  db: Kysely<Database>,
  entries: Array<{ spaceId: string; profileId: string }>,
  maxParameters: number,
): Promise<Map<string, Addresses>> {
  const bySpace = new Map<string, string[]>();
  for (const entry of entries) {
    const ids = bySpace.get(entry.spaceId) ?? [];
    ids.push(entry.profileId);
    bySpace.set(entry.spaceId, ids);
  }
  const result = new Map<string, Addresses>();
  for (const [spaceId, profileIds] of bySpace) {
    for (const chunk of chunkRows(profileIds, 1, maxParameters - 1)) {
      const rows = await db
        .selectFrom('profiles')
        .select(['profile_id', 'addresses'])
        .where('space_id', '=', spaceId)
        .where('profile_id', 'in', chunk)
        .execute();
      for (const row of rows) {
        result.set(profileKey(spaceId, row.profile_id), fromJson<Addresses>(row.addresses));
      }
    }
  }
  return result;
}

/**
 * Apply a patch of addresses: a string sets the address, null removes it, and an absent value
 * leaves it as it is.
 */
function mergeAddresses(base: Addresses, patch: Addresses): Addresses {
  const result: Addresses = { ...base };
  const entries: Array<[string, unknown]> = Object.entries(patch);
  for (const [name, value] of entries) {
    if (typeof value === 'string') result[name] = value;
    else if (value === null) delete result[name];
  }
  return result;
}

function sameAddresses(a: Addresses, b: Addresses): boolean {
  const names = Object.keys(a);
  return names.length === Object.keys(b).length && names.every((name) => a[name] === b[name]);
}

/** JSON Merge Patch (RFC 7396): null removes a key, objects merge recursively, anything else replaces. */
function mergePatch(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = { ...target };
  for (const [name, value] of Object.entries(patch)) {
    if (value === null || value === undefined) {
      delete result[name];
    } else if (isPlainObject(value)) {
      const current = result[name];
      result[name] = mergePatch(isPlainObject(current) ? current : {}, value);
    } else {
      result[name] = value;
    }
  }
  return result;
}

function uniqueChannels(channels: ChannelId[]): ChannelId[] {
  return [...new Set(channels)];
}
