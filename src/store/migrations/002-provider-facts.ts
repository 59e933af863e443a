import type { Kysely, Migration } from 'kysely';

/**
 * Add what the webhook-driven channels need: the address each attempt went to (Messenger
 * watermarks name a person, not a message), inbound messages (they open the providers'
 * messaging windows), and addresses a provider reported as reaching nobody.
 */
export function providerFactsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('attempts').addColumn('address', 'text').execute();
      await db.schema
        .createIndex('attempts_address_idx')
        .on('attempts')
        .columns(['space_id', 'address', 'started_at'])
        .execute();

      await db.schema
        .createTable('inbound_messages')
        .addColumn('space_id', 'text', (col) => col.notNull())
        .addColumn('channel', 'text', (col) => col.notNull())
        .addColumn('provider_message_id', 'text', (col) => col.notNull())
        .addColumn('address', 'text', (col) => col.notNull())
        .addColumn('text', 'text')
        .addColumn('provider_timestamp', 'bigint', (col) => col.notNull())
        .addColumn('received_at', 'bigint', (col) => col.notNull())
        .addPrimaryKeyConstraint('inbound_messages_pk', ['space_id', 'channel', 'provider_message_id'])
        .execute();
      await db.schema
        .createIndex('inbound_messages_address_idx')
        .on('inbound_messages')
        .columns(['space_id', 'channel', 'address', 'provider_timestamp'])
        .execute();

      await db.schema
        .createTable('unreachable_addresses')
        .addColumn('space_id', 'text', (col) => col.notNull())
        .addColumn('channel', 'text', (col) => col.notNull())
        .addColumn('address', 'text', (col) => col.notNull())
        .addColumn('error_code', 'text', (col) => col.notNull())
        .addColumn('marked_at', 'bigint', (col) => col.notNull())
        .addPrimaryKeyConstraint('unreachable_addresses_pk', ['space_id', 'channel', 'address'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('unreachable_addresses').execute();
      await db.schema.dropTable('inbound_messages').execute();
      await db.schema.dropIndex('attempts_address_idx').execute();
      await db.schema.alterTable('attempts').dropColumn('address').execute();
    },
  };
}
