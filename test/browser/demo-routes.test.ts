import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

// The demo routes over plain HTTP; demo-page.test.ts drives the page in Chromium.
describe('demo routes', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });

  afterAll(async () => {
    await server?.dispose();
  });

  it('serves the page with a strict CSP', async () => {
    const response = await fetch(`${server.url}/demo/app?profileId=routes-1`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(response.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const html = await response.text();
    expect(html).toContain('<script type="module" src="/demo/app/app.js"></script>');
    expect(html).not.toMatch(/(src|href)="https?:/);
  });

  it('serves the SDK bundle', async () => {
    const response = await fetch(`${server.url}/demo/app/sdk.js`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const code = await response.text();
    expect(code).toMatch(/export\s*\{[^}]*CascadeAppClient/);
    expect(code).not.toMatch(/^\s*import\s/m);
  });

  it('issues a working app token', async () => {
    const response = await fetch(`${server.url}/demo/app/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ profileId: 'routes-1' }),
    });
    expect(response.status).toBe(200);
    const { token } = (await response.json()) as { token: string };
    const inbox = await fetch(`${server.url}/v1/app/inbox`, { headers: { authorization: `Bearer ${token}` } });

    expect(inbox.status).toBe(200);
    expect(await inbox.json()).toEqual({ messages: [], lastSeq: 0 });
  });

  it('rejects a token request without profileId', async () => {
    const response = await fetch(`${server.url}/demo/app/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ profileId: '' }),
    });

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
  });

  it('is absent without the sandbox', async () => {
    const production = await startTestServer({ SANDBOX: '0' });
    try {
      const page = await fetch(`${production.url}/demo/app`);
      const token = await fetch(`${production.url}/demo/app/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ profileId: 'routes-1' }),
      });

      expect(page.status).toBe(404);
      expect(token.status).toBe(404);
    } finally {
      await production.dispose();
    }
  });
});
