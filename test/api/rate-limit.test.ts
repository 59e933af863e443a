import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { startTestServer, TEST_API_KEY, type TestServer } from '../helpers/server.js';
import { ADMIN_KEY, createSpace, http, issueKey, type HttpResponse } from './admin-client.js';

let server: TestServer | null = null;

afterEach(async () => {
  await server?.dispose();
  server = null;
});

async function start(env: Record<string, string>): Promise<TestServer> {
  server = await startTestServer({ ADMIN_KEY, ...env });
  return server;
}

async function repeat(count: number, send: () => Promise<HttpResponse>): Promise<HttpResponse[]> {
  const responses: HttpResponse[] = [];
  for (let i = 0; i < count; i += 1) responses.push(await send());
  return responses;
}

function statuses(responses: HttpResponse[]): number[] {
  return responses.map((response) => response.status);
}

function expectRateLimited(response: HttpResponse, limit: number): void {
  expect(response.status).toBe(429);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ type: 'urn:cascade:problem:rate-limited', status: 429 });
  const retryAfter = Number(response.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(response.headers.get('ratelimit-limit')).toBe(String(limit));
  expect(response.headers.get('ratelimit-remaining')).toBe('0');
  expect(response.headers.get('ratelimit-reset')).toBe(String(retryAfter));
}

describe('rate limit configuration', () => {
  it('defaults to 6000 per space and 600 per address', () => {
    const config = loadConfig({});

    expect(config.rateLimitPerMinute).toBe(6000);
    expect(config.rateLimitPerIpPerMinute).toBe(600);
  });

  it('accepts 0 and rejects non-integers', () => {
    expect(loadConfig({ RATE_LIMIT_PER_MINUTE: '0' }).rateLimitPerMinute).toBe(0);
    expect(() => loadConfig({ RATE_LIMIT_PER_MINUTE: '-1' })).toThrow(ConfigError);
    expect(() => loadConfig({ RATE_LIMIT_PER_IP_PER_MINUTE: '1.5' })).toThrow(/RATE_LIMIT_PER_IP_PER_MINUTE/);
  });
});

describe('per-space rate limit', () => {
  it('rejects the 6th request of a space', async () => {
    const running = await start({ RATE_LIMIT_PER_MINUTE: '5' });
    const spaceB = await createSpace(running, 'space B');
    const keyB = (await issueKey(running, spaceB)).key;

    const first = await repeat(5, () => http(running, 'GET', '/v1/rulesets', { key: TEST_API_KEY }));
    const sixth = await http(running, 'GET', '/v1/rulesets', { key: TEST_API_KEY });

    expect(statuses(first)).toEqual([200, 200, 200, 200, 200]);
    expect(first.map((response) => response.headers.get('ratelimit-remaining'))).toEqual(['4', '3', '2', '1', '0']);
    expect(first[0]?.headers.get('ratelimit-limit')).toBe('5');
    expectRateLimited(sixth, 5);
    expect(sixth.body.detail).toMatch(/^Space default sent more than 5 requests in the current one-minute window/);
    expect(sixth.body.requestId).toBe(sixth.headers.get('x-request-id'));

    const spaceBResponses = await repeat(5, () => http(running, 'GET', '/v1/rulesets', { key: keyB }));
    expect(statuses(spaceBResponses)).toEqual([200, 200, 200, 200, 200]);
  });

  it('counts every route of the space together', async () => {
    const running = await start({ RATE_LIMIT_PER_MINUTE: '3' });

    const sent = await http(running, 'POST', '/v1/messages', { key: TEST_API_KEY, body: { body: 'hi', to: { phoneNumber: '+12025550101' }, rules: ['sms'] } });
    const invalid = await http(running, 'POST', '/v1/messages', { key: TEST_API_KEY, body: { rules: 'sms' } });
    const missing = await http(running, 'GET', '/v1/profiles/nobody', { key: TEST_API_KEY });
    const rejected = await http(running, 'GET', '/v1/messages', { key: TEST_API_KEY });

    expect(sent.status).toBe(201);
    expect(invalid.status).toBe(400);
    expect(missing.status).toBe(404);
    expectRateLimited(rejected, 3);
  });

  it('counts compatibility paths for the space', async () => {
    const running = await start({ RATE_LIMIT_PER_MINUTE: '2' });
    const body = { body: 'hi', to: { phoneNumber: '+12025550101' }, rules: ['sms'] };

    const v1 = await http(running, 'POST', '/v1/messages', { key: TEST_API_KEY, body });
    const compat = await http(running, 'POST', '/cpaas/messages', { key: TEST_API_KEY, body });
    const rejected = await http(running, 'POST', '/cpaas/messages', { key: TEST_API_KEY, body });

    expect(v1.status).toBe(201);
    expect(compat.status).toBe(201);
    expectRateLimited(rejected, 2);
  });

  it('counts app token requests per app user', async () => {
    const running = await start({ RATE_LIMIT_PER_MINUTE: '4' });
    const issued = await http<{ token: string }>(running, 'POST', '/v1/app/tokens', { key: TEST_API_KEY, body: { profileId: 'alice' } });
    expect(issued.status).toBe(201);

    const inbox = await repeat(4, () => http(running, 'GET', '/v1/app/inbox', { key: issued.body.token }));
    const fifth = await http(running, 'GET', '/v1/app/inbox', { key: issued.body.token });
    const apiKeyRequest = await http(running, 'GET', '/v1/rulesets', { key: TEST_API_KEY });

    expect(statuses(inbox)).toEqual([200, 200, 200, 200]);
    expectRateLimited(fifth, 4);
    expect(fifth.body.detail).toMatch(/^App user alice of space default sent more than 4 requests/);
    expect(apiKeyRequest.status).toBe(200);
    expect(apiKeyRequest.headers.get('ratelimit-remaining')).toBe('2');
  });

  it('leaves probes, metrics and the Meta webhook out', async () => {
    const running = await start({ RATE_LIMIT_PER_MINUTE: '1', RATE_LIMIT_PER_IP_PER_MINUTE: '1' });

    const health = await repeat(5, () => http(running, 'GET', '/healthz'));
    const metrics = await repeat(5, async () => {
      const response = await fetch(`${running.url}/metrics`);
      await response.text();
      return { status: response.status, headers: response.headers, body: {} };
    });
    const webhook = await repeat(5, () => http(running, 'POST', '/v1/providers/meta/webhook', { body: { object: 'whatsapp_business_account', entry: [] } }));
    const openApi = await repeat(3, () => http(running, 'GET', '/openapi.json'));

    expect(statuses(health)).toEqual([200, 200, 200, 200, 200]);
    expect(health[0]?.headers.get('ratelimit-limit')).toBeNull();
    expect(statuses(metrics)).toEqual([200, 200, 200, 200, 200]);
    // Unsigned webhooks are rejected, and they count neither as requests nor as failed authentication.
    expect(statuses(webhook)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses(openApi)).not.toContain(429);
    const afterWebhooks = await http(running, 'GET', '/v1/rulesets', { key: TEST_API_KEY });
    expect(afterWebhooks.status).toBe(200);
  });

  it('is off with RATE_LIMIT_PER_MINUTE=0', async () => {
    const running = await start({ RATE_LIMIT_PER_MINUTE: '0', RATE_LIMIT_PER_IP_PER_MINUTE: '2' });

    const responses = await repeat(20, () => http(running, 'GET', '/v1/rulesets', { key: TEST_API_KEY }));

    expect(new Set(statuses(responses))).toEqual(new Set([200]));
    expect(responses[0]?.headers.get('ratelimit-limit')).toBeNull();
  });
});

