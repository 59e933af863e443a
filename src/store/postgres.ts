import { Kysely, PostgresDialect, sql, type Selectable, type Transaction } from 'kysely';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import type { StoreDialect } from './dialect.js';
import { KyselyStore } from './kysely-store.js';
import type { Database, JobsTable } from './schema.js';
import type { Store } from './types.js';

/** Type OID of `bigint` (int8), which pg returns as a string by default. */
const INT8_OID = 20;

/**
 * Reads `bigint` columns as numbers. They hold epoch milliseconds, counters and identity ids,
 * all far below 2^53, which the parser checks so that a value out of range fails loudly.
 */
function parseInt8(value: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) throw new RangeError(`bigint ${value} is out of range: a JavaScript number stores integers exactly only up to 2^53`);
  return parsed;
}

/**
 * Second keys of the outbox advisory locks. The first key is a hash of the schema, so that
 * Cascade installations in different schemas of one database do not wait for each other.
 */
const OUTBOX_LOCKS = { events: 1, inbound: 2 } as const;

function lockOutbox(trx: Transaction<Database>, source: keyof typeof OUTBOX_LOCKS) {
  return sql`select pg_advisory_xact_lock(hashtext(current_schema()), ${OUTBOX_LOCKS[source]})`.execute(trx);
}

/**
 * PostgreSQL specifics. Workers of any number of processes claim jobs concurrently: `FOR UPDATE
 * SKIP LOCKED` hands each due job to one of them, and a job whose lease expired is due again.
 */
export const postgresDialect: StoreDialect = {
  name: 'postgres',
  // The wire protocol counts parameters in 16 bits (65,535); a margin keeps multi-row inserts below it.
  maxParameters: 60_000,
  // Concurrent transactions could commit a larger identity id before a smaller one. A transaction
  // lock taken before the insert and held to commit makes outbox rows commit in id order, at the
  // cost of one outbox write committing at a time across every process.
  async lockOutbox(trx, source) {
    await lockOutbox(trx, source);
  },
  // Any grouped write may add events, and grouped writes take row locks before that, so every
  // group takes the events lock first. Grouped writes of all processes thus commit one at a time.
  async beginWrite(trx) {
    await lockOutbox(trx, 'events');
  },
  // One lock per app user, so that feeds of different users are written in parallel. Two users
  // whose names hash alike share a lock, which only makes them wait for each other.
  async lockFeed(trx, spaceId, appUserId) {
    await sql`select pg_advisory_xact_lock(hashtext(current_schema() || ':feed'), hashtext(${`${spaceId}/${appUserId}`}))`.execute(trx);
  },
  async claimJobs(db, owner, now, limit, leaseMs) {
    const result = await sql<Selectable<JobsTable>>`
      update jobs
      set lease_owner = ${owner}, lease_until = ${now + leaseMs}, claims = claims + 1
      where id in (
        select id from jobs
        where run_at <= ${now} and (lease_until is null or lease_until <= ${now})
        order by run_at, id
        limit ${limit}
        for update skip locked
      )
      returning *
    `.execute(db);
    return result.rows;
  },
};

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database`. */
  url: string;
  logger?: Logger;
  /** Connections in the pool. Default 10. */
  maxConnections?: number;
  /** Schema the tables live in, placed first on the search path. Default: the first schema of the server's search path. */
  schema?: string;
}

/** Open a PostgreSQL database as a `Store`. Call `migrate()` before use. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const logger = options.logger ?? pino({ enabled: false });
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
    ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
  });
  // An idle connection that the server drops emits an error on the pool; without a listener it would end the process.
  pool.on('error', (error) => logger.error({ err: error }, 'PostgreSQL connection failed while idle'));

  // The first connection shows at start-up whether the URL works, not at the first request.
  let schema: string;
  try {
    const client = await pool.connect();
    try {
      const result = await client.query<{ schema: string | null }>('select current_schema() as schema');
      const current = result.rows[0]?.schema ?? null;
      if (current === null) throw new Error('no schema on the search path exists; create one or set search_path in DATABASE_URL (options=-c search_path=…)');
      schema = current;
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end();
    throw new Error('Could not open PostgreSQL with DATABASE_URL; check host, port, database name, credentials and search_path', { cause: error });
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const url = new URL(options.url);
  logger.info({ host: url.hostname, port: url.port || '5432', database: url.pathname.slice(1), schema }, 'PostgreSQL database opened');
  // Kysely's migrator looks for its tables in every schema unless it gets the schema to use.
  return new KyselyStore(db, postgresDialect, logger, schema);
}
