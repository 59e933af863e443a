import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { messageIdKeys } from '../../src/channels/sms/receipt.js';
import { DEFAULT_POLICIES } from '../../src/routing/policy.js';
import { startSandboxSmsc, type SandboxSmsc, type SandboxSmscOptions } from '../../src/sandbox/smsc.js';
import { startSandboxSmtp, type SandboxSmtp } from '../../src/sandbox/smtp.js';
import type { ServerOptions } from '../../src/server.js';
import { api, startTestServer, TEST_API_KEY, waitForMessage, type TestServer } from '../helpers/server.js';

interface Receipt { state: string; errorCode: string | null; providerMessageId: string }
interface Attempt { number: number; status: string; providerMessageId: string | null; errorCode: string | null; receipts: Receipt[] }
interface Step { index: number; channel: string; status: string; reason: string | null; attempts: Attempt[] }
interface TimelineEvent { type: string; step: number | null; attempt: number | null; data: Record<string, unknown> }
interface MessageBody {
  messageId: string;
  status: string;
  channel: string | null;
  completedAt: string | null;
  steps: Step[];
  events: TimelineEvent[];
}
interface Problem { status: number; title: string; detail: string }

const silent = pino({ level: 'silent' });
const WAIT = { timeout: 15_000, interval: 50 };
const THROTTLED = 0x58;

interface Stack {
  server: TestServer;
  smsc: SandboxSmsc;
  /** The sandbox relay, or null when the test passed its own SMTP URL. */
  smtp: SandboxSmtp | null;
}

interface StackOptions {
  smsc?: Partial<SandboxSmscOptions>;
  /** An SMTP relay started by the test; a sandbox relay is started when omitted. */
  smtpUrl?: string;
  server?: ServerOptions;
}

/** A gated SMTP relay: it receives a message, then delays its reply to DATA until `open` is called. */
interface GatedRelay {
  url: string;
  /** Resolves once the relay has received a message without replying, so the sender's call is in flight. */
  holding: Promise<void>;
  /** Lets the relay accept every held message and any later one. */
  open(): void;
  /** Number of messages the relay accepted. */
  accepted(): number;
  close(): Promise<void>;
}

