/**
 * PostgreSQL for the benchmark: checks that the database can be used, creates and drops one
 * schema per Cascade server, and reads the CPU time of the PostgreSQL processes that serve it.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';

const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
const CONNECT_TIMEOUT_MS = 3_000;
/** Bounds the wait for locks when a schema is dropped, for a server process that was killed mid-transaction. */
const DROP_LOCK_TIMEOUT = '10s';
const SCHEMA_PREFIX = 'cascade_bench_';

/** Returns the database the benchmark creates its schemas in: `BENCH_DATABASE_URL`, else the local `test` database. */
export function benchDatabaseUrl(): string {
  const url = process.env.BENCH_DATABASE_URL?.trim();
  return url ? url : DEFAULT_DATABASE_URL;
}

/** Returns `url` without its password, for the report and the console. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    parsed.search = '';
    return parsed.toString();
  } catch {
    return 'an invalid URL';
  }
}

/** Result of `probePostgres`: the database's version and settings, or the reason it cannot be used. */
export type PostgresStatus =
  | {
      available: true;
      /** The URL without its password. */
      location: string;
      /** `server_version`, such as `15.20 (Debian 15.20-0+deb12u1)`. */
      version: string;
      /** `synchronous_commit`: with `on`, every commit waits until its WAL is flushed to disk. */
      synchronousCommit: string;
      /** The host is a loopback address or a Unix socket, so PostgreSQL shares this machine's cores. */
      local: boolean;
    }
  | { available: false; location: string; reason: string };

function isLocalHost(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
    return host === '' || host === 'localhost' || host === '::1' || host.startsWith('127.') || host.startsWith('%2F') || host.startsWith('%2f');
  } catch {
    return false;
  }
}

/**
 * Connects to `url`, reads the server's version and `synchronous_commit`, and checks that the
 * user may create a schema (in a transaction that is rolled back). Never throws: a failure
 * returns the reason, so that the benchmark can skip the PostgreSQL measurements and report it.
 */