describe('per-address rate limit', () => {
  it('counts admin API requests per address', async () => {
    const running = await start({ RATE_LIMIT_PER_IP_PER_MINUTE: '3' });

    const allowed = await repeat(3, () => http(running, 'GET', '/v1/admin/spaces', { key: ADMIN_KEY }));
    const fourth = await http(running, 'GET', '/v1/admin/spaces', { key: ADMIN_KEY });
    const spaceRequest = await http(running, 'GET', '/v1/rulesets', { key: TEST_API_KEY });

    expect(statuses(allowed)).toEqual([200, 200, 200]);
    expectRateLimited(fourth, 3);
    expect(fourth.body.detail).toMatch(/^Address 127\.0\.0\.1 sent more than 3 requests/);
    expect(spaceRequest.status).toBe(200);
  });

  it('rejects an address after failed authentications', async () => {
    const running = await start({ RATE_LIMIT_PER_IP_PER_MINUTE: '3' });

    const forged = [
      await http(running, 'GET', '/v1/messages', { key: 'csk_0000000000000000_forged' }),
      await http(running, 'GET', '/v1/app/inbox', { key: 'not-an-app-token' }),
      await http(running, 'GET', '/v1/admin/spaces', { key: 'not-the-admin-key' }),
    ];
    const fourth = await http(running, 'GET', '/v1/messages', { key: 'another-forged-key' });
    const validKey = await http(running, 'GET', '/v1/rulesets', { key: TEST_API_KEY });
    const health = await http(running, 'GET', '/healthz');

    expect(statuses(forged)).toEqual([401, 401, 401]);
    expectRateLimited(fourth, 3);
    expect(fourth.body.detail).toMatch(/failed authentication 3 times in the current one-minute window/);
    // The address is blocked before authentication, so a valid key from it waits too.
    expectRateLimited(validKey, 3);
    expect(health.status).toBe(200);
  });

  it('answers 429 as problem+json to the socket route', async () => {
    const running = await start({ RATE_LIMIT_PER_IP_PER_MINUTE: '1' });

    const forged = await http(running, 'GET', '/v1/app/socket?token=forged');
    const second = await http(running, 'GET', '/v1/app/socket?token=forged');

    expect(forged.status).toBe(401);
    expectRateLimited(second, 1);
  });
});
