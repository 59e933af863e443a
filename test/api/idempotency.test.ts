import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { hashBody } from '../../src/api/idempotency.js';
import { call, countMessages, createTestApi, START, type TestApi } from './harness.js';

interface Problem {
  type: string;
  status: number;
  detail: string;
  errors?: Array<{ pointer: string; detail: string }>;
}

const SEND = { body: 'Your code is 4417', to: { phoneNumber: '+12025550123' }, rules: ['sms'], metadata: { orderId: '88121' } };
const DAY = 24 * 60 * 60 * 1000;

let api: TestApi;

beforeEach(async () => {
  api = await createTestApi();
});

afterEach(async () => {
  await api.close();
});

function send(body: unknown, key?: string, url = '/v1/messages') {
  return call(api, 'POST', url, { body, ...(key === undefined ? {} : { headers: { 'idempotency-key': key } }) });
}

describe('Idempotency-Key on POST /v1/messages', () => {
  it('replays the first response for the same body', async () => {
    const first = await send(SEND, 'key-1');
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();

    // Same JSON with other key order and spacing.
    const reordered = `{ "metadata": {"orderId":"88121"}, "rules": ["sms"], "to": {"phoneNumber": "+12025550123"}, "body": "Your code is 4417" }`;
    const second = await send(reordered, 'key-1');

    expect(second.statusCode).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json()).toEqual(first.json());
    expect(await countMessages(api.store)).toBe(1);
    expect(api.wakeUps.count).toBe(1);
  });

  it('answers 422 for the same key with another body', async () => {
    await send(SEND, 'key-1');

    const response = await send({ ...SEND, body: 'Your code is 9999' }, 'key-1');

    expect(response.statusCode).toBe(422);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = response.json<Problem>();
    expect(problem.type).toBe('urn:cascade:problem:idempotency-key-reused');
    expect(problem.detail).toContain('"key-1"');
    expect(await countMessages(api.store)).toBe(1);
  });

  it('answers 409 while the key is held', async () => {
    await api.store.reserveIdempotencyKey({
      spaceId: 'default',
      route: 'POST /v1/messages',
      key: 'key-1',
      requestHash: hashBody(SEND),
      now: START,
      expiresAt: START + DAY,
      lockedUntil: START + 60_000,
    });

    const response = await send(SEND, 'key-1');

    expect(response.statusCode).toBe(409);
    expect(response.headers['retry-after']).toBe('1');
    expect(response.json<Problem>().type).toBe('urn:cascade:problem:idempotency-key-in-use');
    expect(await countMessages(api.store)).toBe(0);
  });

  it('takes over a key whose holder never finished', async () => {
    await api.store.reserveIdempotencyKey({
      spaceId: 'default',
      route: 'POST /v1/messages',
      key: 'key-1',
      requestHash: hashBody(SEND),
      now: START,
      expiresAt: START + DAY,
      lockedUntil: START + 60_000,
    });
    api.clock.now = START + 61_000;

    const response = await send(SEND, 'key-1');

    expect(response.statusCode).toBe(201);
    expect(response.headers['idempotent-replayed']).toBeUndefined();
    expect(await countMessages(api.store)).toBe(1);
  });

  it('records nothing for a request that fails validation', async () => {
    const invalid = await send({ ...SEND, expiresOn: '2025-06-01T11:00:00Z' }, 'key-1');
    expect(invalid.statusCode).toBe(400);
    const malformed = await send({ ...SEND, rules: ['pigeon'] }, 'key-1');
    expect(malformed.statusCode).toBe(400);

    const retry = await send(SEND, 'key-1');

    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(await countMessages(api.store)).toBe(1);
  });

  it('forgets a key after 24 hours', async () => {
    const first = await send(SEND, 'key-1');
    api.clock.now = START + DAY;

    const second = await send({ ...SEND, body: 'A new message' }, 'key-1');

    expect(second.statusCode).toBe(201);
    expect(second.json<{ messageId: string }>().messageId).not.toBe(first.json<{ messageId: string }>().messageId);
    expect(await countMessages(api.store)).toBe(2);
  });

  it('replays within 24 hours even when the body is no longer valid', async () => {
    const first = await send({ ...SEND, expiresOn: '2025-06-01T13:00:00Z' }, 'key-1');
    api.clock.now = START + 2 * 60 * 60 * 1000;

    const second = await send({ ...SEND, expiresOn: '2025-06-01T13:00:00Z' }, 'key-1');

    expect(second.statusCode).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json()).toEqual(first.json());
  });

  it('sends twice without a key', async () => {
    await send(SEND);
    await send(SEND);

    expect(await countMessages(api.store)).toBe(2);
  });

  it.each<[string, string]>([
    ['too long', 'k'.repeat(256)],
    ['non-ASCII', 'schlüssel'],
    ['empty', ''],
  ])('rejects a key that is %s', async (_case, key) => {
    const response = await send(SEND, key);

    expect(response.statusCode).toBe(400);
    const problem = response.json<Problem>();
    expect(problem.detail).toContain('request headers');
    expect(problem.errors).toEqual([{ pointer: '/idempotency-key', detail: expect.stringContaining('Idempotency-Key of 1 to 255 printable ASCII') }]);
    expect(await countMessages(api.store)).toBe(0);
  });

  it('accepts a key of 255 printable characters', async () => {
    const key = ' !~'.repeat(85);

    expect((await send(SEND, key)).statusCode).toBe(201);
    expect((await send(SEND, key)).headers['idempotent-replayed']).toBe('true');
  });
});

