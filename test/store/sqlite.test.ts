import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStore } from '../../src/store/index.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { describeStoreContract } from './contract.js';

describeStoreContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cascade-store-'));
  const file = join(dir, 'nested', 'cascade.sqlite');
  return {
    open: () => openSqliteStore({ file }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('sqlite store', () => {
  let dir = '';
  const logger = pino({ enabled: false });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cascade-store-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('createStore opens cascade.sqlite in the data directory', async () => {
    const dataDir = join(dir, 'data', 'deeper');
    const store = await createStore({ databaseUrl: null, dataDir, logger });
    await store.migrate();
    await store.close();

    expect(store.dialect).toBe('sqlite');
    expect(existsSync(join(dataDir, 'cascade.sqlite'))).toBe(true);
  });

  it('createStore names an unknown scheme without the password', async () => {
    const error = await createStore({ databaseUrl: 'mysql://user:secret@localhost/cascade', dataDir: dir, logger }).catch((caught: unknown) => caught);

    expect(String(error)).toContain('"mysql"');
    expect(String(error)).not.toContain('secret');
  });

  it('migrate creates the default space in WAL mode', async () => {
    const file = join(dir, 'cascade.sqlite');
    const store = await openSqliteStore({ file });
    await store.migrate();
    await store.close();

    const database = new BetterSqlite3(file, { readonly: true });
    try {
      expect(database.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(database.prepare('select id from spaces').all()).toEqual([{ id: 'default' }]);
    } finally {
      database.close();
    }
  });

  it('migrate twice leaves the schema as it is', async () => {
    const file = join(dir, 'cascade.sqlite');
    const first = await openSqliteStore({ file });
    await first.migrate();
    await first.close();

    const second = await openSqliteStore({ file });
    await second.migrate();
    await second.close();

    const database = new BetterSqlite3(file, { readonly: true });
    try {
      expect(database.prepare('select count(*) as spaces from spaces').get()).toEqual({ spaces: 1 });
    } finally {
      database.close();
    }
  });
});
