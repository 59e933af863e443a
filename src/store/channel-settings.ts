import type { Kysely, Selectable } from 'kysely';
import type { ChannelId } from '../routing/types.js';
import { fromJson, toJson } from './json.js';
import type { ChannelSettingsTable, Database } from './schema.js';
import type { ChannelSettingsStore, NewChannelSettings, StoredChannelSettings } from './types.js';

function toSettings(row: Selectable<ChannelSettingsTable>): StoredChannelSettings {
  return {
    spaceId: row.space_id,
    channel: row.channel as ChannelId,
    masked: fromJson<Record<string, unknown>>(row.masked),
    sealed: row.sealed,
    keyId: row.key_id,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** Channel settings rows. Callers seal and mask the settings, so no credential reaches the store in clear. */
export class KyselyChannelSettingsStore implements ChannelSettingsStore {
  constructor(private readonly db: Kysely<Database>) {}

  async put(input: NewChannelSettings): Promise<{ created: boolean; settings: StoredChannelSettings }> {
    const row = {
      space_id: input.spaceId,
      channel: input.channel,
      masked: toJson(input.masked),
      sealed: input.sealed,
      key_id: input.keyId,
      created_at: input.now,
      updated_at: input.now,
    };
    // Insert-or-update without a read first, so that two first writes at once cannot both
    // try to insert: the loser of the insert updates instead.
    for (;;) {
      const inserted = await this.db
        .insertInto('channel_settings')
        .values(row)
        .onConflict((oc) => oc.columns(['space_id', 'channel']).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (inserted !== undefined) return { created: true, settings: toSettings(inserted) };
      const updated = await this.db
        .updateTable('channel_settings')
        .set({ masked: row.masked, sealed: row.sealed, key_id: row.key_id, updated_at: row.updated_at })
        .where('space_id', '=', input.spaceId)
        .where('channel', '=', input.channel)
        .returningAll()
        .executeTakeFirst();
      // A delete between the two statements leaves nothing to update, so the insert runs again.
      if (updated !== undefined) return { created: false, settings: toSettings(updated) };
    }
  }

  async get(spaceId: string, channel: ChannelId): Promise<StoredChannelSettings | null> {
    const row = await this.db
      .selectFrom('channel_settings')
      .selectAll()
      .where('space_id', '=', spaceId)
      .where('channel', '=', channel)
      .executeTakeFirst();
    return row === undefined ? null : toSettings(row);
  }

  async list(spaceId: string): Promise<StoredChannelSettings[]> {
    const rows = await this.db.selectFrom('channel_settings').selectAll().where('space_id', '=', spaceId).orderBy('channel').execute();
    return rows.map(toSettings);
  }

  async delete(spaceId: string, channel: ChannelId): Promise<boolean> {
    const result = await this.db.deleteFrom('channel_settings').where('space_id', '=', spaceId).where('channel', '=', channel).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async listSealedWithOtherKey(keyId: string, after: { spaceId: string; channel: ChannelId } | null, limit: number): Promise<StoredChannelSettings[]> {
    let query = this.db.selectFrom('channel_settings').selectAll().where('key_id', '!=', keyId);
    if (after !== null) {
      query = query.where((eb) =>
        eb.or([eb('space_id', '>', after.spaceId), eb.and([eb('space_id', '=', after.spaceId), eb('channel', '>', after.channel)])]),
      );
    }
    const rows = await query.orderBy('space_id').orderBy('channel').limit(limit).execute();
    return rows.map(toSettings);
  }

  async reseal(spaceId: string, channel: ChannelId, previous: string, sealed: string, keyId: string): Promise<boolean> {
    const result = await this.db
      .updateTable('channel_settings')
      .set({ sealed, key_id: keyId })
      .where('space_id', '=', spaceId)
      .where('channel', '=', channel)
      .where('sealed', '=', previous)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
