import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_API_KEY, type TestServer } from '../helpers/server.js';
import { ADMIN_KEY, capturingLogger, createSpace, http, issueKey } from './admin-client.js';

interface Problem {
  type: string;
  status: number;
  detail: string;
}

interface KeyJson {
  keyId: string;
  prefix: string;
  name: string | null;
  scopes: string[] | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

describe('admin API without ADMIN_KEY', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });

  afterAll(async () => {
    await server.dispose();
  });

  it('answers 403 on every admin route', async () => {
    const routes: Array<[string, string]> = [
      ['POST', '/v1/admin/spaces'],
      ['GET', '/v1/admin/spaces'],
      ['GET', '/v1/admin/spaces/default'],
      ['POST', '/v1/admin/spaces/default/keys'],
      ['GET', '/v1/admin/spaces/default/keys'],
      ['DELETE', '/v1/admin/spaces/default/keys/abc'],
    ];
    for (const [method, path] of routes) {
      const response = await http<Problem>(server, method, path, { key: TEST_API_KEY, ...(method === 'POST' ? { body: { name: 'x' } } : {}) });

      expect(response.status, `${method} ${path}`).toBe(403);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.body.type).toBe('urn:cascade:problem:admin-api-disabled');
      expect(response.body.detail).toContain('ADMIN_KEY');
    }
  });
});

