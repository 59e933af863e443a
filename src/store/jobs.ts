import type { Insertable, Kysely, Selectable } from 'kysely';
import { uuidv7 } from '../ids.js';
import { chunkRows } from './chunks.js';
import type { StoreDialect } from './dialect.js';
import type { Database, JobsTable } from './schema.js';
import type { Job, NewJob } from './types.js';

const JOB_COLUMNS = 11;

export function newJobRow(spaceId: string, messageId: string, job: NewJob, now: number): Insertable<JobsTable> {
  return {
    id: uuidv7(now),
    space_id: spaceId,
    message_id: messageId,
    kind: job.kind,
    step: job.step,
    attempt: job.attempt,
    run_at: job.runAt,
    lease_owner: null,
    lease_until: null,
    claims: 0,
    created_at: now,
  };
}

export async function insertJobRows(db: Kysely<Database>, rows: Array<Insertable<JobsTable>>, maxParameters: number): Promise<void> {
  for (const chunk of chunkRows(rows, JOB_COLUMNS, maxParameters)) {
    await db.insertInto('jobs').values(chunk).execute();
  }
}

export async function enqueue(db: Kysely<Database>, spaceId: string, messageId: string, job: NewJob, now: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const message = await trx
      .selectFrom('messages')
      .select('id')
      .where('id', '=', messageId)
      .where('space_id', '=', spaceId)
      .executeTakeFirst();
    if (message === undefined) {
      throw new Error(`Cannot enqueue a ${job.kind} job: message ${messageId} not found in space ${spaceId}`);
    }
    await trx.insertInto('jobs').values(newJobRow(spaceId, messageId, job, now)).execute();
  });
}

export async function claimJobs(
  db: Kysely<Database>,
  dialect: StoreDialect,
  owner: string,
  now: number,
  limit: number,
  leaseMs: number,
): Promise<Job[]> {
  if (limit <= 0) return [];
  const rows = await dialect.claimJobs(db, owner, now, limit, leaseMs);
  // RETURNING gives no order, so restore the claim order here.
  rows.sort(compareClaimOrder);
  return rows.map((row) => ({ ...rowToJob(row), claims: row.claims - 1 }));
}

function compareClaimOrder(a: Selectable<JobsTable>, b: Selectable<JobsTable>): number {
  if (a.run_at !== b.run_at) return a.run_at - b.run_at;
  if (a.id === b.id) return 0;
  return a.id < b.id ? -1 : 1;
}

export async function completeJob(db: Kysely<Database>, jobId: string, owner: string): Promise<void> {
  await db.deleteFrom('jobs').where('id', '=', jobId).where('lease_owner', '=', owner).execute();
}

/** Extend the leases `owner` still holds on `jobIds` to `until`; returns how many it still held. */
export async function renewLeases(db: Kysely<Database>, owner: string, jobIds: readonly string[], until: number): Promise<number> {
  let renewed = 0;
  // Chunks stay far below every dialect's parameter limit.
  for (let start = 0; start < jobIds.length; start += 500) {
    const result = await db
      .updateTable('jobs')
      .set({ lease_until: until })
      .where('id', 'in', jobIds.slice(start, start + 500))
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    renewed += Number(result.numUpdatedRows);
  }
  return renewed;
}

export async function rescheduleJob(db: Kysely<Database>, jobId: string, owner: string, runAt: number): Promise<void> {
  await db
    .updateTable('jobs')
    .set({ run_at: runAt, lease_owner: null, lease_until: null })
    .where('id', '=', jobId)
    .where('lease_owner', '=', owner)
    .execute();
}

export async function nextJobAt(db: Kysely<Database>): Promise<number | null> {
  const row = await db
    .selectFrom('jobs')
    .select((eb) => eb.fn.min('run_at').as('next'))
    .where('lease_owner', 'is', null)
    .executeTakeFirst();
  return row?.next ?? null;
}

export async function releaseAllLeases(db: Kysely<Database>): Promise<number> {
  const result = await db
    .updateTable('jobs')
    .set({ lease_owner: null, lease_until: null })
    .where('lease_owner', 'is not', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export function rowToJob(row: Selectable<JobsTable>): Job {
  return {
    id: row.id,
    spaceId: row.space_id,
    messageId: row.message_id,
    kind: row.kind,
    step: row.step,
    attempt: row.attempt,
    runAt: row.run_at,
    leaseOwner: row.lease_owner,
    leaseUntil: row.lease_until,
    claims: row.claims,
  };
}
