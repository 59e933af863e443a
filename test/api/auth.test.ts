import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { API_KEY, call, countMessages, createTestApi, type TestApi } from './harness.js';

const SEND = { body: 'Secret body text 4711', to: { phoneNumber: '+12025550123' }, rules: ['sms'] };

let api: TestApi | null = null;

afterEach(async () => {
  await api?.close();
  api = null;
});

/** Creates a logger that keeps its output lines in `lines`. */
function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

describe('bearer authentication', () => {
  it('answers 401 without an Authorization header', async () => {
    api = await createTestApi();
    const response = await call(api, 'POST', '/v1/messages', { body: SEND, key: null });
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer');
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json<{ detail: string }>().detail).toContain('Authorization header is missing');
    expect(await countMessages(api.store)).toBe(0);
  });

  it('answers 401 with a wrong key', async () => {
    api = await createTestApi();
    const response = await call(api, 'POST', '/v1/messages', { body: SEND, key: `${API_KEY}x` });
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(await countMessages(api.store)).toBe(0);
  });

  it('answers 401 for another scheme', async () => {
    api = await createTestApi();
    const response = await call(api, 'GET', '/v1/messages', { key: null, headers: { authorization: `Basic ${API_KEY}` } });
    expect(response.statusCode).toBe(401);
    expect(response.json<{ detail: string }>().detail).toContain('not of the form Bearer');
  });

  it('checks the key before validating the body', async () => {
    api = await createTestApi();
    const response = await call(api, 'POST', '/v1/messages', { body: { nonsense: true }, key: 'wrong' });
    expect(response.statusCode).toBe(401);
  });

  it('accepts the scheme in any case', async () => {
    api = await createTestApi();
    const response = await call(api, 'GET', '/v1/messages', { key: null, headers: { authorization: `bearer ${API_KEY}` } });
    expect(response.statusCode).toBe(200);
  });

  it('leaves /healthz open', async () => {
    api = await createTestApi();
    const response = await call(api, 'GET', '/healthz', { key: null });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('keeps keys and message bodies out of the log', async () => {
    const { logger, lines } = capturingLogger();
    api = await createTestApi({ logger });
    await call(api, 'POST', '/v1/messages', { body: SEND });
    await call(api, 'POST', '/v1/messages', { body: SEND, key: 'guessed-key-123' });

    const log = lines.join('');
    expect(log).toContain('message accepted');
    expect(log).not.toContain(API_KEY);
    expect(log).not.toContain('guessed-key-123');
    expect(log).not.toContain('Secret body text');
  });
});
