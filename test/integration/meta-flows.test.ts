import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { signMetaPayload } from '../../src/channels/meta/signature.js';
import { DEFAULT_POLICIES } from '../../src/routing/policy.js';
import { startSandboxGraph, type GraphRequestRecord, type SandboxGraph } from '../../src/sandbox/graph.js';
import type { ServerOptions } from '../../src/server.js';
import { api, startTestServer, waitForMessage, type TestServer } from '../helpers/server.js';

interface Receipt { state: string; errorCode: string | null; providerMessageId: string; providerTimestamp: string | null; receivedAt: string }
interface Attempt { number: number; status: string; providerMessageId: string | null; errorCode: string | null; receipts: Receipt[] }
interface Step { index: number; channel: string; status: string; reason: string | null; attempts: Attempt[] }
interface TimelineEvent { type: string; step: number | null; attempt: number | null; data: Record<string, unknown> }
interface MessageBody {
  messageId: string;
  status: string;
  channel: string | null;
  updatedAt: string;
  completedAt: string | null;
  steps: Step[];
  events: TimelineEvent[];
}

const silent = pino({ level: 'silent' });
const APP_SECRET = 'meta-flows-app-secret';
const VERIFY_TOKEN = 'meta-flows-verify-token';
const WEBHOOK_PATH = '/v1/providers/meta/webhook';
const WAIT = { timeout: 15_000, interval: 50 };
/** The sandbox's WhatsApp business number id, which status webhooks name. */
const PHONE_NUMBER_ID = '100000000000001';

interface Stack {
  server: TestServer;
  graph: SandboxGraph;
}

function stepOf(message: MessageBody, channel: string): Step {
  const step = message.steps.find((candidate) => candidate.channel === channel);
  if (step === undefined) throw new Error(`message ${message.messageId} has no ${channel} step: ${JSON.stringify(message.steps)}`);
  return step;
}

async function send(server: TestServer, request: Record<string, unknown>): Promise<string> {
  const created = await api<MessageBody>(server, 'POST', '/v1/messages', request);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.messageId;
}

function requestsTo(graph: SandboxGraph, channel: GraphRequestRecord['channel'], to: string): GraphRequestRecord[] {
  return graph.requests().filter((record) => record.channel === channel && record.to === to);
}

/**
 * Sends an inbound message through the sandbox Graph API and waits until Cascade has stored it,
 * which opens the messaging window for `address` and clears an unreachable mark on it.
 */
async function writeAsPerson(stack: Stack, channel: 'whatsApp' | 'fbMessenger', from: string, address: string): Promise<void> {
  const response = await fetch(`${stack.graph.url}/sandbox/inbound`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ channel, from, text: 'hi' }),
  });
  expect(response.status).toBe(202);
  await vi.waitFor(async () => {
    expect(await stack.server.store.lastInboundAt('default', channel, address)).not.toBeNull();
  }, WAIT);
}

/** Builds a WhatsApp status webhook body for one message, in the shape the Cloud API posts. */
function whatsAppStatus(wamid: string, status: string, recipientDigits: string): Buffer {
  const body = {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '100000000000003',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550001234', phone_number_id: PHONE_NUMBER_ID },
              statuses: [{ id: wamid, status, timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: recipientDigits }],
            },
          },
        ],
      },
    ],
  };
  return Buffer.from(JSON.stringify(body), 'utf8');
}

