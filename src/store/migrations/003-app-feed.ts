import type { Kysely, Migration } from 'kysely';
import type { DialectName } from '../dialect.js';

/**
 * Add the app channel's own provider side: each app user's feed of messages, and their devices.
 * `app_feed.seq` is one sequence for all app users, so it also grows within each user's feed.
 */
export function appFeedMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      let feed = db.schema.createTable('app_feed');
      feed =
        dialect === 'sqlite'
          ? // AUTOINCREMENT keeps SQLite from reusing the seq of a deleted last row.
            feed.addColumn('seq', 'integer', (col) => col.primaryKey().autoIncrement())
          : feed.addColumn('seq', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity());
      await feed
        .addColumn('space_id', 'text', (col) => col.notNull())
        .addColumn('app_user_id', 'text', (col) => col.notNull())
        .addColumn('message_id', 'text', (col) => col.notNull())
        .addColumn('provider_message_id', 'text', (col) => col.notNull())
        .addColumn('title', 'text')
        .addColumn('body', 'text', (col) => col.notNull())
        .addColumn('data', 'text')
        .addColumn('sent_on', 'bigint', (col) => col.notNull())
        .addColumn('delivered_at', 'bigint')
        .addColumn('read_at', 'bigint')
        .addUniqueConstraint('app_feed_message_unique', ['space_id', 'app_user_id', 'message_id'])
        .execute();
      await db.schema.createIndex('app_feed_user_seq_idx').on('app_feed').columns(['space_id', 'app_user_id', 'seq']).execute();

      await db.schema
        .createTable('app_devices')
        .addColumn('space_id', 'text', (col) => col.notNull())
        .addColumn('app_user_id', 'text', (col) => col.notNull())
        .addColumn('device_id', 'text', (col) => col.notNull())
        .addColumn('push_endpoint', 'text')
        .addColumn('push_p256dh', 'text')
        .addColumn('push_auth', 'text')
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addColumn('last_seen_at', 'bigint', (col) => col.notNull())
        .addPrimaryKeyConstraint('app_devices_pk', ['space_id', 'app_user_id', 'device_id'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('app_devices').execute();
      await db.schema.dropTable('app_feed').execute();
    },
  };
}
