import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../dialect.js';

/** Create every table, and the `default` space. */
export function initialMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('spaces')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('name', 'text', (col) => col.notNull())
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .execute();
      await sql`insert into spaces (id, name, created_at) values (${'default'}, ${'Default'}, ${Date.now()})`.execute(db);

      await db.schema
        .createTable('profiles')
        .addColumn('space_id', 'text', (col) => col.notNull())
        .addColumn('profile_id', 'text', (col) => col.notNull())
        .addColumn('addresses', 'text', (col) => col.notNull())
        .addColumn('properties', 'text', (col) => col.notNull())
        .addColumn('opt_outs', 'text', (col) => col.notNull())
        .addColumn('time_zone', 'text')
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addColumn('updated_at', 'bigint', (col) => col.notNull())
        .addPrimaryKeyConstraint('profiles_pk', ['space_id', 'profile_id'])
        .execute();

      await db.schema
        .createTable('messages')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('space_id', 'text', (col) => col.notNull())
        .addColumn('profile_id', 'text')
        .addColumn('status', 'text', (col) => col.notNull())
        .addColumn('current_step', 'integer', (col) => col.notNull())
        .addColumn('succeeded_step', 'integer')
        .addColumn('version', 'integer', (col) => col.notNull())
        .addColumn('to_addresses', 'text', (col) => col.notNull())
        .addColumn('content', 'text', (col) => col.notNull())
        .addColumn('metadata', 'text')
        .addColumn('conversation_id', 'text')
        .addColumn('request', 'text', (col) => col.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('send_at', 'bigint')
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addColumn('updated_at', 'bigint', (col) => col.notNull())
        .addColumn('completed_at', 'bigint')
        .execute();
      // Listing pages newest first by id (UUIDv7, so creation order), optionally by profile or status.
      await db.schema.createIndex('messages_space_idx').on('messages').columns(['space_id', 'id']).execute();
      await db.schema.createIndex('messages_space_profile_idx').on('messages').columns(['space_id', 'profile_id', 'id']).execute();
      await db.schema.createIndex('messages_space_status_idx').on('messages').columns(['space_id', 'status', 'id']).execute();
      await db.schema.createIndex('messages_space_created_idx').on('messages').columns(['space_id', 'created_at']).execute();

      await db.schema
        .createTable('steps')
        .addColumn('space_id', 'text', (col) => col.notNull())
        .addColumn('message_id', 'text', (col) => col.notNull().references('messages.id'))
        .addColumn('idx', 'integer', (col) => col.notNull())
        .addColumn('channel', 'text', (col) => col.notNull())
        .addColumn('condition', 'text', (col) => col.notNull())
        .addColumn('fallback_after_ms', 'bigint')
        .addColumn('status', 'text', (col) => col.notNull())
        .addColumn('reason', 'text')
        .addColumn('started_at', 'bigint')
        .addColumn('ended_at', 'bigint')
        .addPrimaryKeyConstraint('steps_pk', ['message_id', 'idx'])
        .execute();

      await db.schema
        .createTable('attempts')
        .addColumn('space_id', 'text', (col) => col.notNull())
        .addColumn('message_id', 'text', (col) => col.notNull())
        .addColumn('step_idx', 'integer', (col) => col.notNull())
        .addColumn('number', 'integer', (col) => col.notNull())
        .addColumn('status', 'text', (col) => col.notNull())
        .addColumn('idempotency_key', 'text')
        .addColumn('provider_message_id', 'text')
        .addColumn('error_code', 'text')
        .addColumn('error_message', 'text')
        .addColumn('started_at', 'bigint', (col) => col.notNull())
        .addColumn('updated_at', 'bigint', (col) => col.notNull())
        .addPrimaryKeyConstraint('attempts_pk', ['message_id', 'step_idx', 'number'])
        .addForeignKeyConstraint('attempts_step_fk', ['message_id', 'step_idx'], 'steps', ['message_id', 'idx'])
        .execute();

      await db.schema
        .createTable('provider_keys')
        .addColumn('space_id', 'text', (col) => col.notNull())
        .addColumn('channel', 'text', (col) => col.notNull())
        .addColumn('key', 'text', (col) => col.notNull())
        .addColumn('message_id', 'text', (col) => col.notNull().references('messages.id'))
        .addColumn('step_idx', 'integer', (col) => col.notNull())
        .addColumn('attempt', 'integer', (col) => col.notNull())
        .addColumn('part', 'integer', (col) => col.notNull())
        .addColumn('parts', 'integer', (col) => col.notNull())
        .addPrimaryKeyConstraint('provider_keys_pk', ['space_id', 'channel', 'key'])
        .execute();

      // Receipts may arrive before their attempt is known, so the attempt columns start empty.
      await db.schema
        .createTable('receipts')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('space_id', 'text', (col) => col.notNull())
        .addColumn('channel', 'text', (col) => col.notNull())
        .addColumn('key', 'text', (col) => col.notNull())
        .addColumn('provider_message_id', 'text', (col) => col.notNull())
        .addColumn('state', 'text', (col) => col.notNull())
        .addColumn('error_code', 'text')
        .addColumn('provider_timestamp', 'bigint')
        .addColumn('received_at', 'bigint', (col) => col.notNull())
        .addColumn('applied_at', 'bigint')
        .addColumn('message_id', 'text', (col) => col.references('messages.id'))
        .addColumn('step_idx', 'integer')
        .addColumn('attempt', 'integer')
        .addColumn('part', 'integer')
        .addUniqueConstraint('receipts_dedupe_unique', ['space_id', 'channel', 'key', 'state'])
        .execute();
      await db.schema.createIndex('receipts_attempt_idx').on('receipts').columns(['message_id', 'step_idx', 'attempt']).execute();

      let events = db.schema.createTable('events');
      events =
        dialect === 'sqlite'
          ? events.addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
          : events.addColumn('id', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity());
      await events
        .addColumn('space_id', 'text', (col) => col.notNull())
        .addColumn('message_id', 'text', (col) => col.notNull().references('messages.id'))
        .addColumn('seq', 'integer', (col) => col.notNull())
        .addColumn('type', 'text', (col) => col.notNull())
        .addColumn('step', 'integer')
        .addColumn('attempt', 'integer')
        .addColumn('data', 'text', (col) => col.notNull())
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addUniqueConstraint('events_message_seq_unique', ['message_id', 'seq'])
        .execute();

      await db.schema
        .createTable('jobs')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('space_id', 'text', (col) => col.notNull())
        .addColumn('message_id', 'text', (col) => col.notNull().references('messages.id'))
        .addColumn('kind', 'text', (col) => col.notNull())
        .addColumn('step', 'integer')
        .addColumn('attempt', 'integer')
        .addColumn('run_at', 'bigint', (col) => col.notNull())
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'bigint')
        .addColumn('claims', 'integer', (col) => col.notNull())
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .execute();
      await db.schema.createIndex('jobs_run_at_idx').on('jobs').column('run_at').execute();
      await db.schema.createIndex('jobs_message_idx').on('jobs').column('message_id').execute();
    },
  };
}