describe('Idempotency-Key on POST /v1/messages/batch', () => {
  const BATCH = { messages: [SEND, { ...SEND, rules: ['pigeon'] }, { ...SEND, to: { email: 'a@example.com' }, rules: ['email'] }] };

  it('replays the first 202 response', async () => {
    const first = await send(BATCH, 'batch-1', '/v1/messages/batch');
    expect(first.statusCode).toBe(202);

    const second = await send(BATCH, 'batch-1', '/v1/messages/batch');

    expect(second.statusCode).toBe(202);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json()).toEqual(first.json());
    expect(await countMessages(api.store)).toBe(2);
  });

  it('answers 422 for the same key with another batch', async () => {
    await send(BATCH, 'batch-1', '/v1/messages/batch');

    const response = await send({ messages: [SEND] }, 'batch-1', '/v1/messages/batch');

    expect(response.statusCode).toBe(422);
    expect(await countMessages(api.store)).toBe(2);
  });

  it('records nothing for a batch with no valid item', async () => {
    const rejected = await send({ messages: [{ ...SEND, rules: ['pigeon'] }] }, 'batch-1', '/v1/messages/batch');
    expect(rejected.statusCode).toBe(400);

    const retry = await send(BATCH, 'batch-1', '/v1/messages/batch');

    expect(retry.statusCode).toBe(202);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
  });

  it('keeps keys of the two routes apart', async () => {
    const single = await send(SEND, 'shared-key');
    const batch = await send({ messages: [SEND] }, 'shared-key', '/v1/messages/batch');

    expect(single.statusCode).toBe(201);
    expect(batch.statusCode).toBe(202);
    expect(batch.headers['idempotent-replayed']).toBeUndefined();
    expect(await countMessages(api.store)).toBe(2);
  });
});

describe('expired idempotency keys', () => {
  it('are deleted after a later request', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    await api.close();
    api = await createTestApi({ logger: pino({ level: 'info' }, stream) });
    await send(SEND, 'old-key');
    api.clock.now = START + DAY + 1;

    const later = await send(SEND, 'new-key');
    expect(later.statusCode).toBe(201);

    await vi.waitFor(() => {
      const sweeps = lines.map((line) => JSON.parse(line) as { msg: string; deleted?: number }).filter((entry) => entry.msg === 'expired idempotency keys deleted');
      expect(sweeps).toEqual([expect.objectContaining({ deleted: 1 })]);
    });
    expect(await api.store.deleteExpiredIdempotencyKeys(START + DAY + 1, 10)).toBe(0);
  });
});
