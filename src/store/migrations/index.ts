import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Logger } from 'pino';
import type { DialectName } from '../dialect.js';
import type { Database } from '../schema.js';
import { initialMigration } from './001-initial.js';
import { providerFactsMigration } from './002-provider-facts.js';
import { appFeedMigration } from './003-app-feed.js';
import { spacesKeysMigration } from './004-spaces-keys.js';
import { idempotencyRuleSetsMigration } from './005-idempotency-rulesets.js';
import { webhooksMigration } from './006-webhooks.js';
import { channelSettingsMigration } from './007-channel-settings.js';
import { receiptLookupsMigration } from './008-receipt-lookups.js';

/** Every migration by name. Kysely applies them in name order, so names start with a number. */
class InCodeMigrationProvider implements MigrationProvider {
  constructor(private readonly dialect: DialectName) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    return {
      '001-initial': initialMigration(this.dialect),
      '002-provider-facts': providerFactsMigration(),
      '003-app-feed': appFeedMigration(this.dialect),
      '004-spaces-keys': spacesKeysMigration(),
      '005-idempotency-rulesets': idempotencyRuleSetsMigration(),
      '006-webhooks': webhooksMigration(this.dialect),
      '007-channel-settings': channelSettingsMigration(),
      '008-receipt-lookups': receiptLookupsMigration(),
    };
  }
}

/** Apply every migration not applied yet; throws when one fails, after rolling it back. */
export async function migrateToLatest(db: Kysely<Database>, dialect: DialectName, logger: Logger, schema: string | null = null): Promise<void> {
  const migrator = new Migrator({ db, provider: new InCodeMigrationProvider(dialect), ...(schema === null ? {} : { migrationTableSchema: schema }) });
  const { error, results } = await migrator.migrateToLatest();
  for (const result of results ?? []) {
    if (result.status === 'Success') logger.info({ migration: result.migrationName }, 'migration applied');
    if (result.status === 'Error') logger.error({ migration: result.migrationName }, 'migration failed');
  }
  if (error !== undefined) {
    const failed = results?.find((result) => result.status === 'Error')?.migrationName;
    throw new Error(`Database migration ${failed ?? '(before any migration ran)'} failed`, { cause: error });
  }
}
