import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { ADMIN_KEY, createSpace, http, issueKey, type IssuedKey } from './admin-client.js';

interface Problem {
  type: string;
  status: number;
  detail: string;
}

const SEND = { body: 'Your code is 4417', to: { phoneNumber: '+12025550103' }, rules: ['sms'] };
const SCHEDULED = { ...SEND, sendAt: '2099-01-01T00:00:00Z' };

let server: TestServer;
let spaceId: string;
let full: IssuedKey;

beforeAll(async () => {
  server = await startTestServer({ ADMIN_KEY });
  spaceId = await createSpace(server, 'Scopes');
  full = await issueKey(server, spaceId);
});

afterAll(async () => {
  await server.dispose();
});

describe('route scopes', () => {
  it('messages:read reads but cannot send', async () => {
    const { key } = await issueKey(server, spaceId, { scopes: ['messages:read'] });
    const sent = await http<{ messageId: string }>(server, 'POST', '/v1/messages', { key: full.key, body: SCHEDULED });

    const send = await http<Problem>(server, 'POST', '/v1/messages', { key, body: SEND });
    const batch = await http<Problem>(server, 'POST', '/v1/messages/batch', { key, body: { messages: [SEND] } });
    const cancel = await http<Problem>(server, 'POST', `/v1/messages/${sent.body.messageId}/cancel`, { key });
    const get = await http(server, 'GET', `/v1/messages/${sent.body.messageId}`, { key });
    const list = await http(server, 'GET', '/v1/messages', { key });

    for (const response of [send, batch, cancel]) {
      expect(response.status).toBe(403);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.body.type).toBe('urn:cascade:problem:insufficient-scope');
      expect(response.body.detail).toContain('messages:write');
      expect(response.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope", scope="messages:write"');
    }
    expect(get.status).toBe(200);
    expect(list.status).toBe(200);
  });

  it('a 403 stores nothing', async () => {
    const { key } = await issueKey(server, spaceId, { scopes: ['messages:read'] });
    const before = await http<{ items: unknown[] }>(server, 'GET', '/v1/messages?limit=100', { key: full.key });

    await http(server, 'POST', '/v1/messages', { key, body: { ...SEND, to: { profileId: 'never-stored', phoneNumber: '+12025550103' } } });

    const after = await http<{ items: unknown[] }>(server, 'GET', '/v1/messages?limit=100', { key: full.key });
    const profile = await http(server, 'GET', '/v1/profiles/never-stored', { key: full.key });
    expect(after.body.items).toHaveLength(before.body.items.length);
    expect(profile.status).toBe(404);
  });

  it('messages:write sends but cannot read', async () => {
    const { key } = await issueKey(server, spaceId, { scopes: ['messages:write'] });

    const send = await http<{ messageId: string }>(server, 'POST', '/v1/messages', { key, body: SCHEDULED });
    const get = await http<Problem>(server, 'GET', `/v1/messages/${send.body.messageId}`, { key });
    const cancel = await http(server, 'POST', `/v1/messages/${send.body.messageId}/cancel`, { key });

    expect(send.status).toBe(201);
    expect(get.status).toBe(403);
    expect(get.body.detail).toContain('messages:read');
    expect(cancel.status).toBe(200);
  });

  it('profiles:read cannot write profiles', async () => {
    const { key } = await issueKey(server, spaceId, { scopes: ['profiles:read'] });
    await http(server, 'PUT', '/v1/profiles/reader-1', { key: full.key, body: { properties: { firstName: 'Ada' } } });

    const get = await http(server, 'GET', '/v1/profiles/reader-1', { key });
    const put = await http<Problem>(server, 'PUT', '/v1/profiles/reader-1', { key, body: {} });
    const patch = await http<Problem>(server, 'PATCH', '/v1/profiles/reader-1', { key, body: { properties: { firstName: 'Eve' } } });
    const remove = await http<Problem>(server, 'DELETE', '/v1/profiles/reader-1', { key });
    const messages = await http<Problem>(server, 'GET', '/v1/messages', { key });

    expect(get.status).toBe(200);
    for (const response of [put, patch, remove]) {
      expect(response.status).toBe(403);
      expect(response.body.detail).toContain('profiles:write');
    }
    expect(messages.status).toBe(403);
    expect(messages.body.detail).toContain('messages:read');
  });

  it('profiles:* grants both profile scopes', async () => {
    const { key } = await issueKey(server, spaceId, { scopes: ['profiles:*'] });

    const put = await http(server, 'PUT', '/v1/profiles/star-1', { key, body: {} });
    const get = await http(server, 'GET', '/v1/profiles/star-1', { key });
    const send = await http(server, 'POST', '/v1/messages', { key, body: SEND });

    expect(put.status).toBe(201);
    expect(get.status).toBe(200);
    expect(send.status).toBe(403);
  });

  it('space configuration needs admin', async () => {
    const sender = await issueKey(server, spaceId, { scopes: ['messages:write', 'messages:read', 'profiles:*'] });
    const admin = await issueKey(server, spaceId, { scopes: ['admin'] });
    const calls: Array<[string, string, unknown?]> = [
      ['PUT', '/v1/rulesets/scoped', { rules: ['sms'] }],
      ['GET', '/v1/rulesets'],
      ['POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['message.sent'] }],
      ['GET', '/v1/webhooks'],
      ['PUT', '/v1/channels/sms', { host: '127.0.0.1', systemId: 'scoped', password: 'scoped', sourceAddr: 'SCOPED' }],
      ['GET', '/v1/channels'],
    ];

    for (const [method, path, body] of calls) {
      const rejected = await http<Problem>(server, method, path, { key: sender.key, ...(body === undefined ? {} : { body }) });
      expect(rejected.status, `${method} ${path}`).toBe(403);
      expect(rejected.body.detail, `${method} ${path}`).toContain('admin');
      const allowed = await http(server, method, path, { key: admin.key, ...(body === undefined ? {} : { body }) });
      expect(allowed.status, `${method} ${path}`).toBeLessThan(300);
    }
  });

  it('app tokens need messages:write', async () => {
    const reader = await issueKey(server, spaceId, { scopes: ['messages:read'] });
    const sender = await issueKey(server, spaceId, { scopes: ['messages:write'] });

    const rejected = await http<Problem>(server, 'POST', '/v1/app/tokens', { key: reader.key, body: { profileId: 'app-user' } });
    const issued = await http<{ token: string }>(server, 'POST', '/v1/app/tokens', { key: sender.key, body: { profileId: 'app-user' } });

    expect(rejected.status).toBe(403);
    expect(rejected.body.detail).toContain('messages:write');
    expect(issued.status).toBe(201);
  });

  it('checks the key before the body', async () => {
    const { key } = await issueKey(server, spaceId, { scopes: ['messages:read'] });

    const response = await http(server, 'POST', '/v1/messages', { key, body: { nonsense: true } });

    expect(response.status).toBe(403);
  });
});

describe('space keys under /v1/keys', () => {
  it('needs the admin scope', async () => {
    const { key } = await issueKey(server, spaceId, { scopes: ['messages:write', 'messages:read', 'profiles:*'] });

    const list = await http<Problem>(server, 'GET', '/v1/keys', { key });
    const issue = await http<Problem>(server, 'POST', '/v1/keys', { key, body: {} });
    const revoke = await http<Problem>(server, 'DELETE', `/v1/keys/${full.keyId}`, { key });

    for (const response of [list, issue, revoke]) {
      expect(response.status).toBe(403);
      expect(response.body.detail).toContain('admin');
    }
  });

  it('lists the keys of its own space', async () => {
    const ownSpace = await createSpace(server, 'Listing');
    const admin = await issueKey(server, ownSpace, { scopes: ['admin'] });
    const other = await issueKey(server, ownSpace, { scopes: ['messages:read'], name: 'reader' });
    await issueKey(server, spaceId, { name: 'not listed' });

    const list = await http<{ items: Array<{ keyId: string; name: string | null }> }>(server, 'GET', '/v1/keys', { key: admin.key });

    expect(list.status).toBe(200);
    expect(list.body.items.map((item) => item.keyId)).toEqual([admin.keyId, other.keyId]);
    expect(JSON.stringify(list.body)).not.toContain(other.key);
  });

  it('issues keys with scopes it holds', async () => {
    const { key } = await issueKey(server, spaceId, { scopes: ['admin', 'messages:read'] });

    const narrower = await http<IssuedKey>(server, 'POST', '/v1/keys', { key, body: { scopes: ['messages:read'], name: 'dashboard' } });
    const used = await http(server, 'GET', '/v1/messages', { key: narrower.body.key });
    const wider = await http<Problem>(server, 'POST', '/v1/keys', { key, body: { scopes: ['messages:read', 'messages:write'] } });
    const unlimited = await http<Problem>(server, 'POST', '/v1/keys', { key, body: {} });

    expect(narrower.status).toBe(201);
    expect(narrower.body.scopes).toEqual(['messages:read']);
    expect(narrower.body.name).toBe('dashboard');
    expect(used.status).toBe(200);
    expect(wider.status).toBe(403);
    expect(wider.body.type).toBe('urn:cascade:problem:insufficient-scope');
    expect(wider.body.detail).toContain('messages:write');
    expect(wider.body.detail).not.toContain('messages:read,');
    expect(unlimited.status).toBe(403);
    expect(unlimited.body.detail).toContain('every scope');
  });

  it('a key without scopes issues any key', async () => {
    const response = await http<IssuedKey>(server, 'POST', '/v1/keys', { key: full.key, body: {} });

    expect(response.status).toBe(201);
    expect(response.body.scopes).toBeNull();
  });

  it('revokes keys of its own space only', async () => {
    const mine = await createSpace(server, 'Mine');
    const theirs = await createSpace(server, 'Theirs');
    const admin = await issueKey(server, mine, { scopes: ['admin'] });
    const ownKey = await issueKey(server, mine);
    const foreignKey = await issueKey(server, theirs);

    const foreign = await http<Problem>(server, 'DELETE', `/v1/keys/${foreignKey.keyId}`, { key: admin.key });
    const own = await http(server, 'DELETE', `/v1/keys/${ownKey.keyId}`, { key: admin.key });

    expect(foreign.status).toBe(404);
    expect((await http(server, 'GET', '/v1/messages', { key: foreignKey.key })).status).toBe(200);
    expect(own.status).toBe(204);
    expect((await http(server, 'GET', '/v1/messages', { key: ownKey.key })).status).toBe(401);
  });

  it('a key can revoke itself', async () => {
    const admin = await issueKey(server, spaceId, { scopes: ['admin'] });

    const revoke = await http(server, 'DELETE', `/v1/keys/${admin.keyId}`, { key: admin.key });
    const after = await http(server, 'GET', '/v1/keys', { key: admin.key });

    expect(revoke.status).toBe(204);
    expect(after.status).toBe(401);
  });

  it('the admin key cannot use /v1/keys', async () => {
    const response = await http(server, 'GET', '/v1/keys', { key: ADMIN_KEY });

    expect(response.status).toBe(401);
  });
});
