import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, sql, SqliteDialect, type SqliteDatabase } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/store/group-commit.js';
import type { Database } from '../../src/store/schema.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { ConflictError, type Store } from '../../src/store/types.js';
import { FAR_FUTURE, HOUR, MINUTE, T0, createOne, decision, mustLoad, newMessage, withStep } from './fixtures.js';

let dir = '';

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cascade-group-commit-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('GroupCommit', () => {
  let database: BetterSqlite3.Database;
  let db: Kysely<Database>;
  let begins = 0;

  beforeEach(() => {
    database = new BetterSqlite3(join(dir, 'group.sqlite'));
    database.exec('create table items (value integer not null)');
    begins = 0;
    // Counts the transactions Kysely opens on this database.
    const counting: SqliteDatabase = {
      close: () => database.close(),
      prepare: (text) => {
        if (text === 'begin') begins += 1;
        return database.prepare(text);
      },
    };
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: counting }) });
  });

  afterEach(async () => {
    await db.destroy();
  });

  const insert = (value: number) => async (trx: Kysely<Database>) => {
    await sql`insert into items (value) values (${value})`.execute(trx);
    return value;
  };
  const stored = () => database.prepare('select value from items order by value').pluck().all();

  it('commits writes of one turn in one transaction', async () => {
    const group = new GroupCommit(db);

    const results = await Promise.all([1, 2, 3, 4, 5].map((value) => group.run(insert(value))));

    expect(results).toEqual([1, 2, 3, 4, 5]);
    expect(stored()).toEqual([1, 2, 3, 4, 5]);
    expect(begins).toBe(1);
  });

  it('resolves only after the commit', async () => {
    const group = new GroupCommit(db);
    const reader = new BetterSqlite3(join(dir, 'group.sqlite'), { readonly: true });
    try {
      const seen = await group.run(insert(7)).then(() => reader.prepare('select count(*) from items').pluck().get());
      expect(seen).toBe(1);
    } finally {
      reader.close();
    }
  });

  it('rolls back a throwing write alone', async () => {
    const group = new GroupCommit(db);
    const failure = new Error('write 2 failed');

    const results = await Promise.allSettled([
      group.run(insert(1)),
      group.run(async (trx) => {
        await insert(2)(trx);
        throw failure;
      }),
      group.run(insert(3)),
    ]);

    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(results[1]).toEqual({ status: 'rejected', reason: failure });
    expect(stored()).toEqual([1, 3]);
    expect(begins).toBe(1);
  });

  it('retries each write alone when the transaction fails', async () => {
    const group = new GroupCommit(db);

    const results = await Promise.allSettled([
      group.run(insert(1)),
      // Ending the transaction from inside a write breaks the shared transaction, as an I/O
      // error would, so the group is written again one write at a time.
      group.run(async (trx) => {
        await insert(2)(trx);
        await sql`rollback`.execute(trx);
      }),
      group.run(insert(3)),
    ]);

    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(stored()).toEqual([1, 3]);
    expect(begins).toBe(4);
  });

  it('settled waits for submitted writes', async () => {
    const group = new GroupCommit(db);
    void group.run(insert(1));
    void group.run(insert(2));

    await group.settled();

    expect(stored()).toEqual([1, 2]);
  });
});

