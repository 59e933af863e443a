import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createStore } from '../../src/store/index.js';
import { openPostgresStore, postgresDialect } from '../../src/store/postgres.js';
import type { Database } from '../../src/store/schema.js';
import type { Store } from '../../src/store/types.js';
import { createTestSchema, postgresTestUrl, postgresUnavailable, withSearchPath } from '../support/postgres.js';
import { describeStoreContract } from './contract.js';
import { MINUTE, T0, newMessage } from './fixtures.js';

// Under CI=true the tests run even when PostgreSQL cannot be reached, so that they fail rather than skip.
const runs = (await postgresUnavailable()) === null || process.env.CI === 'true';


if (runs) {
  describeStoreContract('postgres', async () => {
    const { name: schema, drop } = await createTestSchema('cascade_test');
    return { open: () => openPostgresStore({ url: postgresTestUrl(), schema, maxConnections: 4 }), cleanup: drop };
  });
}

describe.runIf(runs)('postgres store', () => {
  const cleanups: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function openTwo(): Promise<[Store, Store]> {
    const { name: schema, drop } = await createTestSchema('cascade_test');
    cleanups.push(drop);
    const stores: Store[] = [];
    for (let index = 0; index < 2; index += 1) {
      const store = await openPostgresStore({ url: postgresTestUrl(), schema, maxConnections: 8 });
      cleanups.push(() => store.close());
      await store.migrate();
      stores.push(store);
    }
    return [stores[0]!, stores[1]!];
  }

  it('hands each job to one of two processes', async () => {
    const [first, second] = await openTwo();
    const messages = Array.from({ length: 300 }, (_, index) => newMessage({ createdAt: T0 + index }));
    await first.createMessages(messages);

    // Both stores claim at once, many times over, as workers of two processes would.
    const claimed: string[][] = [[], []];
    const claimAll = async (store: Store, index: number) => {
      for (;;) {
        const jobs = await store.claimJobs(`worker-${index}`, T0 + MINUTE, 7, MINUTE);
        if (jobs.length === 0) return;
        claimed[index]!.push(...jobs.map((job) => job.id));
      }
    };
    await Promise.all([claimAll(first, 0), claimAll(first, 0), claimAll(second, 1), claimAll(second, 1)]);

    const all = [...claimed[0]!, ...claimed[1]!];
    expect(new Set(all).size).toBe(all.length);
    expect(all).toHaveLength(messages.length);
    expect(claimed[0]!.length).toBeGreaterThan(0);
    expect(claimed[1]!.length).toBeGreaterThan(0);
  });

  it('stores concurrent first channel settings once', async () => {
    const [first, second] = await openTwo();
    const put = (store: Store, index: number) =>
      store.channelSettings.put({ spaceId: 'default', channel: 'sms', masked: { index }, sealed: `v1.k.${index}`, keyId: 'k', now: T0 + index });

    const results = await Promise.all(Array.from({ length: 20 }, (_, index) => put(index % 2 === 0 ? first : second, index)));

    expect(results.filter((result) => result.created)).toHaveLength(1);
    expect(await first.channelSettings.list('default')).toHaveLength(1);
  });

  type Lock = (trx: Transaction<Database>) => Promise<void>;

  /**
   * Holds `holderLock` in one transaction while `waiting` is taken in others, and returns the order of
   * events: each waiter records when it holds its lock, the holder when it commits. Waiters get
   * 200 ms to take their lock before the holder commits; one that must wait records after it.
   */
  async function contend(holderLock: Lock, waiting: Record<string, Lock>): Promise<string[]> {
    const { name: schema, drop } = await createTestSchema('cascade_test');
    cleanups.push(drop);
    const pool = new pg.Pool({ connectionString: withSearchPath(postgresTestUrl(), schema), max: 1 + Object.keys(waiting).length });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    cleanups.push(() => db.destroy());
    const order: string[] = [];
    let release = () => {};
    const holderMayCommit = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked = () => {};
    const holderLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });

    const holder = db.transaction().execute(async (trx) => {
      await holderLock(trx);
      locked();
      await holderMayCommit;
      order.push('holder commits');
    });
    await holderLocked;
    const waiters = Object.entries(waiting).map(([name, lock]) =>
      db.transaction().execute(async (trx) => {
        await lock(trx);
        order.push(`${name} holds its lock`);
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    release();
    await Promise.all([holder, ...waiters]);
    return order;
  }

  it('lets one outbox writer at a time commit', async () => {
    const events: Lock = async (trx) => postgresDialect.lockOutbox(trx, 'events');

    expect(await contend(events, { second: events })).toEqual(['holder commits', 'second holds its lock']);
  });

  it('lets one feed writer of an app user at a time commit', async () => {
    const feedOf = (appUserId: string): Lock => async (trx) => postgresDialect.lockFeed(trx, 'default', appUserId);

    const order = await contend(feedOf('alice'), { bob: feedOf('bob'), alice: feedOf('alice') });

    // Another user's writer goes ahead; the same user's waits for the commit.
    expect(order).toEqual(['bob holds its lock', 'holder commits', 'alice holds its lock']);
  });

  it('migrates the schema on the search path of the URL', async () => {
    const { name: schema, drop } = await createTestSchema('cascade_test');
    cleanups.push(drop);
    const store = await createStore({ databaseUrl: withSearchPath(postgresTestUrl(), schema), dataDir: '/nonexistent', logger: pino({ enabled: false }) });
    cleanups.push(() => store.close());

    await store.migrate();

    expect(store.dialect).toBe('postgres');
    const client = new pg.Client({ connectionString: postgresTestUrl() });
    await client.connect();
    const tables = await client.query<{ name: string }>('select table_name as name from information_schema.tables where table_schema = $1', [schema]);
    await client.end();
    expect(tables.rows.map((row) => row.name)).toEqual(expect.arrayContaining(['messages', 'jobs', 'channel_settings', 'kysely_migration']));
  });

  it('names the host and not the password when it cannot connect', async () => {
    const error = await openPostgresStore({ url: 'postgres://cascade:hunter2-secret@127.0.0.1:1/none' }).catch((caught: unknown) => caught);

    expect(String(error)).toContain('Could not open PostgreSQL with DATABASE_URL');
    expect(String(error)).not.toContain('hunter2-secret');
  });
});
