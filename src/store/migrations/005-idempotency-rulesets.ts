import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Add idempotency records of the send routes and stored rule sets.
 *
 * An idempotency record is keyed by space, route and the client's key. It is `processing` from
 * the moment a request reserves the key until the transaction that writes the request's messages
 * also stores the response and marks it `completed`.
 *
 * A partial unique index allows at most one default rule set per space.
 */
export function idempotencyRuleSetsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('idempotency_keys')
        .addColumn('space_id', 'text', (col) => col.notNull())
        .addColumn('route', 'text', (col) => col.notNull())
        .addColumn('idempotency_key', 'text', (col) => col.notNull())
        .addColumn('request_hash', 'text', (col) => col.notNull())
        .addColumn('state', 'text', (col) => col.notNull())
        .addColumn('token', 'text', (col) => col.notNull())
        .addColumn('locked_until', 'bigint')
        .addColumn('response_status', 'integer')
        .addColumn('response_body', 'text')
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addColumn('expires_at', 'bigint', (col) => col.notNull())
        .addPrimaryKeyConstraint('idempotency_keys_pk', ['space_id', 'route', 'idempotency_key'])
        .execute();
      await db.schema.createIndex('idempotency_keys_expires_idx').on('idempotency_keys').column('expires_at').execute();

      await db.schema
        .createTable('rule_sets')
        .addColumn('space_id', 'text', (col) => col.notNull())
        .addColumn('name', 'text', (col) => col.notNull())
        .addColumn('rules', 'text', (col) => col.notNull())
        .addColumn('is_default', 'integer', (col) => col.notNull())
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addColumn('updated_at', 'bigint', (col) => col.notNull())
        .addPrimaryKeyConstraint('rule_sets_pk', ['space_id', 'name'])
        .execute();
      await db.schema
        .createIndex('rule_sets_default_idx')
        .on('rule_sets')
        .column('space_id')
        .unique()
        .where(sql.ref('is_default'), '=', 1)
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('rule_sets').execute();
      await db.schema.dropTable('idempotency_keys').execute();
    },
  };
}
