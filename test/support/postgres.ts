import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Returns the database tests create their schemas in: `TEST_DATABASE_URL`, else the local `test` database. */
export function postgresTestUrl(): string {
  return process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

/**
 * Returns null when PostgreSQL accepts a connection at `postgresTestUrl()`, else the reason it does not. Outside CI, tests
 * that need it are skipped with that reason; under `CI=true` they fail instead.
 */
export async function postgresUnavailable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: postgresTestUrl(), connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const message = `PostgreSQL tests need a database at ${postgresTestUrl()} (set TEST_DATABASE_URL): ${reason}`;
    if (process.env.CI !== 'true') console.warn(`skipping: ${message}`);
    return message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Returns the URL with `schema` first on the search path, through the `options` connection parameter. */
export function withSearchPath(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('options', `-c search_path=${schema}`);
  return parsed.toString();
}

async function runQuery(query: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresTestUrl() });
  await client.connect();
  try {
    await client.query(query);
  } finally {
    await client.end();
  }
}

export interface TestSchema {
  /** Name of the schema, `prefix` and random hex. */
  name: string;
  /** The test database URL with this schema first on the search path. */
  url: string;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

/** Creates an empty schema in the test database, so that each test gets tables of its own. */
export async function createTestSchema(prefix: string): Promise<TestSchema> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await runQuery(`create schema ${name}`);
  return { name, url: withSearchPath(postgresTestUrl(), name), drop: () => runQuery(`drop schema if exists ${name} cascade`) };
}
