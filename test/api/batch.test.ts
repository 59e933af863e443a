import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, countMessages, createTestApi, type TestApi } from './harness.js';

interface BatchResponse {
  accepted: Array<{ index: number; messageId: string }>;
  rejected: Array<{ index: number; errors: Array<{ pointer: string; detail: string }> }>;
}

const GOOD = { body: 'Hi', to: { phoneNumber: '+12025550123' }, rules: ['sms'] };

let api: TestApi;

beforeEach(async () => {
  api = await createTestApi();
});

afterEach(async () => {
  await api.close();
});

describe('POST /v1/messages/batch', () => {
  it('stores the good items and reports the bad ones', async () => {
    const response = await call(api, 'POST', '/v1/messages/batch', {
      body: {
        messages: [
          GOOD,
          { ...GOOD, rules: ['pigeon'] },
          { ...GOOD, to: { profileId: 'cust-2', email: 'b@example.com' }, rules: ['email'] },
          { ...GOOD, rules: [{ channel: 'sms', fallbackUnless: 'read' }] },
          'not an object',
        ],
      },
    });
    expect(response.statusCode).toBe(202);
    const body = response.json<BatchResponse>();
    expect(body.accepted.map((item) => item.index)).toEqual([0, 2]);
    expect(body.rejected).toEqual([
      { index: 1, errors: [{ pointer: '/messages/1/rules/0', detail: expect.stringContaining('got "pigeon"') }] },
      { index: 3, errors: [{ pointer: '/messages/3/rules/0/fallbackUnless', detail: expect.stringContaining('which supports only') }] },
      { index: 4, errors: [{ pointer: '/messages/4', detail: expect.stringContaining('must be a JSON object') }] },
    ]);

    expect(await countMessages(api.store)).toBe(2);
    for (const { messageId } of body.accepted) {
      expect(await api.store.getMessage('default', messageId)).not.toBeNull();
    }
    expect(api.wakeUps.count).toBe(1);
    expect((await api.store.getProfile('default', 'cust-2'))?.addresses.email).toBe('b@example.com');
  });

  it('rejects an item with a bad native body', async () => {
    const response = await call(api, 'POST', '/v1/messages/batch', {
      body: { messages: [GOOD, { ...GOOD, rules: ['whatsApp', 'sms'], customBody: { whatsApp: { type: 'image', image: {} } } }] },
    });
    expect(response.statusCode).toBe(202);
    const body = response.json<BatchResponse>();
    expect(body.accepted.map((item) => item.index)).toEqual([0]);
    expect(body.rejected).toEqual([
      { index: 1, errors: [{ pointer: '/messages/1/customBody/whatsApp/image', detail: expect.stringContaining('exactly one of "id"') }] },
    ]);
    expect(await countMessages(api.store)).toBe(1);
  });

  it('answers 400 and stores nothing when every item is bad', async () => {
    const response = await call(api, 'POST', '/v1/messages/batch', {
      body: { messages: [{ ...GOOD, body: '' }, { ...GOOD, to: { phoneNumber: '12' } }] },
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const pointers = response.json<{ errors: Array<{ pointer: string }> }>().errors.map((error) => error.pointer);
    expect(pointers).toEqual(['/messages/0/body', '/messages/1/to/phoneNumber']);
    expect(await countMessages(api.store)).toBe(0);
  });

  it('rejects an empty list', async () => {
    const response = await call(api, 'POST', '/v1/messages/batch', { body: { messages: [] } });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ errors: Array<{ pointer: string }> }>().errors[0]?.pointer).toBe('/messages');
  });

  it('rejects more than 5000 items', async () => {
    const response = await call(api, 'POST', '/v1/messages/batch', { body: { messages: Array(5001).fill(GOOD) } });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ errors: Array<{ detail: string }> }>().errors[0]?.detail).toContain('at most 5000 items (got 5001)');
    expect(await countMessages(api.store)).toBe(0);
  });

  it('accepts 5000 items in one request', async () => {
    const response = await call(api, 'POST', '/v1/messages/batch', { body: { messages: Array(5000).fill(GOOD) } });
    expect(response.statusCode).toBe(202);
    const body = response.json<BatchResponse>();
    expect(body.accepted).toHaveLength(5000);
    expect(new Set(body.accepted.map((item) => item.messageId)).size).toBe(5000);
    expect(await countMessages(api.store)).toBe(5000);
  });

  it('accepts bodies over 1 MiB up to 10 MiB', async () => {
    const item = { ...GOOD, body: 'x'.repeat(1000) };
    const messages = Array(1500).fill(item);
    expect(JSON.stringify({ messages }).length).toBeGreaterThan(1024 * 1024);
    const response = await call(api, 'POST', '/v1/messages/batch', { body: { messages } });
    expect(response.statusCode).toBe(202);
  });

  it('answers 413 over 10 MiB', async () => {
    const item = { ...GOOD, body: 'x'.repeat(9000) };
    const response = await call(api, 'POST', '/v1/messages/batch', { body: { messages: Array(1200).fill(item) } });
    expect(response.statusCode).toBe(413);
    expect(response.json<{ detail: string }>().detail).toContain('10 MiB');
  });
});