async function postWebhook(server: TestServer, raw: Buffer, signature: string | null): Promise<{ status: number; text: string }> {
  const response = await fetch(`${server.url}${WEBHOOK_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature === null ? {} : { 'x-hub-signature-256': signature }) },
    body: raw,
  });
  return { status: response.status, text: await response.text() };
}

describe('WhatsApp and Messenger flows over real sockets', () => {
  const cleanups: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** Starts a server with its sandbox SMSC, SMTP relay and Graph API, and a known app secret and verify token. */
  async function startStack(options: ServerOptions = {}): Promise<Stack> {
    const server = await startTestServer({ META_APP_SECRET: APP_SECRET, META_VERIFY_TOKEN: VERIFY_TOKEN }, options);
    cleanups.push(() => server.dispose());
    expect(server.sandbox.graph).not.toBeNull();
    return { server, graph: server.sandbox.graph! };
  }

  /**
   * Starts a Graph sandbox whose delivery and read webhooks are due only after the test ends,
   * and a server that uses it for both channels, so a test can post the statuses itself.
   */
  async function startHeldStack(): Promise<Stack> {
    const graph = await startSandboxGraph({
      host: '127.0.0.1',
      port: 0,
      appSecret: APP_SECRET,
      token: 'held-whatsapp-token',
      pageToken: 'held-page-token',
      logger: silent,
      statusDelayMs: 600_000,
      readDelayMs: 600_000,
    });
    cleanups.push(() => graph.close());
    const server = await startTestServer({
      META_APP_SECRET: APP_SECRET,
      WHATSAPP_API_URL: graph.url,
      WHATSAPP_TOKEN: 'held-whatsapp-token',
      WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
      MESSENGER_API_URL: graph.url,
      MESSENGER_PAGE_TOKEN: 'held-page-token',
    });
    cleanups.push(() => server.dispose());
    expect(server.sandbox.graph).toBeNull();
    graph.setWebhookUrl(`${server.url}${WEBHOOK_PATH}`);
    return { server, graph };
  }

  /** Sends a template to `phoneNumber` on the held stack and returns the message id and wamid once the Graph API accepted it. */
  async function sendHeldTemplate(stack: Stack, phoneNumber: string): Promise<{ messageId: string; wamid: string }> {
    const messageId = await send(stack.server, {
      body: 'Your parcel has shipped',
      to: { phoneNumber },
      rules: ['whatsApp'],
      customBody: { whatsApp: { type: 'template', template: { name: 'parcel_shipped', language: { code: 'en_US' } } } },
    });
    const accepted = await waitForMessage<MessageBody>(stack.server, messageId, (view) => stepOf(view, 'whatsApp').attempts[0]?.status === 'accepted');
    const wamid = stepOf(accepted, 'whatsApp').attempts[0]!.providerMessageId;
    expect(wamid).toMatch(/^wamid\./);
    return { messageId, wamid: wamid! };
  }

  it('WhatsApp in window ends read', async () => {
    const stack = await startStack();
    await writeAsPerson(stack, 'whatsApp', '+12025550111', '+12025550111');

    const messageId = await send(stack.server, {
      body: 'Your parcel arrives today',
      to: { phoneNumber: '+12025550111' },
      rules: [{ channel: 'whatsApp', fallbackUnless: 'read' }],
    });
    const message = await waitForMessage<MessageBody>(stack.server, messageId);

    expect(message.status).toBe('read');
    expect(message.channel).toBe('whatsApp');
    const whatsApp = stepOf(message, 'whatsApp');
    expect(whatsApp.status).toBe('succeeded');
    expect(whatsApp.attempts).toHaveLength(1);
    const attempt = whatsApp.attempts[0]!;
    expect(attempt.status).toBe('read');
    expect(attempt.providerMessageId).toMatch(/^wamid\./);
    expect(attempt.receipts.map((receipt) => receipt.state)).toEqual(['delivered', 'read']);
    for (const receipt of attempt.receipts) {
      expect(receipt.providerMessageId).toBe(attempt.providerMessageId);
      expect(receipt.errorCode).toBeNull();
      expect(receipt.providerTimestamp).toMatch(/^\d{4}-\d{2}-\d{2}T/);
      expect(receipt.receivedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    }

    const sent = requestsTo(stack.graph, 'whatsApp', '12025550111');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.path).toBe(`/v21.0/${PHONE_NUMBER_ID}/messages`);
    expect(sent[0]!.providerMessageId).toBe(attempt.providerMessageId);
    expect(sent[0]!.body).toMatchObject({ messaging_product: 'whatsapp', type: 'text', text: { body: 'Your parcel arrives today' } });
  });

  it('WhatsApp template needs no window', async () => {
    const stack = await startStack();
    const template = { type: 'template', template: { name: 'parcel_shipped', language: { code: 'en_US' } } };

    const messageId = await send(stack.server, {
      body: 'Your parcel has shipped',
      to: { phoneNumber: '+12025550121' },
      rules: ['whatsApp'],
      customBody: { whatsApp: template },
    });
    const message = await waitForMessage<MessageBody>(stack.server, messageId);

    expect(message.status).toBe('delivered');
    expect(message.channel).toBe('whatsApp');
    const attempt = stepOf(message, 'whatsApp').attempts[0]!;
    expect(attempt.status).toBe('delivered');
    expect(attempt.receipts.map((receipt) => receipt.state)).toEqual(['delivered']);
    const sent = requestsTo(stack.graph, 'whatsApp', '12025550121');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.status).toBe(200);
    expect(sent[0]!.body).toMatchObject({ to: '12025550121', ...template });
  });

  it('WhatsApp outside window skips to SMS', async () => {
    const stack = await startStack();

    const messageId = await send(stack.server, {
      body: 'Your parcel arrives today',
      to: { phoneNumber: '+12025550122' },
      rules: ['whatsApp', 'sms'],
    });
    const message = await waitForMessage<MessageBody>(stack.server, messageId);

    expect(message.status).toBe('delivered');
    expect(message.channel).toBe('sms');
    const whatsApp = stepOf(message, 'whatsApp');
    expect(whatsApp.status).toBe('skipped');
    expect(whatsApp.reason).toBe('ineligible');
    expect(whatsApp.attempts).toEqual([]);
    expect(stepOf(message, 'sms').status).toBe('succeeded');
    expect(stepOf(message, 'sms').attempts[0]!.receipts.map((receipt) => receipt.state)).toEqual(['delivered']);
    expect(stack.graph.requests().filter((record) => record.channel === 'whatsApp')).toEqual([]);
    expect(stack.server.sandbox.smsc!.submits().filter((submit) => submit.destination.endsWith('12025550122'))).toHaveLength(1);
  });

  it('WhatsApp failed status falls back to SMS', async () => {
    const stack = await startStack();
    await writeAsPerson(stack, 'whatsApp', '+12025550112', '+12025550112');

    const messageId = await send(stack.server, {
      body: 'Your parcel arrives today',
      to: { phoneNumber: '+12025550112' },
      rules: ['whatsApp', 'sms'],
    });
    const message = await waitForMessage<MessageBody>(stack.server, messageId);

    expect(message.status).toBe('delivered');
    expect(message.channel).toBe('sms');
    const whatsApp = stepOf(message, 'whatsApp');
    expect(whatsApp.status).toBe('failed');
    expect(whatsApp.reason).toBe('receipt-failed');
    expect(whatsApp.attempts).toHaveLength(1);
    expect(whatsApp.attempts[0]!.status).toBe('failed');
    expect(whatsApp.attempts[0]!.receipts.map((receipt) => [receipt.state, receipt.errorCode])).toEqual([['failed', '131026']]);
    expect(stepOf(message, 'sms').status).toBe('succeeded');
  });

  // Error 131026 in a failed status means the number is not on WhatsApp, which a send error with
  // the same code already marks unreachable.
  it('WhatsApp failed status marks number unreachable', async () => {
    const stack = await startStack();
    await writeAsPerson(stack, 'whatsApp', '+12025550112', '+12025550112');
    const request = { body: 'Your parcel arrives today', to: { phoneNumber: '+12025550112' }, rules: ['whatsApp', 'sms'] };

    const first = await waitForMessage<MessageBody>(stack.server, await send(stack.server, request));
    expect(stepOf(first, 'whatsApp').reason).toBe('receipt-failed');

    const second = await waitForMessage<MessageBody>(stack.server, await send(stack.server, request));
    expect(second.channel).toBe('sms');
    expect(stepOf(second, 'whatsApp').status).toBe('skipped');
    expect(stepOf(second, 'whatsApp').reason).toBe('no-address');
    expect(requestsTo(stack.graph, 'whatsApp', '12025550112')).toHaveLength(1);
  });

  // Without an inbound message the standard messaging window is closed, so the step uses the
  // ACCOUNT_UPDATE tag, which Messenger allows at any time. An inbound message would also clear
  // the unreachable mark that the second send checks.
  it('Messenger unavailable person falls back to SMS', async () => {
    const stack = await startStack();
    const request = {
      body: 'Your password was changed',
      to: { fbMessengerId: 'psid-unavailable', phoneNumber: '+12025550101' },
      rules: ['fbMessenger', 'sms'],
      channelOptions: { fbMessenger: { messagingType: 'MESSAGE_TAG', messageTag: 'ACCOUNT_UPDATE' } },
    };

    const first = await waitForMessage<MessageBody>(stack.server, await send(stack.server, request));
    expect(first.status).toBe('delivered');
    expect(first.channel).toBe('sms');
    const messenger = stepOf(first, 'fbMessenger');
    expect(messenger.status).toBe('failed');
    expect(messenger.reason).toBe('permanent-error');
    expect(messenger.attempts).toHaveLength(1);
    expect(messenger.attempts[0]!.status).toBe('failed');
    expect(messenger.attempts[0]!.errorCode).toBe('graph-551');
    expect(stepOf(first, 'sms').status).toBe('succeeded');
    expect(requestsTo(stack.graph, 'fbMessenger', 'psid-unavailable')).toHaveLength(1);
    expect(requestsTo(stack.graph, 'fbMessenger', 'psid-unavailable')[0]!.body).toMatchObject({ messaging_type: 'MESSAGE_TAG', tag: 'ACCOUNT_UPDATE' });

    const second = await waitForMessage<MessageBody>(stack.server, await send(stack.server, request));
    expect(second.status).toBe('delivered');
    expect(second.channel).toBe('sms');
    expect(stepOf(second, 'fbMessenger').status).toBe('skipped');
    expect(stepOf(second, 'fbMessenger').reason).toBe('no-address');
    expect(stepOf(second, 'fbMessenger').attempts).toEqual([]);
    expect(requestsTo(stack.graph, 'fbMessenger', 'psid-unavailable')).toHaveLength(1);

    // A message from the person clears the mark, so the next send calls the Send API again.
    await writeAsPerson(stack, 'fbMessenger', 'psid-unavailable', 'psid-unavailable');
    const third = await waitForMessage<MessageBody>(stack.server, await send(stack.server, request));
    expect(stepOf(third, 'fbMessenger').status).toBe('failed');
    expect(requestsTo(stack.graph, 'fbMessenger', 'psid-unavailable')).toHaveLength(2);
  });

  it('WhatsApp rate limit retried until delivered', async () => {
    const policies = { ...DEFAULT_POLICIES, whatsApp: { ...DEFAULT_POLICIES.whatsApp, backoffBaseMs: 20, backoffMaxMs: 100 } };
    const stack = await startStack({ policies });
    await writeAsPerson(stack, 'whatsApp', '+12025550113', '+12025550113');

    const messageId = await send(stack.server, {
      body: 'Your parcel arrives today',
      to: { phoneNumber: '+12025550113' },
      rules: ['whatsApp'],
    });
    const message = await waitForMessage<MessageBody>(stack.server, messageId);

    expect(message.status).toBe('delivered');
    expect(message.channel).toBe('whatsApp');
    const whatsApp = stepOf(message, 'whatsApp');
    expect(whatsApp.status).toBe('succeeded');
    expect(whatsApp.attempts.map((attempt) => [attempt.number, attempt.status, attempt.errorCode])).toEqual([
      [1, 'error', 'graph-130429'],
      [2, 'error', 'graph-130429'],
      [3, 'delivered', null],
    ]);
    expect(whatsApp.attempts[2]!.receipts.map((receipt) => receipt.state)).toEqual(['delivered']);
    expect(requestsTo(stack.graph, 'whatsApp', '12025550113').map((record) => record.status)).toEqual([400, 400, 200]);
  });

  it('Messenger unread step times out to SMS', async () => {
    const stack = await startStack();
    await writeAsPerson(stack, 'fbMessenger', 'psid-quiet', 'psid-quiet');

    const messageId = await send(stack.server, {
      body: 'Please confirm your appointment',
      to: { fbMessengerId: 'psid-quiet', phoneNumber: '+12025550101' },
      rules: [{ channel: 'fbMessenger', fallbackUnless: 'read', fallbackAfter: 'PT2S' }, 'sms'],
    });
    // The delivery receipt normally arrives before the timeout, but a late one ends the same way.
    const message = await waitForMessage<MessageBody>(
      stack.server,
      messageId,
      (view) => view.completedAt !== null && stepOf(view, 'fbMessenger').attempts[0]?.receipts.length === 1,
    );

    expect(message.status).toBe('delivered');
    expect(message.channel).toBe('sms');
    const messenger = stepOf(message, 'fbMessenger');
    expect(messenger.status).toBe('timed-out');
    expect(messenger.reason).toBe('timed-out');
    expect(messenger.attempts).toHaveLength(1);
    expect(messenger.attempts[0]!.status).toBe('delivered');
    expect(messenger.attempts[0]!.receipts.map((receipt) => receipt.state)).toEqual(['delivered']);
    expect(stepOf(message, 'sms').status).toBe('succeeded');
  });

  it('webhook handshake checks verify token', async () => {
    const { server } = await startStack();
    const query = (token: string): string =>
      new URLSearchParams({ 'hub.mode': 'subscribe', 'hub.verify_token': token, 'hub.challenge': '123' }).toString();

    const accepted = await fetch(`${server.url}${WEBHOOK_PATH}?${query(VERIFY_TOKEN)}`);
    expect(accepted.status).toBe(200);
    expect(await accepted.text()).toBe('123');

    const rejected = await fetch(`${server.url}${WEBHOOK_PATH}?${query('not-the-token')}`);
    expect(rejected.status).toBe(403);
    expect(rejected.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('forged status webhook changes nothing', async () => {
    const stack = await startHeldStack();
    const { messageId, wamid } = await sendHeldTemplate(stack, '+12025550131');
    const before = (await api<MessageBody>(stack.server, 'GET', `/v1/messages/${messageId}`)).body;
    const delivered = whatsAppStatus(wamid, 'delivered', '12025550131');

    const forgeries: Array<[string, string | null]> = [
      ['signature of another body', signMetaPayload(whatsAppStatus(wamid, 'read', '12025550131'), APP_SECRET)],
      ['no signature', null],
      ['another secret', signMetaPayload(delivered, 'another-app-secret')],
    ];
    for (const [label, signature] of forgeries) {
      const response = await postWebhook(stack.server, delivered, signature);
      expect(response.status, label).toBe(401);
    }

    const after = await api<MessageBody>(stack.server, 'GET', `/v1/messages/${messageId}`);
    expect(after.body.status).toBe('sent');
    expect(after.body.updatedAt).toBe(before.updatedAt);
    expect(after.body.steps).toEqual(before.steps);
    expect(stepOf(after.body, 'whatsApp').attempts[0]!.status).toBe('accepted');
    expect(stepOf(after.body, 'whatsApp').attempts[0]!.receipts).toEqual([]);

    const genuine = await postWebhook(stack.server, delivered, signMetaPayload(delivered, APP_SECRET));
    expect(genuine.status).toBe(200);
    expect(genuine.text).toBe('EVENT_RECEIVED');
    const message = await waitForMessage<MessageBody>(stack.server, messageId);
    expect(message.status).toBe('delivered');
    const attempt = stepOf(message, 'whatsApp').attempts[0]!;
    expect(attempt.status).toBe('delivered');
    expect(attempt.receipts.map((receipt) => receipt.state)).toEqual(['delivered']);
  });

  it('applies duplicate and out-of-order statuses once', async () => {
    const stack = await startHeldStack();
    const { messageId, wamid } = await sendHeldTemplate(stack, '+12025550132');

    for (const status of ['read', 'delivered', 'delivered']) {
      const raw = whatsAppStatus(wamid, status, '12025550132');
      const response = await postWebhook(stack.server, raw, signMetaPayload(raw, APP_SECRET));
      expect(response.status, status).toBe(200);
    }
    const message = await waitForMessage<MessageBody>(stack.server, messageId);

    expect(message.status).toBe('read');
    expect(message.channel).toBe('whatsApp');
    const attempt = stepOf(message, 'whatsApp').attempts[0]!;
    expect(attempt.status).toBe('read');
    expect(attempt.receipts.map((receipt) => receipt.state).sort()).toEqual(['delivered', 'read']);
    expect(message.events.filter((event) => event.type === 'receipt.applied')).toHaveLength(1);
  });
});
