import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startTestServer, waitForMessage, type TestServer } from '../helpers/server.js';

interface Receipt { state: string; errorCode: string | null }
interface Attempt { number: number; status: string; providerMessageId: string | null; receipts: Receipt[] }
interface Step { index: number; channel: string; status: string; reason: string | null; attempts: Attempt[] }
interface MessageBody {
  messageId: string;
  status: string;
  channel: string | null;
  completedAt: string | null;
  steps: Step[];
}

describe('fallback flows over real sockets', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });

  afterAll(async () => {
    await server.dispose();
  });

  it('skips unreachable channels and delivers by SMS', async () => {
    const created = await api<MessageBody>(server, 'POST', '/v1/messages', {
      body: 'Your code is 4417',
      to: { profileId: 'p1', phoneNumber: '+12025550101' },
      rules: ['appMessaging', 'fbMessenger', 'sms'],
    });
    expect(created.status).toBe(201);
    expect(created.body.messageId).toMatch(/^[0-9a-f-]{36}$/);

    const message = await waitForMessage<MessageBody>(server, created.body.messageId);
    expect(message.status).toBe('delivered');
    expect(message.channel).toBe('sms');
    expect(message.steps.map((step) => [step.channel, step.status, step.reason])).toEqual([
      ['appMessaging', 'skipped', 'no-address'],
      ['fbMessenger', 'skipped', 'no-address'],
      ['sms', 'succeeded', null],
    ]);
    const attempt = message.steps[2]!.attempts[0]!;
    expect(attempt.status).toBe('delivered');
    expect(attempt.providerMessageId).toBeTruthy();
    expect(attempt.receipts.map((receipt) => receipt.state)).toEqual(['delivered']);

    // The SMSC saw exactly one submit for the message, with the id the attempt recorded.
    const submits = server.sandbox.smsc!.submits().filter((submit) => submit.destination.endsWith('12025550101'));
    expect(submits).toHaveLength(1);
    expect(submits[0]!.text).toBe('Your code is 4417');
  });

  it('stores the addresses on the profile for later sends', async () => {
    const created = await api<MessageBody>(server, 'POST', '/v1/messages', {
      body: 'Second message',
      to: { profileId: 'p1' },
      rules: ['sms'],
    });
    expect(created.status).toBe(201);
    const message = await waitForMessage<MessageBody>(server, created.body.messageId);
    expect(message.status).toBe('delivered');
  });

  it('falls back to email after an undeliverable SMS', async () => {
    const created = await api<MessageBody>(server, 'POST', '/v1/messages', {
      body: 'Your code is 4417',
      title: 'Sign-in code',
      to: { phoneNumber: '+12025550102', email: 'ada@example.com' },
      rules: ['sms', 'email'],
    });
    expect(created.status).toBe(201);

    const message = await waitForMessage<MessageBody>(server, created.body.messageId);
    expect(message.status).toBe('sent');
    expect(message.channel).toBe('email');
    const [sms, email] = message.steps;
    expect(sms!.status).toBe('failed');
    expect(sms!.reason).toBe('receipt-failed');
    expect(sms!.attempts[0]!.receipts.map((receipt) => receipt.state)).toEqual(['failed']);
    expect(email!.status).toBe('succeeded');

    const mail = server.sandbox.smtp!.messages().find((item) => item.to.includes('ada@example.com'));
    expect(mail?.subject).toBe('Sign-in code');
  });

  it('counts accepted messages in metrics', async () => {
    const response = await fetch(`${server.url}/metrics`);
    const text = await response.text();

    expect(response.status).toBe(200);
    // The three sends above.
    expect(text).toMatch(/^cascade_messages_accepted_total 3$/m);
  });
});
