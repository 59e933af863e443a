import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { call, createTestApi, type TestApi } from './harness.js';

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  requestId: string;
}

let api: TestApi | null = null;

afterEach(async () => {
  await api?.close();
  api = null;
});

describe('problem responses', () => {
  it('answers 400 for malformed JSON', async () => {
    api = await createTestApi();
    const response = await call(api, 'POST', '/v1/messages', { body: '{"body": "Hi",' });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json<Problem>()).toMatchObject({ type: 'urn:cascade:problem:malformed-body', status: 400, detail: 'The request body is not valid JSON.' });
  });

  it('answers 400 for a prototype-poisoning body', async () => {
    api = await createTestApi();
    const response = await call(api, 'POST', '/v1/messages', { body: '{"body": "Hi", "__proto__": {"admin": true}}' });
    expect(response.statusCode).toBe(400);
  });

  it('answers 400 when a send has no body', async () => {
    api = await createTestApi();
    const response = await call(api, 'POST', '/v1/messages', { headers: { 'content-type': 'application/json' } });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ errors: Array<{ pointer: string; detail: string }> }>().errors).toEqual([
      { pointer: '', detail: 'the request body must be a JSON object' },
    ]);
  });

  it('answers 413 over the 1 MiB body limit', async () => {
    api = await createTestApi();
    const response = await call(api, 'POST', '/v1/messages', { body: { body: 'x'.repeat(1024 * 1024) } });
    expect(response.statusCode).toBe(413);
    expect(response.json<Problem>()).toMatchObject({ status: 413, detail: 'The request body is larger than the limit of 1 MiB for this route.' });
  });

  it('answers 415 for a body that is not JSON', async () => {
    api = await createTestApi();
    const response = await call(api, 'POST', '/v1/messages', { body: 'body=Hi', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(response.statusCode).toBe(415);
    expect(response.json<Problem>().detail).toContain('application/x-www-form-urlencoded');
  });

  it('answers 404 problem for an unknown route', async () => {
    api = await createTestApi();
    const response = await call(api, 'GET', '/v2/messages?x=1');
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json<Problem>().detail).toBe('No route matches GET /v2/messages.');
  });

  it('carries the request id in the header and the problem', async () => {
    api = await createTestApi();
    const response = await call(api, 'GET', '/v1/profiles/nobody');
    const requestId = response.headers['x-request-id'];
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.json<Problem>().requestId).toBe(requestId);
  });

  it('answers 500 without internals and logs the error with the request id', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    api = await createTestApi({ logger: pino({ level: 'info' }, stream) });
    await api.closeStore();

    const response = await call(api, 'GET', '/v1/messages');
    expect(response.statusCode).toBe(500);
    const problem = response.json<Problem>();
    expect(problem).toMatchObject({ type: 'urn:cascade:problem:internal', title: 'Internal server error', status: 500 });
    expect(Object.keys(problem).sort()).toEqual(['detail', 'requestId', 'status', 'title', 'type']);

    const logged = lines.map((line) => JSON.parse(line) as { msg: string; reqId?: string; err?: { message: string } });
    const failure = logged.find((entry) => entry.msg === 'request failed with an unexpected error');
    expect(failure?.reqId).toBe(problem.requestId);
    expect(failure?.err?.message).toBeTruthy();
    expect(problem.detail).not.toContain(failure?.err?.message ?? '');
  });
});
