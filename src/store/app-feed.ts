import type { Kysely, Selectable } from 'kysely';
import type { AppDevice, AppFeedStore, FeedEntry } from '../channels/app/types.js';
import { fromJson, toJson } from './json.js';
import type { StoreDialect } from './dialect.js';
import type { AppDevicesTable, AppFeedTable, Database } from './schema.js';

/**
 * `AppFeedStore` on the shared Kysely database. Every query is scoped by space and app user.
 *
 * `seq` comes from one identity column, and apps read their feed after the last `seq` they saw.
 * So entries of one user must become visible in `seq` order, and each insert holds the
 * dialect's feed lock of its user until it commits.
 */
export class KyselyAppFeedStore implements AppFeedStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: StoreDialect,
  ) {}

  async appendFeed(entry: Omit<FeedEntry, 'seq' | 'deliveredAt' | 'readAt'>): Promise<FeedEntry> {
    const inserted = await this.db.transaction().execute(async (trx) => {
      await this.dialect.lockFeed(trx, entry.spaceId, entry.appUserId);
      return trx
        .insertInto('app_feed')
        .values({
          space_id: entry.spaceId,
          app_user_id: entry.appUserId,
          message_id: entry.messageId,
          provider_message_id: entry.providerMessageId,
          title: entry.title,
          body: entry.body,
          data: entry.data === null ? null : toJson(entry.data),
          sent_on: entry.sentOn,
          delivered_at: null,
          read_at: null,
        })
        .onConflict((oc) => oc.columns(['space_id', 'app_user_id', 'message_id']).doNothing())
        .returningAll()
        .executeTakeFirst();
    });
    if (inserted !== undefined) return rowToEntry(inserted);

    const existing = await this.getFeedEntry(entry.spaceId, entry.appUserId, entry.messageId);
    if (existing === null) {
      throw new Error(`Feed entry of message ${entry.messageId} was neither inserted nor found.`);
    }
    return existing;
  }

  async readFeed(spaceId: string, appUserId: string, after: number, limit: number): Promise<FeedEntry[]> {
    const rows = await this.db
      .selectFrom('app_feed')
      .selectAll()
      .where('space_id', '=', spaceId)
      .where('app_user_id', '=', appUserId)
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map(rowToEntry);
  }

  async getFeedEntry(spaceId: string, appUserId: string, messageId: string): Promise<FeedEntry | null> {
    const row = await this.db
      .selectFrom('app_feed')
      .selectAll()
      .where('space_id', '=', spaceId)
      .where('app_user_id', '=', appUserId)
      .where('message_id', '=', messageId)
      .executeTakeFirst();
    return row === undefined ? null : rowToEntry(row);
  }

  async lastFeedSeq(spaceId: string, appUserId: string): Promise<number> {
    const row = await this.db
      .selectFrom('app_feed')
      .select((eb) => eb.fn.max('seq').as('last'))
      .where('space_id', '=', spaceId)
      .where('app_user_id', '=', appUserId)
      .executeTakeFirst();
    const last = row?.last;
    return last === null || last === undefined ? 0 : Number(last);
  }

  async markFeed(spaceId: string, appUserId: string, messageId: string, state: 'delivered' | 'read', at: number): Promise<boolean> {
    const scoped = this.db
      .updateTable('app_feed')
      .where('space_id', '=', spaceId)
      .where('app_user_id', '=', appUserId)
      .where('message_id', '=', messageId);
    const result =
      state === 'delivered'
        ? await scoped.set({ delivered_at: at }).where('delivered_at', 'is', null).executeTakeFirst()
        : await scoped
            .set((eb) => ({ read_at: at, delivered_at: eb.fn.coalesce('delivered_at', eb.val(at)) }))
            .where('read_at', 'is', null)
            .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async upsertDevice(device: Omit<AppDevice, 'createdAt' | 'lastSeenAt'>, now: number): Promise<AppDevice> {
    const push = {
      push_endpoint: device.push?.endpoint ?? null,
      push_p256dh: device.push?.keys.p256dh ?? null,
      push_auth: device.push?.keys.auth ?? null,
    };
    const row = await this.db
      .insertInto('app_devices')
      .values({
        space_id: device.spaceId,
        app_user_id: device.appUserId,
        device_id: device.deviceId,
        ...push,
        created_at: now,
        last_seen_at: now,
      })
      .onConflict((oc) => oc.columns(['space_id', 'app_user_id', 'device_id']).doUpdateSet({ ...push, last_seen_at: now }))
      .returningAll()
      .executeTakeFirstOrThrow();
    return rowToDevice(row);
  }

  async listDevices(spaceId: string, appUserId: string): Promise<AppDevice[]> {
    const rows = await this.db
      .selectFrom('app_devices')
      .selectAll()
      .where('space_id', '=', spaceId)
      .where('app_user_id', '=', appUserId)
      .orderBy('created_at')
      .orderBy('device_id')
      .execute();
    return rows.map(rowToDevice);
  }

  async deleteDevice(spaceId: string, appUserId: string, deviceId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('app_devices')
      .where('space_id', '=', spaceId)
      .where('app_user_id', '=', appUserId)
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}

function rowToEntry(row: Selectable<AppFeedTable>): FeedEntry {
  return {
    spaceId: row.space_id,
    appUserId: row.app_user_id,
    messageId: row.message_id,
    // node-postgres returns bigint columns as strings unless a type parser is set.
    seq: Number(row.seq),
    providerMessageId: row.provider_message_id,
    title: row.title,
    body: row.body,
    data: row.data === null ? null : fromJson<Record<string, unknown>>(row.data),
    sentOn: Number(row.sent_on),
    deliveredAt: row.delivered_at === null ? null : Number(row.delivered_at),
    readAt: row.read_at === null ? null : Number(row.read_at),
  };
}

function rowToDevice(row: Selectable<AppDevicesTable>): AppDevice {
  const { push_endpoint: endpoint, push_p256dh: p256dh, push_auth: auth } = row;
  return {
    spaceId: row.space_id,
    appUserId: row.app_user_id,
    deviceId: row.device_id,
    push: endpoint !== null && p256dh !== null && auth !== null ? { endpoint, keys: { p256dh, auth } } : null,
    createdAt: Number(row.created_at),
    lastSeenAt: Number(row.last_seen_at),
  };
}
