/** Messages between the benchmark (parent) and a server child process, sent over the fork IPC channel. */

/** Path of the bare server's echo route. */
export const ECHO_PATH = '/v1/echo';

/** The server a child process runs. `cascade-postgres` reads its `DATABASE_URL` from the environment the parent gives it. */
export type ServerKind = 'bare' | 'cascade-sqlite' | 'cascade-postgres';

/** The database a Cascade server of the benchmark stores its data in. */
export type StoreKind = 'sqlite' | 'postgres';

/** One `submit_sm` the sandbox SMSC accepted, reduced to what the benchmark matches and times. */
export interface SubmitSample {
  /** `message_id` returned in `submit_sm_resp`. */
  messageId: string;
  destination: string;
  /** Epoch ms at which the SMSC received the `submit_sm`. */
  receivedAt: number;
}

/** Memory and CPU time of the child process at one moment. */
export interface ProcessUsage {
  /** Resident set size in bytes. */
  rss: number;
  /** User plus system CPU time since the process started, in microseconds. */
  cpuMicros: number;
}

/** Resident set size samples taken inside the child every `intervalMs`. */
export interface MemorySamples {
  intervalMs: number;
  count: number;
  /** Largest RSS seen, in bytes. */
  peakRss: number;
}

export type ParentRequest =
  | { id: number; type: 'usage' }
  | { id: number; type: 'start-sampling'; intervalMs: number }
  | { id: number; type: 'stop-sampling' }
  | { id: number; type: 'submits' }
  | { id: number; type: 'close' };

export type ChildReply =
  | { type: 'ready'; url: string; apiKey: string | null }
  | { type: 'failed'; error: string }
  | { id: number; type: 'usage'; usage: ProcessUsage }
  | { id: number; type: 'sampling-started' }
  | { id: number; type: 'samples'; samples: MemorySamples }
  | { id: number; type: 'submits'; submits: SubmitSample[] }
  | { id: number; type: 'closed' }
  | { id: number; type: 'error'; error: string };
