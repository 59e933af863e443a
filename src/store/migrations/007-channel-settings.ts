import type { Kysely, Migration } from 'kysely';

/**
 * Add channel settings per space. `sealed` holds the whole settings, encrypted; `masked` holds
 * the same settings with every credential masked, so reads that only show them never decrypt.
 * `key_id` names the key `sealed` is encrypted with, so rotation finds what to re-encrypt.
 */
export function channelSettingsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('channel_settings')
        .addColumn('space_id', 'text', (col) => col.notNull())
        .addColumn('channel', 'text', (col) => col.notNull())
        .addColumn('masked', 'text', (col) => col.notNull())
        .addColumn('sealed', 'text', (col) => col.notNull())
        .addColumn('key_id', 'text', (col) => col.notNull())
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addColumn('updated_at', 'bigint', (col) => col.notNull())
        .addPrimaryKeyConstraint('channel_settings_pk', ['space_id', 'channel'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('channel_settings').execute();
    },
  };
}