describe('admin API', () => {
  let server: TestServer;
  const log = capturingLogger();

  beforeAll(async () => {
    server = await startTestServer({ ADMIN_KEY }, { logger: log.logger });
  });

  afterAll(async () => {
    await server.dispose();
  });

  it('answers 401 without the admin key', async () => {
    const missing = await http<Problem>(server, 'GET', '/v1/admin/spaces');
    const wrong = await http<Problem>(server, 'GET', '/v1/admin/spaces', { key: `${ADMIN_KEY}x` });
    const apiKey = await http<Problem>(server, 'GET', '/v1/admin/spaces', { key: TEST_API_KEY });

    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect(missing.body.detail).toContain('Authorization header is missing');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(apiKey.status).toBe(401);
  });

  it('does not accept the admin key as an API key', async () => {
    const response = await http(server, 'GET', '/v1/messages', { key: ADMIN_KEY });

    expect(response.status).toBe(401);
  });

  it('creates, lists and gets spaces', async () => {
    const created = await http<{ spaceId: string; name: string; createdAt: string }>(server, 'POST', '/v1/admin/spaces', {
      key: ADMIN_KEY,
      body: { name: 'Acme Retail' },
    });
    const list = await http<{ items: Array<{ spaceId: string; name: string }> }>(server, 'GET', '/v1/admin/spaces', { key: ADMIN_KEY });
    const fetched = await http(server, 'GET', `/v1/admin/spaces/${created.body.spaceId}`, { key: ADMIN_KEY });

    expect(created.status).toBe(201);
    expect(created.body).toEqual({ spaceId: expect.any(String), name: 'Acme Retail', createdAt: expect.any(String) });
    expect(Number.isNaN(Date.parse(created.body.createdAt))).toBe(false);
    expect(list.status).toBe(200);
    expect(list.body.items).toContainEqual(expect.objectContaining({ spaceId: 'default' }));
    expect(list.body.items).toContainEqual(created.body);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(created.body);
  });

  it('answers 404 for an unknown space', async () => {
    const get = await http<Problem>(server, 'GET', '/v1/admin/spaces/no-such-space', { key: ADMIN_KEY });
    const issue = await http<Problem>(server, 'POST', '/v1/admin/spaces/no-such-space/keys', { key: ADMIN_KEY, body: {} });
    const list = await http<Problem>(server, 'GET', '/v1/admin/spaces/no-such-space/keys', { key: ADMIN_KEY });
    const revoke = await http<Problem>(server, 'DELETE', '/v1/admin/spaces/no-such-space/keys/abc', { key: ADMIN_KEY });

    for (const response of [get, issue, list, revoke]) {
      expect(response.status).toBe(404);
      expect(response.body.detail).toContain('no-such-space');
    }
  });

  it('rejects invalid space bodies', async () => {
    const cases = [{}, { name: '' }, { name: '   ' }, { name: 'a'.repeat(201) }, { name: 'ok', extra: 1 }, { name: 42 }];
    for (const body of cases) {
      const response = await http<Problem>(server, 'POST', '/v1/admin/spaces', { key: ADMIN_KEY, body });

      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.type).toBe('urn:cascade:problem:invalid-request');
    }
  });

  it('issues a key shown once', async () => {
    const spaceId = await createSpace(server, 'Key shop');

    const issued = await issueKey(server, spaceId, { name: 'billing backend' });

    expect(issued.key).toMatch(/^csk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(issued.key.startsWith(`csk_${issued.keyId}_`)).toBe(true);
    expect(issued.prefix).toBe(issued.key.slice(0, 12));
    expect(issued.name).toBe('billing backend');
    expect(issued.scopes).toBeNull();
    expect(Number.isNaN(Date.parse(issued.createdAt))).toBe(false);

    const list = await http<{ items: KeyJson[] }>(server, 'GET', `/v1/admin/spaces/${spaceId}/keys`, { key: ADMIN_KEY });
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([
      { keyId: issued.keyId, prefix: issued.prefix, name: 'billing backend', scopes: null, createdAt: issued.createdAt, lastUsedAt: null, revokedAt: null },
    ]);
    expect(JSON.stringify(list.body)).not.toContain(issued.key.slice(12));
  });

  it('issued key acts in its space', async () => {
    const spaceId = await createSpace(server, 'Fresh');
    const { key } = await issueKey(server, spaceId);

    const list = await http<{ items: unknown[] }>(server, 'GET', '/v1/messages', { key });
    const profile = await http(server, 'PUT', '/v1/profiles/cust-1', { key, body: { properties: { firstName: 'Ada' } } });
    const fromDefault = await http(server, 'GET', '/v1/profiles/cust-1', { key: TEST_API_KEY });

    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([]);
    expect(profile.status).toBe(201);
    expect(fromDefault.status).toBe(404);
  });

  it('expands and orders scopes', async () => {
    const spaceId = await createSpace(server, 'Scoped');

    const issued = await issueKey(server, spaceId, { scopes: ['profiles:*', 'messages:read', 'messages:read'] });

    expect(issued.scopes).toEqual(['messages:read', 'profiles:read', 'profiles:write']);
  });

  it('rejects invalid key bodies', async () => {
    const spaceId = await createSpace(server, 'Strict');
    const cases = [{ scopes: [] }, { scopes: ['messages:delete'] }, { scopes: 'admin' }, { name: '' }, { name: 'n'.repeat(101) }, { owner: 'x' }];
    for (const body of cases) {
      const response = await http<Problem>(server, 'POST', `/v1/admin/spaces/${spaceId}/keys`, { key: ADMIN_KEY, body });

      expect(response.status, JSON.stringify(body)).toBe(400);
    }
    const list = await http<{ items: unknown[] }>(server, 'GET', `/v1/admin/spaces/${spaceId}/keys`, { key: ADMIN_KEY });
    expect(list.body.items).toEqual([]);
  });

  it('records the last use of a key', async () => {
    const spaceId = await createSpace(server, 'Busy');
    const issued = await issueKey(server, spaceId);

    await http(server, 'GET', '/v1/messages', { key: issued.key });
    const list = await http<{ items: KeyJson[] }>(server, 'GET', `/v1/admin/spaces/${spaceId}/keys`, { key: ADMIN_KEY });

    const lastUsedAt = list.body.items[0]?.lastUsedAt;
    expect(lastUsedAt).not.toBeNull();
    expect(Date.parse(lastUsedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(issued.createdAt));
  });

  it('revokes a key at once', async () => {
    const spaceId = await createSpace(server, 'Revokers');
    const issued = await issueKey(server, spaceId);
    const before = await http(server, 'GET', '/v1/messages', { key: issued.key });

    const revoke = await http(server, 'DELETE', `/v1/admin/spaces/${spaceId}/keys/${issued.keyId}`, { key: ADMIN_KEY });
    const after = await http<Problem>(server, 'GET', '/v1/messages', { key: issued.key });
    const again = await http(server, 'DELETE', `/v1/admin/spaces/${spaceId}/keys/${issued.keyId}`, { key: ADMIN_KEY });
    const list = await http<{ items: KeyJson[] }>(server, 'GET', `/v1/admin/spaces/${spaceId}/keys`, { key: ADMIN_KEY });

    expect(before.status).toBe(200);
    expect(revoke.status).toBe(204);
    expect(after.status).toBe(401);
    expect(after.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(again.status).toBe(204);
    expect(list.body.items[0]?.revokedAt).not.toBeNull();
  });

  it('revokes only through the key space', async () => {
    const owner = await createSpace(server, 'Owner');
    const other = await createSpace(server, 'Other');
    const issued = await issueKey(server, owner);

    const wrongSpace = await http<Problem>(server, 'DELETE', `/v1/admin/spaces/${other}/keys/${issued.keyId}`, { key: ADMIN_KEY });
    const unknown = await http<Problem>(server, 'DELETE', `/v1/admin/spaces/${owner}/keys/0000000000000000`, { key: ADMIN_KEY });
    const stillWorks = await http(server, 'GET', '/v1/messages', { key: issued.key });

    expect(wrongSpace.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(stillWorks.status).toBe(200);
  });

  it('lists the configured key under the default space', async () => {
    const list = await http<{ items: KeyJson[] }>(server, 'GET', '/v1/admin/spaces/default/keys', { key: ADMIN_KEY });

    const configured = list.body.items.find((key) => key.name === 'API_KEY');
    expect(configured).toBeDefined();
    expect(configured?.scopes).toBeNull();
    expect(configured?.revokedAt).toBeNull();
    expect(TEST_API_KEY.startsWith(configured?.prefix ?? 'no prefix')).toBe(true);
    expect((configured?.prefix ?? '').length).toBeLessThanOrEqual(TEST_API_KEY.length / 4);
  });

  it('keeps keys out of the log', async () => {
    const spaceId = await createSpace(server, 'Quiet');
    const issued = await issueKey(server, spaceId);
    await http(server, 'GET', '/v1/messages', { key: issued.key });
    await http(server, 'DELETE', `/v1/admin/spaces/${spaceId}/keys/${issued.keyId}`, { key: ADMIN_KEY });

    const text = log.lines.join('');
    expect(text).toContain('API key issued');
    expect(text).toContain('API key revoked');
    expect(text).toContain(issued.keyId);
    expect(text).not.toContain(issued.key);
    expect(text).not.toContain(issued.key.slice(21));
    expect(text).not.toContain(ADMIN_KEY);
    expect(text).not.toContain(TEST_API_KEY);
  });
});