describe('sqlite store with concurrent writes', () => {
  let store: Store;
  let file = '';

  beforeEach(async () => {
    file = join(dir, 'cascade.sqlite');
    store = await openSqliteStore({ file });
    await store.migrate();
  });

  afterEach(async () => {
    await store.close();
  });

  it('commits every concurrent createMessages call', async () => {
    const messages = Array.from({ length: 20 }, (_, index) => newMessage({ createdAt: T0 + index }));

    await Promise.all(messages.map((message) => store.createMessages([message])));

    const page = await store.listMessages('default', { limit: 50 });
    expect(page.items.map((item) => item.id).sort()).toEqual(messages.map((message) => message.id).sort());
    const jobs = await store.claimJobs('worker-1', FAR_FUTURE, 50, MINUTE);
    expect(jobs).toHaveLength(20);
  });

  it('a failing call rejects alone and writes nothing', async () => {
    const existing = await createOne(store);
    const before = newMessage({ createdAt: T0 + 1 });
    const fresh = newMessage({ createdAt: T0 + 2, profileId: 'cust-1' });
    const duplicate = newMessage({ id: existing.id, createdAt: T0 + 3 });
    const after = newMessage({ createdAt: T0 + 4, profileId: 'cust-2' });

    const results = await Promise.allSettled([
      store.createMessages([before]),
      store.createMessages([fresh, duplicate]),
      store.createMessages([after]),
    ]);

    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await store.getMessage('default', before.id)).not.toBeNull();
    expect(await store.getMessage('default', after.id)).not.toBeNull();
    expect(await store.getMessage('default', fresh.id)).toBeNull();
    expect(await store.getProfile('default', 'cust-1')).toBeNull();
    expect(await store.getProfile('default', 'cust-2')).not.toBeNull();
    const jobs = await store.claimJobs('worker-1', FAR_FUTURE, 10, MINUTE);
    expect(jobs.map((job) => job.messageId).sort()).toEqual([existing.id, before.id, after.id].sort());
  });

  it('a call resolves after its commit is visible to another connection', async () => {
    const message = newMessage();
    await store.createMessages([message]);

    const reader = new BetterSqlite3(file, { readonly: true });
    try {
      expect(reader.prepare('select count(*) from messages where id = ?').pluck().get(message.id)).toBe(1);
    } finally {
      reader.close();
    }
  });

  it('concurrent calls merge a profile in call order', async () => {
    await store.putProfile('default', 'cust-1', { addresses: { email: 'first@example.com' } }, T0);
    const calls = [
      newMessage({ profileId: 'cust-1', to: { email: 'second@example.com' }, createdAt: T0 + HOUR }),
      newMessage({ profileId: 'cust-1', to: { email: 'third@example.com' }, createdAt: T0 + 2 * HOUR }),
      // Changes nothing, so it leaves updatedAt at the previous change.
      newMessage({ profileId: 'cust-1', to: { email: 'third@example.com' }, createdAt: T0 + 3 * HOUR }),
    ];

    await Promise.all(calls.map((message) => store.createMessages([message])));

    const profile = await store.getProfile('default', 'cust-1');
    expect(profile?.addresses).toEqual({ email: 'third@example.com' });
    expect(profile?.createdAt).toBe(T0);
    expect(profile?.updatedAt).toBe(T0 + 2 * HOUR);
  });

  it('a stale decision fails alone among concurrent decisions', async () => {
    const first = await createOne(store);
    const second = await createOne(store, { createdAt: T0 + 1 });
    const firstLoaded = await mustLoad(store, 'default', first.id);
    const secondLoaded = await mustLoad(store, 'default', second.id);
    const started = (state: typeof firstLoaded.state) => withStep(state, 0, { status: 'sending', startedAt: T0 + MINUTE });

    const results = await Promise.allSettled([
      store.applyDecision(decision(firstLoaded, started(firstLoaded.state), T0 + MINUTE, { version: firstLoaded.version + 1 })),
      store.applyDecision(decision(secondLoaded, started(secondLoaded.state), T0 + MINUTE)),
    ]);

    expect(results[0]?.status).toBe('rejected');
    expect(results[0]?.status === 'rejected' ? results[0].reason : null).toBeInstanceOf(ConflictError);
    expect(results[1]?.status).toBe('fulfilled');
    expect((await mustLoad(store, 'default', first.id)).state.steps[0]?.status).toBe('pending');
    expect((await mustLoad(store, 'default', second.id)).state.steps[0]?.status).toBe('sending');
  });

  it('reports committed jobs before the call resolves', async () => {
    const reports: number[] = [];
    const stopListening = store.onJobsCommitted((runAt) => reports.push(runAt));
    const scheduled = newMessage({ sendAt: T0 + HOUR, expiresAt: T0 + 2 * HOUR });

    await store.createMessages([scheduled]);
    const afterCreate = [...reports];
    const loaded = await mustLoad(store, 'default', scheduled.id);
    await store.applyDecision(
      decision(loaded, loaded.state, T0, { jobs: [{ kind: 'receipt-timeout', step: 0, attempt: null, runAt: T0 + 3 * HOUR }] }),
    );
    const afterDecision = [...reports];
    stopListening();
    await store.createMessages([newMessage({ createdAt: T0 + 1 })]);

    expect(afterCreate).toEqual([T0 + HOUR]);
    expect(afterDecision).toEqual([T0 + HOUR, T0 + 3 * HOUR]);
    expect(reports).toEqual(afterDecision);
  });
});
