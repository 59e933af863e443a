import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Index the two receipt lookups that no index served. A receipt of a channel shared by every
 * space finds its attempt by channel and key alone, which the primary key of `provider_keys`
 * (space first) cannot seek, so each such receipt scanned the whole table. And the sweep that
 * applies receipts left unapplied by a stopped process reads the unapplied ones by age.
 */
export function receiptLookupsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.createIndex('provider_keys_channel_key_idx').on('provider_keys').columns(['channel', 'key']).execute();
      await db.schema
        .createIndex('receipts_unapplied_idx')
        .on('receipts')
        .column('received_at')
        .where(sql.ref('applied_at'), 'is', null)
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('receipts_unapplied_idx').execute();
      await db.schema.dropIndex('provider_keys_channel_key_idx').execute();
    },
  };
}
