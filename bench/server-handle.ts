import { fork, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ChildReply, MemorySamples, ParentRequest, ProcessUsage, ServerKind, SubmitSample } from './ipc.js';
import { createBenchSchema, dropBenchSchema, type BenchSchema } from './postgres.js';

const SCRIPT = fileURLToPath(new URL('./server-process.ts', import.meta.url));
const START_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 30_000;
/** The child allows itself 15 s to close the server; this adds time for the process to exit. */
const EXIT_TIMEOUT_MS = 20_000;
/** Log lines kept verbatim per server for the report; the rest are only counted. */
const MAX_KEPT_LOG_LINES = 5;
/** How long `killAllServers` waits for the schemas of killed servers to be dropped. */
const KILL_DROP_TIMEOUT_MS = 15_000;

/** Warnings and errors a server process wrote while the benchmark ran. */
export interface ServerLog {
  /** pino lines at level warn (40). */
  warnings: number;
  /** pino lines at level error (50) or fatal (60), plus stderr lines. */
  errors: number;
  /** The first few of those lines, shortened. */
  firstLines: string[];
}

type RequestType = ParentRequest['type'];
type Pending = { resolve(reply: ChildReply): void; reject(error: Error): void; timer: NodeJS.Timeout };

const running = new Set<ServerProcess>();

/** One server in a child process, with its own temporary data folder and, on PostgreSQL, its own schema. */
export class ServerProcess {
  readonly log: ServerLog = { warnings: 0, errors: 0, firstLines: [] };
  url = '';
  apiKey: string | null = null;
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #exited: Promise<number | null>;
  #stopped = false;

  private constructor(
    readonly label: string,
    readonly dataDir: string,
    /** The schema of a `cascade-postgres` server, or null for the other kinds. */
    readonly database: BenchSchema | null,
    private readonly child: ChildProcess,
  ) {
    this.#exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    child.on('message', (reply: ChildReply) => this.#onReply(reply));
    child.once('exit', (code, signal) => {
      for (const pending of this.#pending.values()) {
        clearTimeout(pending.timer);
        pending.reject(new Error(`server process "${label}" exited (code ${code}, signal ${signal}) before it replied`));
      }
      this.#pending.clear();
    });
    if (child.stdout) createInterface({ input: child.stdout }).on('line', (line) => this.#onLogLine(line));
    if (child.stderr) createInterface({ input: child.stderr }).on('line', (line) => this.#onStderrLine(line));
  }

  /**
   * Forks a child running `kind` and resolves once its server listens. A `cascade-postgres`
   * server gets a new schema in the database at `databaseUrl`, which `stop` drops.
   */
  static async start(kind: ServerKind, label: string, databaseUrl: string | null = null): Promise<ServerProcess> {
    if (kind === 'cascade-postgres' && databaseUrl === null) throw new Error(`server "${label}" runs on PostgreSQL but no database URL was given`);
    const dataDir = await mkdtemp(join(tmpdir(), 'cascade-bench-'));
    let database: BenchSchema | null = null;
    if (kind === 'cascade-postgres' && databaseUrl !== null) {
      try {
        database = await createBenchSchema(databaseUrl);
      } catch (error) {
        await rm(dataDir, { recursive: true, force: true });
        throw new Error(`creating a PostgreSQL schema for server "${label}" failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
    }
    const child = fork(SCRIPT, [kind, dataDir], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // The child builds its configuration from fixed values. Besides PATH, it needs only the
      // URL of its schema, passed in the environment rather than argv because it may contain a password.
      env: { PATH: process.env.PATH ?? '', ...(database === null ? {} : { DATABASE_URL: database.serverUrl }) },
    });
    const server = new ServerProcess(label, dataDir, database, child);
    running.add(server);
    try {
      const ready = await server.#waitForReady();
      server.url = ready.url;
      server.apiKey = ready.apiKey;
      return server;
    } catch (error) {
      await server.stop();
      throw error;
    }
  }

  async usage(): Promise<ProcessUsage> {
    const reply = await this.#request('usage');
    if (reply.type !== 'usage') throw new Error(`unexpected reply ${reply.type} to usage`);
    return reply.usage;
  }

  async startSampling(intervalMs: number): Promise<void> {
    await this.#request('start-sampling', { intervalMs });
  }

  async stopSampling(): Promise<MemorySamples> {
    const reply = await this.#request('stop-sampling');
    if (reply.type !== 'samples') throw new Error(`unexpected reply ${reply.type} to stop-sampling`);
    return reply.samples;
  }

  async submits(): Promise<SubmitSample[]> {
    const reply = await this.#request('submits');
    if (reply.type !== 'submits') throw new Error(`unexpected reply ${reply.type} to submits`);
    return reply.submits;
  }

  /**
   * Closes the server, waits for the child to exit (killing it with SIGKILL after 20 s), deletes
   * the data folder and drops the schema. Safe to call more than once.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.#request('close').catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), EXIT_TIMEOUT_MS);
      });
      const exited = await Promise.race([this.#exited.then(() => true), timedOut]);
      clearTimeout(timer);
      if (!exited) {
        this.#recordError(`server process "${this.label}" did not exit within ${EXIT_TIMEOUT_MS} ms of close; killed`);
        this.child.kill('SIGKILL');
        await this.#exited;
      }
    }
    running.delete(this);
    await rm(this.dataDir, { recursive: true, force: true });
    await this.#dropSchema();
  }

  async #dropSchema(): Promise<void> {
    if (this.database === null) return;
    try {
      await dropBenchSchema(this.database);
    } catch (error) {
      const message = `dropping PostgreSQL schema ${this.database.name} of server "${this.label}" failed: ${error instanceof Error ? error.message : String(error)}; drop it by hand`;
      this.#recordError(message);
      console.error(`bench: ${message}`);
    }
  }

  /** Kills the child at once and deletes the data folder, for the benchmark's deadline. Returns once the schema is dropped. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.#exited;
    }
    rmSync(this.dataDir, { recursive: true, force: true });
    await this.#dropSchema();
  }

  #waitForReady(): Promise<{ url: string; apiKey: string | null }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`server process "${this.label}" did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      const onMessage = (reply: ChildReply) => {
        if (reply.type === 'ready') finish(null, { url: reply.url, apiKey: reply.apiKey });
        if (reply.type === 'failed') finish(new Error(`server process "${this.label}" failed to start: ${reply.error}`));
      };
      const onExit = (code: number | null) => finish(new Error(`server process "${this.label}" exited with code ${code} during start-up`));
      const finish = (error: Error | null, ready?: { url: string; apiKey: string | null }) => {
        clearTimeout(timer);
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
        if (error !== null) reject(error);
        else if (ready !== undefined) resolve(ready);
      };
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
    });
  }

  #request(type: RequestType, extra: Record<string, unknown> = {}): Promise<ChildReply> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`server process "${this.label}" did not reply to "${type}" within ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      this.#pending.set(id, { resolve, reject, timer });
      this.child.send({ id, type, ...extra } as ParentRequest, (error) => {
        if (error === null) return;
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(error);
      });
    });
  }

