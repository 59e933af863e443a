import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxSmsc, type SandboxSmsc } from '../../src/sandbox/smsc.js';
import { startSandboxSmtp, type SandboxSmtp } from '../../src/sandbox/smtp.js';
import { api, TEST_API_KEY } from '../helpers/server.js';
import { createTestSchema, postgresUnavailable, type TestSchema } from '../support/postgres.js';

interface Attempt { number: number; status: string }
interface Step { channel: string; attempts: Attempt[] }
interface MessageBody { messageId: string; status: string; completedAt: string | null; steps: Step[] }
interface Page { items: MessageBody[]; nextCursor: string | null }

const MESSAGES = 300;
const NUMBERS = ['+12025550101', '+12025550102', '+12025550105', '+12025550177'];
const FINAL = new Set(['delivered', 'read', 'sent', 'failed', 'filtered', 'expired', 'cancelled']);

interface ServerProcess {
  child: ChildProcess;
  url: string;
}

/** Start `npm start`'s entry point as its own process and wait for its banner. */
function startProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts'], {
    cwd: join(import.meta.dirname, '..', '..'),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve({ child, url: match[1]! });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening:\n${output}`)));
  });
}

async function listAll(server: { url: string }): Promise<MessageBody[]> {
  const items: MessageBody[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const page = await api<Page>(server, 'GET', `/v1/messages?limit=100${query}`);
    expect(page.status).toBe(200);
    items.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor);
  return items;
}

/**
 * Waits until every message is final, then checks that no accepted attempt was submitted again:
 * a submit beyond an attempt's own belongs to an attempt the kill left in doubt.
 */
async function expectEveryMessageFinished(server: { url: string }, smsc: SandboxSmsc): Promise<void> {
  const deadline = Date.now() + 60_000;
  let messages = await listAll(server);
  while (messages.some((message) => message.completedAt === null) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    messages = await listAll(server);
  }

  expect(messages).toHaveLength(MESSAGES);
  for (const message of messages) {
    expect(FINAL.has(message.status), `${message.messageId} ended ${message.status}`).toBe(true);
    expect(message.completedAt, `${message.messageId} has no completedAt`).not.toBeNull();
  }

  const submitsByText = new Map<string, number>();
  for (const submit of smsc.submits()) submitsByText.set(submit.text, (submitsByText.get(submit.text) ?? 0) + 1);

  let inDoubtAttempts = 0;
  for (const message of messages) {
    const detail = await api<MessageBody & { request: { body: string } }>(server, 'GET', `/v1/messages/${message.messageId}`);
    const attempts = detail.body.steps.find((step) => step.channel === 'sms')?.attempts ?? [];
    const submits = submitsByText.get(detail.body.request.body) ?? 0;
    const inDoubt = attempts.filter((attempt) => attempt.status === 'in-doubt').length;
    inDoubtAttempts += inDoubt;
    const settled = attempts.length - inDoubt;
    // Each attempt submits at most once, so a submit beyond the settled attempts belongs to an in-doubt one.
    expect(submits, `submits of ${message.messageId}`).toBeLessThanOrEqual(attempts.length);
    expect(submits - settled, `repeated submits of ${message.messageId}`).toBeLessThanOrEqual(inDoubt);
  }
  // The kill caught send calls waiting for their submit_sm_resp, so some attempts are in doubt.
  expect(inDoubtAttempts).toBeGreaterThan(0);
}

describe('crash recovery', () => {
  let smsc: SandboxSmsc;
  let smtp: SandboxSmtp;
  let dataDir: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    const logger = pino({ level: 'silent' });
    // Slow submit responses keep send calls in flight when the process is killed.
    smsc = await startSandboxSmsc({ host: '127.0.0.1', port: 0, logger, responseDelayMs: 200 });
    smtp = await startSandboxSmtp({ host: '127.0.0.1', port: 0, logger });
    dataDir = await mkdtemp(join(tmpdir(), 'cascade-crash-'));
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await smsc.close();
    await smtp.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('resumes every message after SIGKILL without resending accepted attempts', async () => {
    const env = {
      PORT: '0',
      DATA_DIR: dataDir,
      API_KEY: TEST_API_KEY,
      SANDBOX: '0',
      SMPP_URL: smsc.url,
      SMTP_URL: smtp.url,
      LOG_LEVEL: 'warn',
    };
    const first = await startProcess(env);
    children.push(first.child);

    const batch = await api<{ accepted: Array<{ index: number; messageId: string }> }>(first, 'POST', '/v1/messages/batch', {
      messages: Array.from({ length: MESSAGES }, (_, index) => ({
        body: `crash test ${index}`,
        to: { phoneNumber: NUMBERS[index % NUMBERS.length], email: `user${index}@example.com` },
        rules: ['sms', 'email'],
      })),
    });
    expect(batch.status).toBe(202);
    expect(batch.body.accepted).toHaveLength(MESSAGES);

    // Kill the process while submits are still going out.
    await smsc.waitForSubmit(() => smsc.submits().length >= 40, 20_000);
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    const submitsAtKill = smsc.submits().length;
    expect(submitsAtKill).toBeLessThan(MESSAGES * 2);

    const second = await startProcess(env);
    children.push(second.child);

    await expectEveryMessageFinished(second, smsc);
  }, 120_000);
});

// Under CI=true the test runs even when PostgreSQL cannot be reached, so that it fails rather than skips.
const postgresRuns = (await postgresUnavailable()) === null || process.env.CI === 'true';

describe.runIf(postgresRuns)('crash recovery on PostgreSQL', () => {
  let schema: TestSchema;
  let smsc: SandboxSmsc;
  let smtp: SandboxSmtp;
  const dataDirs: string[] = [];
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    const logger = pino({ level: 'silent' });
    // Submit responses slow enough that the first process still has sends in flight once the second has started.
    smsc = await startSandboxSmsc({ host: '127.0.0.1', port: 0, logger, responseDelayMs: 1_000 });
    smtp = await startSandboxSmtp({ host: '127.0.0.1', port: 0, logger });
    schema = await createTestSchema('cascade_crash');
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await smsc.close();
    await smtp.close();
    for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
    await schema?.drop();
  });

  it('finishes the messages of a killed process in another one', async () => {
    const shared = {
      PORT: '0',
      API_KEY: TEST_API_KEY,
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      DATABASE_URL: schema.url,
      SANDBOX: '0',
      SMPP_URL: smsc.url,
      SMTP_URL: smtp.url,
      LOG_LEVEL: 'warn',
      // Short leases, so that the killed process's jobs are free again soon.
      WORKER_LEASE_SECONDS: '5',
    };
    const start = async (): Promise<ServerProcess> => {
      const dataDir = await mkdtemp(join(tmpdir(), 'cascade-crash-pg-'));
      dataDirs.push(dataDir);
      const started = await startProcess({ ...shared, DATA_DIR: dataDir });
      children.push(started.child);
      return started;
    };
    const doomed = await start();

    const batch = await api<{ accepted: unknown[] }>(doomed, 'POST', '/v1/messages/batch', {
      messages: Array.from({ length: MESSAGES }, (_, index) => ({
        body: `postgres crash test ${index}`,
        to: { phoneNumber: NUMBERS[index % NUMBERS.length], email: `user${index}@example.com` },
        rules: ['sms', 'email'],
      })),
    });
    expect(batch.status).toBe(202);
    expect(batch.body.accepted).toHaveLength(MESSAGES);

    // The first process sends alone until the second has started. Then both claim jobs, and the
    // first is killed while its submits wait for their responses.
    await smsc.waitForSubmit(() => smsc.submits().length >= 1, 20_000);
    const survivor = await start();
    doomed.child.kill('SIGKILL');
    await new Promise((resolve) => doomed.child.once('exit', resolve));
    expect(smsc.submits().length).toBeLessThan(MESSAGES);

    await expectEveryMessageFinished(survivor, smsc);
  }, 120_000);
});
