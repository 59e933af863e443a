import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxSmsc, type SandboxSmsc } from '../../src/sandbox/smsc.js';
import { http } from '../api/admin-client.js';
import { finalMessage, type MessageJson } from '../helpers/message-json.js';
import { startTestServer, TEST_API_KEY, type TestServer } from '../helpers/server.js';

describe('job leases', () => {
  let smsc: SandboxSmsc;
  let server: TestServer;

  beforeAll(async () => {
    // The SMSC responds to each submit after 7 s: longer than the 5 s lease, shorter than the 10 s submit timeout.
    smsc = await startSandboxSmsc({ logger: pino({ level: 'silent' }), responseDelayMs: 7_000, receiptDelayMs: { delivered: 20 } });
    server = await startTestServer({ SANDBOX: '0', SMPP_URL: smsc.url, WORKER_LEASE_SECONDS: '5' });
  });

  afterAll(async () => {
    await server?.dispose();
    await smsc?.close();
  });

  it('stay with a send that outlasts them', async () => {
    const sent = await http<MessageJson>(server, 'POST', '/v1/messages', {
      key: TEST_API_KEY,
      body: { body: 'Slow provider', to: { phoneNumber: '+12025550101' }, rules: ['sms'] },
    });
    expect(sent.status).toBe(201);

    const view = await finalMessage(server, TEST_API_KEY, sent.body.messageId);

    expect(view.status).toBe('delivered');
    expect(view.steps[0]?.attempts.map((attempt) => attempt.status)).toEqual(['delivered']);
    expect(smsc.submits()).toHaveLength(1);
  }, 30_000);
});
