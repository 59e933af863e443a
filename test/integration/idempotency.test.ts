import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_API_KEY, startTestServer, waitForMessage, type TestServer } from '../helpers/server.js';

const ADMIN_KEY = 'admin-key-for-idempotency-tests-0123456789';

interface Reply<T> {
  status: number;
  replayed: string | null;
  retryAfter: string | null;
  body: T;
}

interface Sent {
  messageId: string;
}

interface Batch {
  accepted: Array<{ index: number; messageId: string }>;
  rejected: unknown[];
}

interface MessageBody {
  status: string;
  channel: string | null;
}

describe('Idempotency-Key over real sockets', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ ADMIN_KEY });
  });

  afterAll(async () => {
    await server.dispose();
  });

  async function post<T>(path: string, body: unknown, idempotencyKey: string, apiKey = TEST_API_KEY): Promise<Reply<T>> {
    const response = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
      body: JSON.stringify(body),
    });
    return {
      status: response.status,
      replayed: response.headers.get('idempotent-replayed'),
      retryAfter: response.headers.get('retry-after'),
      body: (await response.json()) as T,
    };
  }

  /** Submits the sandbox SMSC received for a number, after the message finished. */
  function submitsTo(phoneNumber: string) {
    return server.sandbox.smsc!.submits().filter((submit) => submit.destination.endsWith(phoneNumber.slice(1)));
  }

  async function messagesOf(profileId: string): Promise<string[]> {
    const response = await fetch(`${server.url}/v1/messages?profileId=${profileId}`, { headers: { authorization: `Bearer ${TEST_API_KEY}` } });
    const page = (await response.json()) as { items: Array<{ messageId: string }> };
    return page.items.map((item) => item.messageId);
  }

  it('a retried send sends one SMS', async () => {
    const body = { body: 'Your code is 4417', to: { profileId: 'idem-retry', phoneNumber: '+12025550141' }, rules: ['sms'] };

    const first = await post<Sent>('/v1/messages', body, 'retry-1');
    const second = await post<Sent>('/v1/messages', body, 'retry-1');

    expect(first.status).toBe(201);
    expect(first.replayed).toBeNull();
    expect(second.status).toBe(201);
    expect(second.replayed).toBe('true');
    expect(second.body).toEqual(first.body);

    const message = await waitForMessage<MessageBody>(server, first.body.messageId);
    expect(message.status).toBe('delivered');
    expect(await messagesOf('idem-retry')).toEqual([first.body.messageId]);
    expect(submitsTo('+12025550141')).toHaveLength(1);
  });

  it('the same key with another body answers 422', async () => {
    const body = { body: 'First', to: { phoneNumber: '+12025550142' }, rules: ['sms'] };
    const first = await post<Sent>('/v1/messages', body, 'changed-1');

    const second = await post<{ type: string }>('/v1/messages', { ...body, body: 'Second' }, 'changed-1');

    expect(second.status).toBe(422);
    expect(second.body.type).toBe('urn:cascade:problem:idempotency-key-reused');
    await waitForMessage(server, first.body.messageId);
    expect(submitsTo('+12025550142').map((submit) => submit.text)).toEqual(['First']);
  });

  it('concurrent requests with one key store one message', async () => {
    const body = { body: 'Only once', to: { profileId: 'idem-concurrent', phoneNumber: '+12025550143' }, rules: ['sms'] };

    const replies = await Promise.all([post<Sent>('/v1/messages', body, 'race-1'), post<Sent>('/v1/messages', body, 'race-1')]);

    const originals = replies.filter((reply) => reply.status === 201 && reply.replayed === null);
    const others = replies.filter((reply) => reply !== originals[0]);
    expect(originals).toHaveLength(1);
    expect(others).toHaveLength(1);
    const other = others[0]!;
    if (other.status === 409) {
      expect(other.retryAfter).toBe('1');
    } else {
      expect(other.status).toBe(201);
      expect(other.replayed).toBe('true');
      expect(other.body.messageId).toBe(originals[0]!.body.messageId);
    }

    await waitForMessage(server, originals[0]!.body.messageId);
    expect(await messagesOf('idem-concurrent')).toEqual([originals[0]!.body.messageId]);
    expect(submitsTo('+12025550143')).toHaveLength(1);
  });

  it('a retried batch sends each SMS once', async () => {
    const batch = {
      messages: [
        { body: 'Batch one', to: { profileId: 'idem-batch', phoneNumber: '+12025550144' }, rules: ['sms'] },
        { body: 'Batch two', to: { profileId: 'idem-batch', phoneNumber: '+12025550145' }, rules: ['sms'] },
      ],
    };

    const first = await post<Batch>('/v1/messages/batch', batch, 'batch-1');
    const second = await post<Batch>('/v1/messages/batch', batch, 'batch-1');
    const changed = await post<{ type: string }>('/v1/messages/batch', { messages: batch.messages.slice(0, 1) }, 'batch-1');

    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.replayed).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(changed.status).toBe(422);

    for (const item of first.body.accepted) await waitForMessage(server, item.messageId);
    expect((await messagesOf('idem-batch')).sort()).toEqual(first.body.accepted.map((item) => item.messageId).sort());
    expect(submitsTo('+12025550144')).toHaveLength(1);
    expect(submitsTo('+12025550145')).toHaveLength(1);
  });

  it('concurrent batches with one key store one batch', async () => {
    const batch = { messages: [{ body: 'Race batch', to: { profileId: 'idem-batch-race', phoneNumber: '+12025550146' }, rules: ['sms'] }] };

    const replies = await Promise.all([post<Batch>('/v1/messages/batch', batch, 'batch-race'), post<Batch>('/v1/messages/batch', batch, 'batch-race')]);

    const originals = replies.filter((reply) => reply.status === 202 && reply.replayed === null);
    expect(originals).toHaveLength(1);
    const other = replies.find((reply) => reply !== originals[0])!;
    expect(other.status === 409 || other.replayed === 'true').toBe(true);

    const messageId = originals[0]!.body.accepted[0]!.messageId;
    await waitForMessage(server, messageId);
    expect(await messagesOf('idem-batch-race')).toEqual([messageId]);
    expect(submitsTo('+12025550146')).toHaveLength(1);
  });

  it('keys of two spaces do not collide', async () => {
    const adminHeaders = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };
    const space = await fetch(`${server.url}/v1/admin/spaces`, { method: 'POST', headers: adminHeaders, body: JSON.stringify({ name: 'Second' }) });
    expect(space.status).toBe(201);
    const { spaceId } = (await space.json()) as { spaceId: string };
    const issued = await fetch(`${server.url}/v1/admin/spaces/${spaceId}/keys`, { method: 'POST', headers: adminHeaders, body: '{}' });
    expect(issued.status).toBe(201);
    const { key } = (await issued.json()) as { key: string };
    const body = { body: 'Per space', to: { phoneNumber: '+12025550147' }, rules: ['sms'] };

    const inDefault = await post<Sent>('/v1/messages', body, 'shared-key');
    const inSecond = await post<Sent>('/v1/messages', body, 'shared-key', key);
    const changedInSecond = await post<Sent>('/v1/messages', { ...body, body: 'Changed' }, 'shared-key', key);

    expect(inDefault.status).toBe(201);
    expect(inSecond.status).toBe(201);
    expect(inSecond.replayed).toBeNull();
    expect(inSecond.body.messageId).not.toBe(inDefault.body.messageId);
    expect(changedInSecond.status).toBe(422);
  });
});