export async function probePostgres(url: string): Promise<PostgresStatus> {
  const location = redactUrl(url);
  let client: pg.Client;
  try {
    client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  } catch (error) {
    return { available: false, location, reason: errorText(error) };
  }
  try {
    await client.connect();
    const version = await client.query<{ server_version: string }>('show server_version');
    const synchronousCommit = await client.query<{ synchronous_commit: string }>('show synchronous_commit');
    await client.query('begin');
    await client.query(`create schema ${SCHEMA_PREFIX}probe`);
    await client.query('rollback');
    return {
      available: true,
      location,
      version: version.rows[0]?.server_version ?? 'unknown',
      synchronousCommit: synchronousCommit.rows[0]?.synchronous_commit ?? 'unknown',
      local: isLocalHost(url),
    };
  } catch (error) {
    return { available: false, location, reason: errorText(error) };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** One schema created for one Cascade server. */
export interface BenchSchema {
  name: string;
  /** The database URL the benchmark connects with to create and drop the schema and read `pg_stat_activity`. */
  adminUrl: string;
  /** `DATABASE_URL` for the server: the schema first on its search path, and the schema name as `application_name`. */
  serverUrl: string;
}

/** Creates a schema with a random name in the database at `url`. */
export async function createBenchSchema(url: string): Promise<BenchSchema> {
  const name = `${SCHEMA_PREFIX}${randomBytes(6).toString('hex')}`;
  await withClient(url, (client) => client.query(`create schema ${name}`));
  const serverUrl = new URL(url);
  serverUrl.searchParams.set('options', `-c search_path=${name}`);
  // The application name marks the server's connections in `pg_stat_activity`, so their CPU time can be read.
  serverUrl.searchParams.set('application_name', name);
  return { name, adminUrl: url, serverUrl: serverUrl.toString() };
}

/** Drops the schema and everything in it. */
export async function dropBenchSchema(schema: BenchSchema): Promise<void> {
  await withClient(schema.adminUrl, async (client) => {
    await client.query(`set lock_timeout = '${DROP_LOCK_TIMEOUT}'`);
    await client.query(`drop schema if exists ${schema.name} cascade`);
  });
}

/** Interval between samples of the PostgreSQL processes that serve a server. */
export const POSTGRES_SAMPLE_INTERVAL_MS = 50;

/** How many of a server's connections were in each `pg_stat_activity` state, on average over a measurement. */
export interface ConnectionStates {
  samples: number;
  /** Running a statement. */
  active: number;
  /** In a transaction, waiting for the server's next statement or its commit (`idle in transaction`). */
  idleInTransaction: number;
  /** Open, outside a transaction. */
  idle: number;
}

/** Measurements of a `PostgresMonitor` between its start and stop. */
export interface PostgresUsage {
  /** CPU time (user and system) in microseconds, or null when the processes' CPU time could not be read. */
  cpuMicros: number | null;
  /** Connection states, or null when a sample failed. */
  connections: ConnectionStates | null;
}

/**
 * Samples, every 50 ms on a connection of its own, the PostgreSQL processes that serve one
 * server: the backends whose `application_name` is the schema's name, that is, the server's
 * connections, and PostgreSQL's background processes such as the WAL writer and checkpointer.
 * Process ids and connection states come from `pg_stat_activity`, CPU times from `/proc/<pid>/stat`.
 *
 * Sampling throughout, rather than reading at both ends, keeps the CPU time of a backend whose
 * connection closes in between (pg's pool closes connections idle for 10 s): only its time since
 * its last sample is lost. A process that starts in between counts from zero.
 *
 * CPU time is unknown when the process ids are not PostgreSQL processes of this machine, as when
 * PostgreSQL runs on another host, in a container with its own process ids, or without `/proc`.
 */
export class PostgresMonitor {
  /** CPU time in microseconds at each process's first and latest sample, by process id. */
  #first = new Map<number, number>();
  #latest = new Map<number, number>();
  #cpuUnknown = false;
  #states = { active: 0, idleInTransaction: 0, idle: 0 };
  #samples = 0;
  #failed = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();

  private constructor(
    private readonly schema: BenchSchema,
    private readonly client: pg.Client,
  ) {}

  /** Connects, takes the first sample, whose CPU times are the baseline, and keeps sampling until `stop`. */
  static async start(schema: BenchSchema): Promise<PostgresMonitor> {
    const client = new pg.Client({ connectionString: schema.adminUrl, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    await client.connect();
    const monitor = new PostgresMonitor(schema, client);
    try {
      await monitor.#sample(true);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    monitor.#schedule();
    return monitor;
  }

  /** Takes a last sample, closes the connection and returns the usage since `start`. */
  async stop(): Promise<PostgresUsage> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
    await this.#sample(false).catch(() => {
      this.#failed = true;
    });
    await this.client.end().catch(() => undefined);

    let cpuMicros: number | null = null;
    if (!this.#cpuUnknown && !this.#failed) {
      cpuMicros = 0;
      for (const [pid, latest] of this.#latest) cpuMicros += latest - (this.#first.get(pid) ?? 0);
    }
    const samples = this.#samples;
    const connections =
      this.#failed || samples === 0
        ? null
        : {
            samples,
            active: this.#states.active / samples,
            idleInTransaction: this.#states.idleInTransaction / samples,
            idle: this.#states.idle / samples,
          };
    return { cpuMicros, connections };
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.#running = this.#sample(false).then(
        () => {
          if (!this.#stopped) this.#schedule();
        },
        () => {
          this.#failed = true;
        },
      );
    }, POSTGRES_SAMPLE_INTERVAL_MS);
  }

  async #sample(baseline: boolean): Promise<void> {
    const result = await this.client.query<{ pid: number; state: string | null; server: boolean }>(
      "select pid, state, application_name = $1 as server from pg_stat_activity where application_name = $1 or backend_type <> 'client backend'",
      [this.schema.name],
    );
    for (const { pid, state, server } of result.rows) {
      if (server) {
        if (state === 'active') this.#states.active += 1;
        else if (state === 'idle in transaction') this.#states.idleInTransaction += 1;
        else if (state === 'idle') this.#states.idle += 1;
      }
      if (this.#cpuUnknown) continue;
      const micros = readProcessCpuMicros(pid);
      if (micros === 'ended') continue;
      if (micros === null) {
        this.#cpuUnknown = true;
        continue;
      }
      // A process first seen after the baseline started since the previous sample, so it counts from zero.
      if (!this.#first.has(pid)) this.#first.set(pid, baseline ? micros : 0);
      this.#latest.set(pid, micros);
    }
    this.#samples += 1;
  }
}

/**
 * Returns the CPU time (user and system) of PostgreSQL process `pid` in microseconds, `ended`
 * when it exited since `pg_stat_activity` listed it, or null when it is not a PostgreSQL process
 * of this machine or `/proc` cannot be read.
 */
function readProcessCpuMicros(pid: number): number | 'ended' | null {
  let comm: string;
  let stat: string;
  try {
    comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' && readableProc() ? 'ended' : null;
  }
  if (comm !== 'postgres') return null;
  // Fields after the command name, which is in parentheses and may contain spaces: state is
  // field 3 of proc(5), so utime (field 14) and stime (field 15) are at indexes 11 and 12.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? (ticks / clockTicksPerSecond()) * 1_000_000 : null;
}

let clockTicks: number | null = null;

/** Returns `getconf CLK_TCK`, the unit of the times in `/proc/<pid>/stat`, or 100 when getconf is missing. */
function clockTicksPerSecond(): number {
  if (clockTicks !== null) return clockTicks;
  try {
    clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    clockTicks = 100;
  }
  return clockTicks;
}

function readableProc(): boolean {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function errorText(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return error.errors.map(errorText).join('; ');
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
