import type { Kysely, Migration } from 'kysely';

/**
 * Add API keys: each belongs to one space and is stored as the SHA-256 hash of the whole key,
 * never the key itself. The unique hash index makes verifying a presented key one lookup.
 */
export function spacesKeysMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('space_id', 'text', (col) => col.notNull().references('spaces.id'))
        .addColumn('hash', 'text', (col) => col.notNull())
        .addColumn('prefix', 'text', (col) => col.notNull())
        .addColumn('name', 'text')
        .addColumn('scopes', 'text')
        .addColumn('origin', 'text', (col) => col.notNull())
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addColumn('revoked_at', 'bigint')
        .addColumn('last_used_at', 'bigint')
        .addUniqueConstraint('api_keys_hash_unique', ['hash'])
        .execute();
      await db.schema.createIndex('api_keys_space_idx').on('api_keys').columns(['space_id', 'created_at']).execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('api_keys').execute();
    },
  };
}