async function startGatedRelay(): Promise<GatedRelay> {
  let signalHolding = (): void => {};
  const holding = new Promise<void>((resolve) => {
    signalHolding = resolve;
  });
  let openGate = (): void => {};
  const gate = new Promise<void>((resolve) => {
    openGate = resolve;
  });
  let acceptedCount = 0;

  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    disableReverseLookup: true,
    logger: false,
    closeTimeout: 1_000,
    onData(stream, _session, callback) {
      stream.on('data', () => {});
      stream.on('end', () => {
        signalHolding();
        void gate.then(() => {
          acceptedCount += 1;
          callback();
        });
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    holding,
    open: openGate,
    accepted: () => acceptedCount,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Reads one sample of a counter from `/metrics`; a labelled counter with no sample reads 0. */
async function metric(server: TestServer, name: string, labels: Record<string, string> = {}): Promise<number> {
  const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TEST_API_KEY}` } });
  expect(response.status).toBe(200);
  const text = await response.text();
  const expected = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const present = (match[2] ?? '').split(',');
    if (expected.every((label) => present.includes(label))) return Number(match[3]);
  }
  return 0;
}

function stepOf(message: MessageBody, channel: string): Step {
  const step = message.steps.find((candidate) => candidate.channel === channel);
  if (step === undefined) throw new Error(`message ${message.messageId} has no ${channel} step: ${JSON.stringify(message.steps)}`);
  return step;
}

function eventsOf(message: MessageBody, type: string): TimelineEvent[] {
  return message.events.filter((event) => event.type === type);
}

async function send(server: TestServer, request: Record<string, unknown>): Promise<string> {
  const created = await api<MessageBody>(server, 'POST', '/v1/messages', request);
  expect(created.status).toBe(201);
  return created.body.messageId;
}

describe('receipt timing over real sockets', () => {
  const cleanups: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** Starts an SMSC, an SMTP relay unless given, and a server that uses both instead of its own sandbox. */
  async function startStack(options: StackOptions = {}): Promise<Stack> {
    const smsc = await startSandboxSmsc({ host: '127.0.0.1', port: 0, logger: silent, ...options.smsc });
    cleanups.push(() => smsc.close());
    let smtp: SandboxSmtp | null = null;
    let smtpUrl = options.smtpUrl;
    if (smtpUrl === undefined) {
      const relay = await startSandboxSmtp({ host: '127.0.0.1', port: 0, logger: silent });
      cleanups.push(() => relay.close());
      smtp = relay;
      smtpUrl = relay.url;
    }
    const server = await startTestServer({ SANDBOX: '0', SMPP_URL: smsc.url, SMTP_URL: smtpUrl }, options.server);
    cleanups.push(() => server.dispose());
    return { server, smsc, smtp };
  }

  it('applies receipt sent before submit_sm_resp', async () => {
    const { server, smsc } = await startStack({ smsc: { receiptBeforeResponse: true } });

    const messageId = await send(server, { body: 'Early receipt', to: { phoneNumber: '+12025550101' }, rules: ['sms'] });
    const message = await waitForMessage<MessageBody>(server, messageId);

    expect(message.status).toBe('delivered');
    expect(message.channel).toBe('sms');
    const sms = stepOf(message, 'sms');
    expect(sms.status).toBe('succeeded');
    expect(sms.attempts).toHaveLength(1);
    const attempt = sms.attempts[0]!;
    expect(attempt.status).toBe('delivered');
    expect(attempt.receipts.map((receipt) => receipt.state)).toEqual(['delivered']);

    const submits = smsc.submits();
    expect(submits).toHaveLength(1);
    expect(attempt.providerMessageId).toBe(submits[0]!.messageId);
    // The SMSC sent submit_sm_resp only after Cascade had responded to the receipt, so the receipt was stored before its attempt was known.
    expect(await metric(server, 'cascade_receipts_total', { channel: 'sms', result: 'early' })).toBe(1);
    expect(await metric(server, 'cascade_receipts_total', { channel: 'sms', result: 'applied' })).toBe(1);
  });

  it('moves on after early failure receipt', async () => {
    const { server, smtp } = await startStack({ smsc: { receiptBeforeResponse: true } });

    const messageId = await send(server, {
      body: 'Early failure',
      title: 'Early failure',
      to: { phoneNumber: '+12025550102', email: 'early@example.com' },
      rules: ['sms', 'email'],
    });
    const message = await waitForMessage<MessageBody>(server, messageId);

    expect(message.status).toBe('sent');
    expect(message.channel).toBe('email');
    const sms = stepOf(message, 'sms');
    expect(sms.status).toBe('failed');
    expect(sms.reason).toBe('receipt-failed');
    expect(sms.attempts.map((attempt) => [attempt.status, attempt.errorCode])).toEqual([['failed', '001']]);
    expect(sms.attempts[0]!.receipts.map((receipt) => receipt.state)).toEqual(['failed']);
    expect(stepOf(message, 'email').status).toBe('succeeded');
    expect(smtp!.messages().filter((mail) => mail.to.includes('early@example.com'))).toHaveLength(1);
    expect(await metric(server, 'cascade_receipts_total', { channel: 'sms', result: 'early' })).toBe(1);
  });

  it('applies early receipts of every part', async () => {
    const { server, smsc } = await startStack({ smsc: { receiptBeforeResponse: true } });
    const text = 'Parcel 8812 update. '.repeat(20);

    const messageId = await send(server, { body: text, to: { phoneNumber: '+12025550101' }, rules: ['sms'] });
    const message = await waitForMessage<MessageBody>(server, messageId);

    expect(message.status).toBe('delivered');
    const attempt = stepOf(message, 'sms').attempts[0]!;
    expect(attempt.status).toBe('delivered');
    expect(attempt.receipts.map((receipt) => receipt.state)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(smsc.submits()).toHaveLength(3);
    expect(eventsOf(message, 'receipt.applied')).toHaveLength(1);
    expect(await metric(server, 'cascade_receipts_total', { channel: 'sms', result: 'early' })).toBe(3);
  });

  it('applies duplicate receipt once', async () => {
    const { server } = await startStack({ smsc: { duplicateReceipts: true } });

    const messageId = await send(server, { body: 'Twice reported', to: { phoneNumber: '+12025550101' }, rules: ['sms'] });
    await waitForMessage<MessageBody>(server, messageId);
    await vi.waitFor(async () => {
      expect(await metric(server, 'cascade_receipts_total', { channel: 'sms', result: 'duplicate' })).toBeGreaterThanOrEqual(1);
    }, WAIT);
    const message = await waitForMessage<MessageBody>(server, messageId);

    expect(message.status).toBe('delivered');
    const attempt = stepOf(message, 'sms').attempts[0]!;
    expect(attempt.status).toBe('delivered');
    expect(attempt.receipts.map((receipt) => receipt.state)).toEqual(['delivered']);
    expect(eventsOf(message, 'receipt.applied')).toHaveLength(1);
    expect(await metric(server, 'cascade_receipts_total', { channel: 'sms', result: 'applied' })).toBe(1);
  });

  // The copy names the id in hex (TLV) where the first named it in decimal (text), or the other way round.
  it('stores duplicate in other id form once', async () => {
    const { server } = await startStack({ smsc: { duplicateReceipts: true, duplicateInOtherIdForm: true } });

    const messageId = await send(server, { body: 'Twice in two forms', to: { phoneNumber: '+12025550101' }, rules: ['sms'] });
    await waitForMessage<MessageBody>(server, messageId);
    const received = async (): Promise<number> =>
      (await metric(server, 'cascade_receipts_total', { channel: 'sms', result: 'applied' })) +
      (await metric(server, 'cascade_receipts_total', { channel: 'sms', result: 'duplicate' }));
    await vi.waitFor(async () => expect(await received()).toBe(2), WAIT);
    const message = await waitForMessage<MessageBody>(server, messageId);

    expect(message.status).toBe('delivered');
    const attempt = stepOf(message, 'sms').attempts[0]!;
    expect(attempt.status).toBe('delivered');
    expect(eventsOf(message, 'receipt.applied')).toHaveLength(1);
    expect(attempt.receipts.map((receipt) => receipt.state)).toEqual(['delivered']);
    expect(await metric(server, 'cascade_receipts_total', { channel: 'sms', result: 'duplicate' })).toBe(1);
  });

  it('records late receipt after fallback finished', async () => {
    const { server, smsc, smtp } = await startStack({ smsc: { holdReceipts: true } });

    const messageId = await send(server, {
      body: 'Late receipt',
      title: 'Late receipt',
      to: { phoneNumber: '+12025550101', email: 'late@example.com' },
      rules: [{ channel: 'sms', fallbackAfter: 'PT1S' }, 'email'],
    });
    const finished = await waitForMessage<MessageBody>(server, messageId);
    expect(finished.status).toBe('sent');
    expect(finished.channel).toBe('email');
    expect(stepOf(finished, 'sms').status).toBe('timed-out');
    expect(stepOf(finished, 'sms').attempts[0]!.status).toBe('accepted');
    expect(stepOf(finished, 'email').status).toBe('succeeded');
    expect(smsc.heldReceipts()).toBe(1);

    expect(smsc.releaseReceipts()).toBe(1);
    const message = await waitForMessage<MessageBody>(server, messageId, (view) => stepOf(view, 'sms').attempts[0]!.receipts.length > 0);

    expect(message.status).toBe('sent');
    expect(message.channel).toBe('email');
    expect(message.completedAt).toBe(finished.completedAt);
    const sms = stepOf(message, 'sms');
    expect(sms.status).toBe('timed-out');
    expect(sms.attempts[0]!.status).toBe('delivered');
    expect(sms.attempts[0]!.receipts.map((receipt) => receipt.state)).toEqual(['delivered']);
    const late = eventsOf(message, 'receipt.late');
    expect(late).toHaveLength(1);
    expect(late[0]!.step).toBe(sms.index);
    expect(late[0]!.data['state']).toBe('delivered');
    expect(await metric(server, 'cascade_double_deliveries_total')).toBe(1);
    expect(smtp!.messages().filter((mail) => mail.to.includes('late@example.com'))).toHaveLength(1);
  });

  it('finishes on late receipt while email is in flight', async () => {
    const relay = await startGatedRelay();
    cleanups.push(() => relay.close());
    const { server, smsc } = await startStack({ smsc: { holdReceipts: true }, smtpUrl: relay.url });
    // Cleanups run in reverse order, so a held reply is released before the server stops.
    cleanups.push(async () => relay.open());

    const messageId = await send(server, {
      body: 'Late receipt in flight',
      title: 'Late receipt in flight',
      to: { phoneNumber: '+12025550101', email: 'inflight@example.com' },
      rules: [{ channel: 'sms', fallbackAfter: 'PT1S' }, 'email'],
    });
    await relay.holding;
    const sending = await waitForMessage<MessageBody>(server, messageId, (view) => stepOf(view, 'email').attempts.length > 0);
    expect(sending.completedAt).toBeNull();
    expect(stepOf(sending, 'sms').status).toBe('timed-out');
    expect(stepOf(sending, 'email').attempts[0]!.status).toBe('sending');

    expect(smsc.releaseReceipts()).toBe(1);
    const delivered = await waitForMessage<MessageBody>(server, messageId);

    expect(delivered.status).toBe('delivered');
    expect(delivered.channel).toBe('sms');
    expect(stepOf(delivered, 'sms').status).toBe('succeeded');
    expect(stepOf(delivered, 'sms').attempts[0]!.status).toBe('delivered');
    // The email step was already handed to the relay, so it is neither cancelled nor recalled.
    expect(stepOf(delivered, 'email').status).not.toBe('cancelled');
    expect(eventsOf(delivered, 'receipt.late')).toHaveLength(1);
    expect(await metric(server, 'cascade_double_deliveries_total')).toBe(1);

    relay.open();
    const settled = await waitForMessage<MessageBody>(server, messageId, (view) => stepOf(view, 'email').attempts[0]!.status !== 'sending');

    expect(stepOf(settled, 'email').attempts[0]!.status).toBe('accepted');
    expect(settled.status).toBe('delivered');
    expect(settled.channel).toBe('sms');
    expect(settled.completedAt).toBe(delivered.completedAt);
    expect(relay.accepted()).toBe(1);
    expect(await metric(server, 'cascade_double_deliveries_total')).toBe(1);
  });

  it('delivers multi-part SMS after every part', async () => {
    const { server, smsc } = await startStack({ smsc: { holdReceipts: true } });
    const text = 'Parcel 8812 update. '.repeat(20);
    expect(text).toHaveLength(400);

    const messageId = await send(server, { body: text, to: { phoneNumber: '+12025550101' }, rules: ['sms'] });
    const waiting = await waitForMessage<MessageBody>(server, messageId, (view) => stepOf(view, 'sms').status === 'waiting');
    expect(waiting.status).toBe('sent');

    const submits = smsc.submits();
    expect(submits).toHaveLength(3);
    expect(submits.map((submit) => submit.concat?.sequence)).toEqual([1, 2, 3]);
    expect(submits.every((submit) => submit.concat?.total === 3)).toBe(true);
    expect(new Set(submits.map((submit) => submit.concat?.reference)).size).toBe(1);
    expect(submits.map((submit) => submit.text).join('')).toBe(text);
    expect(smsc.heldReceipts()).toBe(3);

    expect(smsc.releaseReceipts(2)).toBe(2);
    const partial = await waitForMessage<MessageBody>(server, messageId, (view) => stepOf(view, 'sms').attempts[0]!.receipts.length === 2);
    expect(partial.status).toBe('sent');
    expect(partial.completedAt).toBeNull();
    expect(stepOf(partial, 'sms').status).toBe('waiting');
    expect(stepOf(partial, 'sms').attempts[0]!.status).toBe('accepted');

    expect(smsc.releaseReceipts()).toBe(1);
    const message = await waitForMessage<MessageBody>(server, messageId);

    expect(message.status).toBe('delivered');
    expect(message.channel).toBe('sms');
    const attempt = stepOf(message, 'sms').attempts[0]!;
    expect(attempt.status).toBe('delivered');
    expect(attempt.providerMessageId).toBe(submits[0]!.messageId);
    expect(attempt.receipts.map((receipt) => receipt.state)).toEqual(['delivered', 'delivered', 'delivered']);
    // Receipts name their part in hex or decimal; each part has exactly one.
    for (const submit of submits) {
      const partKeys = messageIdKeys(submit.messageId!);
      const matching = attempt.receipts.filter((receipt) => messageIdKeys(receipt.providerMessageId).some((key) => partKeys.includes(key)));
      expect(matching, `receipts of part ${submit.concat?.sequence}`).toHaveLength(1);
    }
    expect(eventsOf(message, 'receipt.applied')).toHaveLength(1);
  });

  it('retries throttled SMS until delivered', async () => {
    const policies = { ...DEFAULT_POLICIES, sms: { ...DEFAULT_POLICIES.sms, backoffBaseMs: 20, backoffMaxMs: 100 } };
    const { server, smsc } = await startStack({ server: { policies } });

    const messageId = await send(server, { body: 'Throttled', to: { phoneNumber: '+12025550105' }, rules: ['sms'] });
    const message = await waitForMessage<MessageBody>(server, messageId);

    expect(message.status).toBe('delivered');
    const sms = stepOf(message, 'sms');
    expect(sms.status).toBe('succeeded');
    expect(sms.attempts.map((attempt) => [attempt.number, attempt.status, attempt.errorCode])).toEqual([
      [1, 'error', 'ESME_RTHROTTLED'],
      [2, 'error', 'ESME_RTHROTTLED'],
      [3, 'delivered', null],
    ]);
    expect(sms.attempts[2]!.receipts.map((receipt) => receipt.state)).toEqual(['delivered']);
    expect(smsc.submits().map((submit) => submit.commandStatus)).toEqual([THROTTLED, THROTTLED, 0]);
  });

  it('falls back after permanent SMS rejection', async () => {
    const { server, smsc, smtp } = await startStack();

    const messageId = await send(server, {
      body: 'Rejected number',
      title: 'Rejected number',
      to: { phoneNumber: '+12025550104', email: 'rejected@example.com' },
      rules: ['sms', 'email'],
    });
    const message = await waitForMessage<MessageBody>(server, messageId);

    expect(message.status).toBe('sent');
    expect(message.channel).toBe('email');
    const sms = stepOf(message, 'sms');
    expect(sms.status).toBe('failed');
    expect(sms.reason).toBe('permanent-error');
    expect(sms.attempts).toHaveLength(1);
    expect(sms.attempts[0]!.status).toBe('failed');
    expect(sms.attempts[0]!.errorCode).toBe('ESME_RINVDSTADR');
    expect(stepOf(message, 'email').status).toBe('succeeded');
    expect(smsc.submits()).toHaveLength(1);
    expect(smtp!.messages().filter((mail) => mail.to.includes('rejected@example.com'))).toHaveLength(1);
  });

  it('expires message without receipt', async () => {
    const { server } = await startStack();

    const expiresOn = new Date(Date.now() + 2_000).toISOString();
    const messageId = await send(server, { body: 'Expiring', to: { phoneNumber: '+12025550103' }, rules: ['sms'], expiresOn });
    const message = await waitForMessage<MessageBody>(server, messageId);

    expect(message.status).toBe('expired');
    expect(message.channel).toBeNull();
    const sms = stepOf(message, 'sms');
    expect(sms.status).toBe('cancelled');
    expect(sms.attempts.map((attempt) => attempt.status)).toEqual(['accepted']);
  });

  it('cancels message waiting for receipt', async () => {
    const { server } = await startStack();

    const messageId = await send(server, { body: 'Never reported', to: { phoneNumber: '+12025550103' }, rules: ['sms'] });
    await waitForMessage<MessageBody>(server, messageId, (view) => stepOf(view, 'sms').status === 'waiting');

    const cancelled = await api<MessageBody>(server, 'POST', `/v1/messages/${messageId}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect(cancelled.body.completedAt).not.toBeNull();
    expect(stepOf(cancelled.body, 'sms').status).toBe('cancelled');

    const stored = await api<MessageBody>(server, 'GET', `/v1/messages/${messageId}`);
    expect(stored.body.status).toBe('cancelled');

    const again = await api<Problem>(server, 'POST', `/v1/messages/${messageId}/cancel`);
    expect(again.status).toBe(409);
    expect(again.contentType).toMatch(/^application\/problem\+json/);
    expect(again.body.detail).toContain('cancelled');
  });

  it('keeps cancelled status after late receipt', async () => {
    const { server, smsc } = await startStack({ smsc: { holdReceipts: true } });

    const messageId = await send(server, { body: 'Cancelled then delivered', to: { phoneNumber: '+12025550101' }, rules: ['sms'] });
    await waitForMessage<MessageBody>(server, messageId, (view) => stepOf(view, 'sms').status === 'waiting');
    const cancelled = await api<MessageBody>(server, 'POST', `/v1/messages/${messageId}/cancel`);
    expect(cancelled.status).toBe(200);

    expect(smsc.releaseReceipts()).toBe(1);
    const message = await waitForMessage<MessageBody>(server, messageId, (view) => stepOf(view, 'sms').attempts[0]!.receipts.length > 0);

    expect(message.status).toBe('cancelled');
    expect(message.channel).toBeNull();
    expect(message.completedAt).toBe(cancelled.body.completedAt);
    const sms = stepOf(message, 'sms');
    expect(sms.status).toBe('cancelled');
    expect(sms.attempts[0]!.status).toBe('delivered');
    expect(eventsOf(message, 'receipt.late')).toHaveLength(1);
    // A cancelled message has no succeeded step, so no delivery counts as a second one.
    expect(await metric(server, 'cascade_double_deliveries_total')).toBe(0);
  });
});
