import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { ADMIN_KEY, basic, createSpace, http, issueKey, type IssuedKey } from './admin-client.js';

interface Problem {
  type: string;
  status: number;
  detail: string;
  errors?: Array<{ pointer: string; detail: string }>;
}

interface SendResponse {
  messageId: string;
  status: string;
  body: string;
}

const SEND = { body: 'Your code is 4417', to: { phoneNumber: '+12025550103' }, rules: ['sms'] };

let server: TestServer;
let spaceId: string;
let issued: IssuedKey;

beforeAll(async () => {
  server = await startTestServer({ ADMIN_KEY });
  spaceId = await createSpace(server, 'Compat');
  issued = await issueKey(server, spaceId);
});

afterAll(async () => {
  await server.dispose();
});

describe('compatibility routes', () => {
  it('/cpaas/messages sends with Basic key:', async () => {
    const response = await http<SendResponse>(server, 'POST', '/cpaas/messages', { authorization: basic(issued.key, ''), body: SEND });
    const stored = await http<{ messageId: string }>(server, 'GET', `/v1/messages/${response.body.messageId}`, { key: issued.key });

    expect(response.status).toBe(201);
    expect(response.body.status).toBe('processing');
    expect(response.body.body).toBe(SEND.body);
    expect(stored.status).toBe(200);
    expect(stored.body.messageId).toBe(response.body.messageId);
  });

  it('answers as POST /v1/messages does', async () => {
    const compat = await http<Record<string, unknown>>(server, 'POST', '/cpaas/messages', { authorization: basic(issued.key, ''), body: SEND });
    const v1 = await http<Record<string, unknown>>(server, 'POST', '/v1/messages', { key: issued.key, body: SEND });

    expect(Object.keys(compat.body).sort()).toEqual(Object.keys(v1.body).sort());
    expect(compat.body.statusDetails).toEqual(v1.body.statusDetails);
  });

  it('accepts the key id as user name', async () => {
    const withId = await http(server, 'POST', '/cpaas/messages', { authorization: basic(issued.keyId, issued.key), body: SEND });
    const withoutUser = await http(server, 'POST', '/cpaas/messages', { authorization: basic('', issued.key), body: SEND });
    const wrongId = await http<Problem>(server, 'POST', '/cpaas/messages', { authorization: basic('0000000000000000', issued.key), body: SEND });

    expect(withId.status).toBe(201);
    expect(withoutUser.status).toBe(201);
    expect(wrongId.status).toBe(401);
  });

  it('accepts Bearer too', async () => {
    const response = await http(server, 'POST', '/cpaas/messages', { key: issued.key, body: SEND });

    expect(response.status).toBe(201);
  });

  it('/cpaas/messages/batch accepts a batch', async () => {
    const response = await http<{ accepted: Array<{ index: number; messageId: string }>; rejected: unknown[] }>(server, 'POST', '/cpaas/messages/batch', {
      authorization: basic(issued.key, ''),
      body: { messages: [SEND, { ...SEND, rules: [] }] },
    });

    expect(response.status).toBe(202);
    expect(response.body.accepted.map((item) => item.index)).toEqual([0]);
    expect(response.body.rejected).toHaveLength(1);
    const stored = await http(server, 'GET', `/v1/messages/${response.body.accepted[0]?.messageId}`, { key: issued.key });
    expect(stored.status).toBe(200);
  });

  it('validates like the /v1 route', async () => {
    const response = await http<Problem>(server, 'POST', '/cpaas/messages', { authorization: basic(issued.key, ''), body: { ...SEND, rules: ['pigeon'] } });

    expect(response.status).toBe(400);
    expect(response.body.errors?.map((error) => error.pointer)).toContain('/rules/0');
  });

  it('answers 401 without credentials', async () => {
    const response = await http<Problem>(server, 'POST', '/cpaas/messages', { body: SEND });

    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer, Basic realm="cascade"');
    expect(response.body.detail).toContain('Basic');
  });

  it('answers 401 for malformed Basic credentials', async () => {
    const headers = ['Basic', 'Basic !!!', `Basic ${Buffer.from('no-colon').toString('base64')}`, basic('', '')];
    for (const authorization of headers) {
      const response = await http(server, 'POST', '/cpaas/messages', { authorization, body: SEND });

      expect(response.status, authorization).toBe(401);
    }
  });

  it('answers 401 for a revoked key', async () => {
    const key = await issueKey(server, spaceId);
    await http(server, 'DELETE', `/v1/admin/spaces/${spaceId}/keys/${key.keyId}`, { key: ADMIN_KEY });

    const response = await http(server, 'POST', '/cpaas/messages', { authorization: basic(key.key, ''), body: SEND });

    expect(response.status).toBe(401);
  });

  it('needs messages:write', async () => {
    const reader = await issueKey(server, spaceId, { scopes: ['messages:read'] });

    const response = await http<Problem>(server, 'POST', '/cpaas/messages', { authorization: basic(reader.key, ''), body: SEND });

    expect(response.status).toBe(403);
    expect(response.body.detail).toContain('POST /cpaas/messages');
    expect(response.body.detail).toContain('messages:write');
  });

  it('keeps Basic off the /v1 routes', async () => {
    const response = await http<Problem>(server, 'POST', '/v1/messages', { authorization: basic(issued.key, ''), body: SEND });

    expect(response.status).toBe(401);
    expect(response.body.detail).toContain('not of the form Bearer');
  });

  it('aliases POST only', async () => {
    const response = await http(server, 'GET', '/cpaas/messages', { authorization: basic(issued.key, '') });

    expect(response.status).toBe(404);
  });
});
