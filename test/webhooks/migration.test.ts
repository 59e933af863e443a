import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type Migration } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initialMigration } from '../../src/store/migrations/001-initial.js';
import { providerFactsMigration } from '../../src/store/migrations/002-provider-facts.js';
import { appFeedMigration } from '../../src/store/migrations/003-app-feed.js';
import { spacesKeysMigration } from '../../src/store/migrations/004-spaces-keys.js';
import { idempotencyRuleSetsMigration } from '../../src/store/migrations/005-idempotency-rulesets.js';
import { openSqliteStore } from '../../src/store/sqlite.js';

/** The migrations before webhooks, as a database from an earlier release has them. */
const EARLIER: Record<string, Migration> = {
  '001-initial': initialMigration('sqlite'),
  '002-provider-facts': providerFactsMigration(),
  '003-app-feed': appFeedMigration('sqlite'),
  '004-spaces-keys': spacesKeysMigration(),
  '005-idempotency-rulesets': idempotencyRuleSetsMigration(),
};

describe('webhooks migration on sqlite', () => {
  let dir = '';
  let file = '';

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cascade-migration-'));
    file = join(dir, 'cascade.sqlite');
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps inbound messages and starts cursors at the newest rows', async () => {
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new BetterSqlite3(file) }) });
    const migrator = new Migrator({ db, provider: { getMigrations: async () => EARLIER } });
    const { error } = await migrator.migrateToLatest();
    expect(error).toBeUndefined();
    const raw = new BetterSqlite3(file);
    const insert = raw.prepare(
      'insert into inbound_messages (space_id, channel, provider_message_id, address, text, provider_timestamp, received_at) values (?, ?, ?, ?, ?, ?, ?)',
    );
    insert.run('default', 'whatsApp', 'wamid.late', '+12025550111', 'second', 2000, 2000);
    insert.run('default', 'whatsApp', 'wamid.early', '+12025550111', 'first', 1000, 1000);
    raw.close();
    await db.destroy();

    const store = await openSqliteStore({ file });
    try {
      await store.migrate();

      // Existing rows got ids in arrival order, and the cursor is past them.
      const head = await store.webhooks.outboxHead('inbound');
      expect(head).toBe(2);
      expect(await store.webhooks.outboxPosition('inbound')).toBe(head);
      const page = await store.webhooks.readOutboxInbound(0, head, ['default'], 10);
      expect(page.items.map((item) => [item.id, item.providerMessageId, item.text])).toEqual([
        [1, 'wamid.early', 'first'],
        [2, 'wamid.late', 'second'],
      ]);

      // The unique key and the address index still work.
      expect(await store.recordInbound({ spaceId: 'default', channel: 'whatsApp', providerMessageId: 'wamid.early', address: '+12025550111', text: 'again', providerTimestamp: 3000, receivedAt: 3000 })).toBe(false);
      expect(await store.lastInboundAt('default', 'whatsApp', '+12025550111')).toBe(2000);
    } finally {
      await store.close();
    }
  });
});
