import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_API_KEY, api, startTestServer, waitForMessage, type TestServer } from '../helpers/server.js';

interface Step {
  channel: string;
  status: string;
  reason: string | null;
}

interface MessageBody {
  messageId: string;
  ruleSet?: string;
  status: string;
  channel: string | null;
  request: Record<string, unknown>;
  steps: Step[];
}

describe('rule sets over real sockets', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });

  afterAll(async () => {
    await server.dispose();
  });

  it('routes a send by the named rule set', async () => {
    const stored = await api(server, 'PUT', '/v1/rulesets/sms-first', { rules: [{ channel: 'sms', fallbackAfter: 'PT5M' }, 'email'] });
    expect(stored.status).toBe(201);

    const created = await api<MessageBody>(server, 'POST', '/v1/messages', {
      body: 'Parcel today',
      to: { phoneNumber: '+12025550151', email: 'ruleset@example.com' },
      ruleSet: 'sms-first',
    });
    expect(created.status).toBe(201);

    const message = await waitForMessage<MessageBody>(server, created.body.messageId);
    expect(message.status).toBe('delivered');
    expect(message.channel).toBe('sms');
    expect(message.steps.map((step) => [step.channel, step.status])).toEqual([
      ['sms', 'succeeded'],
      ['email', 'cancelled'],
    ]);
    expect(server.sandbox.smsc!.submits().filter((submit) => submit.destination.endsWith('12025550151'))).toHaveLength(1);
  });

  it('falls back along the default rule set', async () => {
    const stored = await api(server, 'PUT', '/v1/rulesets/default-route', { rules: ['sms', 'email'], default: true });
    expect(stored.status).toBe(201);

    const created = await api<MessageBody>(server, 'POST', '/v1/messages', {
      body: 'Your code is 4417',
      title: 'Sign-in code',
      to: { phoneNumber: '+12025550102', email: 'fallback@example.com' },
    });
    expect(created.status).toBe(201);
    expect(created.body.ruleSet).toBe('default-route');

    const message = await waitForMessage<MessageBody>(server, created.body.messageId);
    expect(message.status).toBe('sent');
    expect(message.channel).toBe('email');
    expect(message.steps.map((step) => [step.channel, step.status, step.reason])).toEqual([
      ['sms', 'failed', 'receipt-failed'],
      ['email', 'succeeded', null],
    ]);
    expect(message.request.ruleSet).toBe('default-route');
  });

  it('rejects the name .. sent without path normalisation', async () => {
    // URL parsing resolves dot segments, so the path is given to node:http as written.
    const { hostname, port } = new URL(server.url);
    const options = { hostname, port, path: '/v1/rulesets/..', method: 'GET', headers: { authorization: `Bearer ${TEST_API_KEY}` } };
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const request = httpRequest(options, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      });
      request.on('error', reject);
      request.end();
    });

    expect(status).toBe(400);
    expect((JSON.parse(text) as { errors: Array<{ pointer: string }> }).errors.map((error) => error.pointer)).toEqual(['/name']);
  });
});
