import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../dialect.js';

/**
 * Add outbound status webhooks: endpoints, their deliveries, and the outbox cursors.
 *
 * The dispatcher reads `events` and `inbound_messages` in id order after a stored cursor, so
 * `inbound_messages` gets an autoincrement `id`. SQLite cannot add such a column to a table,
 * so there the table is rebuilt with the same columns, constraints and index. The cursors start
 * at the newest existing rows, because history before the upgrade has no endpoints to go to.
 */
export function webhooksMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      // Kysely runs SQLite migrations outside a transaction and PostgreSQL migrations inside one.
      // The SQLite rebuild must not stop halfway, so there it gets a transaction of its own.
      const up = async (trx: Kysely<unknown>) => {
        if (dialect === 'sqlite') await rebuildInboundWithId(trx);
        else await sql`alter table inbound_messages add column id bigint generated always as identity`.execute(trx);
        await createWebhookTables(trx);
      };
      if (db.isTransaction) await up(db);
      else await db.transaction().execute(up);
    },
    // The `id` column of `inbound_messages` stays; nothing but the dispatcher reads it.
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('webhook_outbox').execute();
      await db.schema.dropTable('webhook_deliveries').execute();
      await db.schema.dropTable('webhook_endpoints').execute();
    },
  };
}

async function rebuildInboundWithId(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('inbound_messages_new')
    .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
    .addColumn('space_id', 'text', (col) => col.notNull())
    .addColumn('channel', 'text', (col) => col.notNull())
    .addColumn('provider_message_id', 'text', (col) => col.notNull())
    .addColumn('address', 'text', (col) => col.notNull())
    .addColumn('text', 'text')
    .addColumn('provider_timestamp', 'bigint', (col) => col.notNull())
    .addColumn('received_at', 'bigint', (col) => col.notNull())
    .addUniqueConstraint('inbound_messages_unique', ['space_id', 'channel', 'provider_message_id'])
    .execute();
  await sql`
    insert into inbound_messages_new (space_id, channel, provider_message_id, address, text, provider_timestamp, received_at)
    select space_id, channel, provider_message_id, address, text, provider_timestamp, received_at
    from inbound_messages
    order by received_at, space_id, channel, provider_message_id
  `.execute(db);
  await db.schema.dropTable('inbound_messages').execute();
  await db.schema.alterTable('inbound_messages_new').renameTo('inbound_messages').execute();
  await db.schema
    .createIndex('inbound_messages_address_idx')
    .on('inbound_messages')
    .columns(['space_id', 'channel', 'address', 'provider_timestamp'])
    .execute();
}

async function createWebhookTables(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('webhook_endpoints')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('space_id', 'text', (col) => col.notNull().references('spaces.id'))
    .addColumn('url', 'text', (col) => col.notNull())
    .addColumn('events', 'text', (col) => col.notNull())
    .addColumn('description', 'text')
    .addColumn('secret', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('webhook_endpoints_space_idx').on('webhook_endpoints').columns(['space_id', 'created_at']).execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('space_id', 'text', (col) => col.notNull())
    .addColumn('endpoint_id', 'text', (col) => col.notNull().references('webhook_endpoints.id'))
    .addColumn('message_id', 'text')
    .addColumn('seq', 'integer')
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('body', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('attempts', 'integer', (col) => col.notNull())
    .addColumn('run_at', 'bigint', (col) => col.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'bigint')
    .addColumn('last_status', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('updated_at', 'bigint', (col) => col.notNull())
    // One delivery per endpoint and message event, even if two dispatchers fan out the same row.
    .addUniqueConstraint('webhook_deliveries_event_unique', ['endpoint_id', 'message_id', 'seq'])
    .execute();
  // Claiming scans due pending rows; listing pages one endpoint's rows of one status by id.
  await db.schema.createIndex('webhook_deliveries_due_idx').on('webhook_deliveries').columns(['status', 'run_at']).execute();
  await db.schema.createIndex('webhook_deliveries_endpoint_idx').on('webhook_deliveries').columns(['endpoint_id', 'status', 'id']).execute();

  await db.schema
    .createTable('webhook_outbox')
    .addColumn('source', 'text', (col) => col.primaryKey())
    .addColumn('position', 'bigint', (col) => col.notNull())
    .execute();
  await sql`
    insert into webhook_outbox (source, position)
    select 'events', coalesce(max(id), 0) from events
    union all
    select 'inbound', coalesce(max(id), 0) from inbound_messages
  `.execute(db);
}