  #onReply(reply: ChildReply): void {
    if (!('id' in reply)) return;
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    this.#pending.delete(reply.id);
    clearTimeout(pending.timer);
    if (reply.type === 'error') pending.reject(new Error(`server process "${this.label}": ${reply.error}`));
    else pending.resolve(reply);
  }

  #onLogLine(line: string): void {
    let level = 0;
    let text = line;
    try {
      const entry = JSON.parse(line) as { level?: unknown; msg?: unknown; err?: { message?: unknown } };
      level = typeof entry.level === 'number' ? entry.level : 0;
      const errorText = typeof entry.err?.message === 'string' ? `: ${entry.err.message}` : '';
      text = `${typeof entry.msg === 'string' ? entry.msg : line}${errorText}`;
    } catch {
      // Not a pino line: count it as an error, since the server writes nothing else to stdout.
      level = 50;
    }
    if (level >= 50) this.#recordError(text);
    else if (level >= 40) this.#record('warnings', text);
  }

  #onStderrLine(line: string): void {
    if (line.trim() !== '') this.#recordError(line);
  }

  #recordError(text: string): void {
    this.#record('errors', text);
  }

  #record(kind: 'warnings' | 'errors', text: string): void {
    this.log[kind] += 1;
    if (this.log.firstLines.length < MAX_KEPT_LOG_LINES) this.log.firstLines.push(`${kind === 'errors' ? 'error' : 'warn'}: ${text.slice(0, 200)}`);
  }
}

/**
 * Kills every server process still running, deletes their data folders and drops their
 * schemas, for when the benchmark hits its deadline. Returns after at most 15 s, so a schema
 * whose drop is still waiting then is left behind, and its name is printed.
 */
export async function killAllServers(): Promise<void> {
  const servers = [...running];
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), KILL_DROP_TIMEOUT_MS);
  });
  const killed = Promise.allSettled(servers.map((server) => server.kill())).then(() => true as const);
  const finished = await Promise.race([killed, timedOut]);
  clearTimeout(timer);
  if (!finished) {
    const schemas = servers.flatMap((server) => (server.database === null ? [] : [server.database.name]));
    if (schemas.length > 0) console.error(`bench: dropping the schemas of the killed servers did not finish within ${KILL_DROP_TIMEOUT_MS} ms; any of ${schemas.join(', ')} may remain`);
  }
}

/** Stops every server process still running and deletes their data folders. */
export async function stopAllServers(): Promise<void> {
  await Promise.allSettled([...running].map((server) => server.stop()));
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
