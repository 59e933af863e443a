import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, basic, createSpace, http, issueKey, type IssuedKey } from '../api/admin-client.js';
import { startTestServer, TEST_API_KEY, type TestServer } from '../helpers/server.js';

interface Problem {
  type: string;
  status: number;
  detail: string;
}

interface MessageJson {
  messageId: string;
  status: string;
  profileId: string | null;
}

interface ProfileJson {
  profileId: string;
  addresses: Record<string, string>;
  properties: Record<string, unknown>;
}

/** Scheduled far ahead, so the message stays unfinished and can be cancelled. */
const SCHEDULED = {
  body: 'Your parcel arrives today',
  to: { profileId: 'cust-1', phoneNumber: '+12025550101' },
  rules: ['sms'],
  sendAt: '2099-01-01T00:00:00Z',
};

let server: TestServer;
let spaceA: string;
let spaceB: string;
let keyA: IssuedKey;
let keyB: IssuedKey;
let messageA: string;

async function listIds(key: string, query = ''): Promise<string[]> {
  const response = await http<{ items: MessageJson[] }>(server, 'GET', `/v1/messages?limit=100${query}`, { key });
  expect(response.status).toBe(200);
  return response.body.items.map((item) => item.messageId);
}

async function profileOfA(): Promise<ProfileJson> {
  const response = await http<ProfileJson>(server, 'GET', '/v1/profiles/cust-1', { key: keyA.key });
  expect(response.status).toBe(200);
  return response.body;
}

beforeAll(async () => {
  server = await startTestServer({ ADMIN_KEY });
  spaceA = await createSpace(server, 'Space A');
  spaceB = await createSpace(server, 'Space B');
  keyA = await issueKey(server, spaceA);
  keyB = await issueKey(server, spaceB);

  const profile = await http(server, 'PUT', '/v1/profiles/cust-1', {
    key: keyA.key,
    body: { addresses: { email: 'ada@example.com' }, properties: { firstName: 'Ada' } },
  });
  expect(profile.status).toBe(201);
  const sent = await http<MessageJson>(server, 'POST', '/v1/messages', { key: keyA.key, body: SCHEDULED });
  expect(sent.status).toBe(201);
  messageA = sent.body.messageId;
});

afterAll(async () => {
  await server.dispose();
});

describe('space isolation', () => {
  it('space A sees its own objects', async () => {
    expect(await listIds(keyA.key)).toContain(messageA);
    expect((await http(server, 'GET', `/v1/messages/${messageA}`, { key: keyA.key })).status).toBe(200);
    expect((await profileOfA()).properties).toEqual({ firstName: 'Ada' });
  });

  it('A message is delivered in A', async () => {
    const sent = await http<MessageJson>(server, 'POST', '/v1/messages', {
      key: keyA.key,
      body: { body: 'Your code is 4417', to: { phoneNumber: '+12025550101' }, rules: ['sms'] },
    });
    expect(sent.status).toBe(201);

    const deadline = Date.now() + 15_000;
    let status = '';
    while (Date.now() < deadline && status !== 'delivered') {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = (await http<MessageJson>(server, 'GET', `/v1/messages/${sent.body.messageId}`, { key: keyA.key })).body.status;
    }

    expect(status).toBe('delivered');
  });

  it('B gets 404 for A message', async () => {
    const get = await http<Problem>(server, 'GET', `/v1/messages/${messageA}`, { key: keyB.key });
    const cancel = await http<Problem>(server, 'POST', `/v1/messages/${messageA}/cancel`, { key: keyB.key });
    const fromDefault = await http<Problem>(server, 'GET', `/v1/messages/${messageA}`, { key: TEST_API_KEY });

    expect(get.status).toBe(404);
    expect(get.body.type).toBe('urn:cascade:problem:not-found');
    expect(cancel.status).toBe(404);
    expect(fromDefault.status).toBe(404);
    const after = await http<MessageJson>(server, 'GET', `/v1/messages/${messageA}`, { key: keyA.key });
    expect(after.body.status).not.toBe('cancelled');
  });

  it('B lists none of A messages', async () => {
    expect(await listIds(keyB.key)).not.toContain(messageA);
    expect(await listIds(keyB.key, '&profileId=cust-1')).not.toContain(messageA);
    expect(await listIds(TEST_API_KEY)).not.toContain(messageA);
  });

  it('B gets 404 for A profile', async () => {
    const get = await http<Problem>(server, 'GET', '/v1/profiles/cust-1', { key: keyB.key });
    const patch = await http<Problem>(server, 'PATCH', '/v1/profiles/cust-1', { key: keyB.key, body: { properties: { firstName: 'Eve' } } });
    const remove = await http<Problem>(server, 'DELETE', '/v1/profiles/cust-1', { key: keyB.key });

    expect(get.status).toBe(404);
    expect(patch.status).toBe(404);
    expect(remove.status).toBe(404);
    expect((await profileOfA()).properties).toEqual({ firstName: 'Ada' });
  });

  it('B PUT creates its own profile', async () => {
    const put = await http<ProfileJson>(server, 'PUT', '/v1/profiles/cust-1', { key: keyB.key, body: { properties: { firstName: 'Eve' } } });

    expect(put.status).toBe(201);
    expect((await profileOfA()).properties).toEqual({ firstName: 'Ada' });
    const own = await http<ProfileJson>(server, 'GET', '/v1/profiles/cust-1', { key: keyB.key });
    expect(own.body.properties).toEqual({ firstName: 'Eve' });
  });

  it('B sends stay in B', async () => {
    const to = { profileId: 'cust-1', phoneNumber: '+12025550199', email: 'eve@example.com' };
    const single = await http<MessageJson>(server, 'POST', '/v1/messages', { key: keyB.key, body: { ...SCHEDULED, to } });
    const batch = await http<{ accepted: Array<{ messageId: string }> }>(server, 'POST', '/v1/messages/batch', {
      key: keyB.key,
      body: { messages: [{ ...SCHEDULED, to }] },
    });
    const compat = await http<MessageJson>(server, 'POST', '/cpaas/messages', { authorization: basic(keyB.key, ''), body: { ...SCHEDULED, to } });

    expect(single.status).toBe(201);
    expect(batch.status).toBe(202);
    expect(compat.status).toBe(201);
    const idsOfB = [single.body.messageId, batch.body.accepted[0]?.messageId ?? 'missing', compat.body.messageId];
    const listedForA = await listIds(keyA.key);
    const listedForB = await listIds(keyB.key);
    for (const id of idsOfB) {
      expect(listedForA).not.toContain(id);
      expect(listedForB).toContain(id);
      expect((await http(server, 'GET', `/v1/messages/${id}`, { key: keyA.key })).status).toBe(404);
    }
    expect((await profileOfA()).addresses).toEqual({ email: 'ada@example.com', phoneNumber: '+12025550101' });
  });

  it('B app token leaves A profile alone', async () => {
    const token = await http<{ appUserId: string }>(server, 'POST', '/v1/app/tokens', { key: keyB.key, body: { profileId: 'cust-1' } });

    // The route exists only when app messaging is configured, which test servers do.
    expect(token.status).toBe(201);
    expect((await profileOfA()).addresses.appUserId).toBeUndefined();
  });

  it('app messages of A stay out of other inboxes', async () => {
    const sent = await http<MessageJson>(server, 'POST', '/v1/messages', {
      key: keyA.key,
      body: { body: 'Only for space A', to: { appUserId: 'shared-user' }, rules: ['appMessaging'] },
    });
    expect(sent.status).toBe(201);
    const deadline = Date.now() + 10_000;
    let status = '';
    while (Date.now() < deadline && !['sent', 'failed'].includes(status)) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = (await http<MessageJson>(server, 'GET', `/v1/messages/${sent.body.messageId}`, { key: keyA.key })).body.status;
    }

    for (const key of [TEST_API_KEY, keyB.key]) {
      const token = await http<{ token: string }>(server, 'POST', '/v1/app/tokens', { key, body: { profileId: 'shared-user' } });
      const inbox = await http<{ messages: unknown[] }>(server, 'GET', '/v1/app/inbox?after=0', { key: token.body.token });
      expect(inbox.status).toBe(200);
      expect(inbox.body.messages).toEqual([]);
    }
  });

  it('B cannot use A rule sets', async () => {
    const put = await http(server, 'PUT', '/v1/rulesets/vip', { key: keyA.key, body: { rules: ['sms'] } });
    expect(put.status).toBe(201);

    const get = await http<Problem>(server, 'GET', '/v1/rulesets/vip', { key: keyB.key });
    const list = await http<{ items: Array<{ name: string }> }>(server, 'GET', '/v1/rulesets', { key: keyB.key });
    const remove = await http<Problem>(server, 'DELETE', '/v1/rulesets/vip', { key: keyB.key });
    const send = await http<Problem>(server, 'POST', '/v1/messages', { key: keyB.key, body: { body: 'Hi', to: { phoneNumber: '+12025550199' }, ruleSet: 'vip' } });

    expect(get.status).toBe(404);
    expect(list.status).toBe(200);
    expect(list.body.items.map((item) => item.name)).not.toContain('vip');
    expect(remove.status).toBe(404);
    expect(send.status).toBe(400);
    expect((await http(server, 'GET', '/v1/rulesets/vip', { key: keyA.key })).status).toBe(200);
  });

  it('B cannot see or change A channel settings', async () => {
    const settingsOfA = { host: '127.0.0.1', port: 2775, systemId: 'space-a', password: 'a-secret', sourceAddr: 'SPACEA' };
    expect((await http(server, 'PUT', '/v1/channels/sms', { key: keyA.key, body: settingsOfA })).status).toBe(201);

    const get = await http<Problem>(server, 'GET', '/v1/channels/sms', { key: keyB.key });
    const list = await http<{ items: unknown[] }>(server, 'GET', '/v1/channels', { key: keyB.key });
    const remove = await http<Problem>(server, 'DELETE', '/v1/channels/sms', { key: keyB.key });
    const own = await http<{ settings: Record<string, unknown> }>(server, 'PUT', '/v1/channels/sms', { key: keyB.key, body: { ...settingsOfA, systemId: 'space-b' } });

    expect(get.status).toBe(404);
    expect(list.body.items).toEqual([]);
    expect(remove.status).toBe(404);
    expect(own.status).toBe(201);
    const ofA = await http<{ settings: Record<string, unknown> }>(server, 'GET', '/v1/channels/sms', { key: keyA.key });
    expect(ofA.body.settings.systemId).toBe('space-a');
    expect((await http(server, 'DELETE', '/v1/channels/sms', { key: keyB.key })).status).toBe(204);
    expect((await http(server, 'GET', '/v1/channels/sms', { key: keyA.key })).status).toBe(200);
  });

  it('idempotency keys stay per space', async () => {
    const headers = { 'idempotency-key': 'order-88121' };
    const first = await http<MessageJson>(server, 'POST', '/v1/messages', { key: keyA.key, body: SCHEDULED, headers });
    const other = await http<MessageJson>(server, 'POST', '/v1/messages', { key: keyB.key, body: SCHEDULED, headers });

    expect(first.status).toBe(201);
    expect(other.status).toBe(201);
    expect(other.body.messageId).not.toBe(first.body.messageId);
    expect((await http(server, 'GET', `/v1/messages/${other.body.messageId}`, { key: keyA.key })).status).toBe(404);
  });

  it('B admin key cannot touch A keys', async () => {
    const adminB = await issueKey(server, spaceB, { scopes: ['admin'] });

    const list = await http<{ items: Array<{ keyId: string }> }>(server, 'GET', '/v1/keys', { key: adminB.key });
    const revoke = await http<Problem>(server, 'DELETE', `/v1/keys/${keyA.keyId}`, { key: adminB.key });

    expect(list.body.items.map((item) => item.keyId)).not.toContain(keyA.keyId);
    expect(list.body.items.map((item) => item.keyId)).toContain(keyB.keyId);
    expect(revoke.status).toBe(404);
    expect((await http(server, 'GET', '/v1/messages', { key: keyA.key })).status).toBe(200);
  });

  it('messages:read key of B cannot send', async () => {
    const reader = await issueKey(server, spaceB, { scopes: ['messages:read'] });

    const response = await http<Problem>(server, 'POST', '/v1/messages', { key: reader.key, body: SCHEDULED });

    expect(response.status).toBe(403);
    expect(response.body.detail).toContain('messages:write');
  });

  it('revoked key gets 401 on every route', async () => {
    const revoked = await issueKey(server, spaceA);
    const removed = await http(server, 'DELETE', `/v1/admin/spaces/${spaceA}/keys/${revoked.keyId}`, { key: ADMIN_KEY });
    expect(removed.status).toBe(204);

    const routes: Array<[string, string, unknown?]> = [
      ['POST', '/v1/messages', SCHEDULED],
      ['POST', '/v1/messages/batch', { messages: [SCHEDULED] }],
      ['GET', `/v1/messages/${messageA}`],
      ['GET', '/v1/messages'],
      ['POST', `/v1/messages/${messageA}/cancel`],
      ['PUT', '/v1/profiles/cust-1', {}],
      ['GET', '/v1/profiles/cust-1'],
      ['PATCH', '/v1/profiles/cust-1', { properties: { firstName: 'Mallory' } }],
      ['DELETE', '/v1/profiles/cust-1'],
      ['POST', '/v1/app/tokens', { profileId: 'cust-1' }],
      ['PUT', '/v1/rulesets/vip', { rules: ['email'] }],
      ['GET', '/v1/rulesets/vip'],
      ['GET', '/v1/rulesets'],
      ['DELETE', '/v1/rulesets/vip'],
      ['PUT', '/v1/channels/sms', { host: '127.0.0.1', systemId: 'x', password: 'x', sourceAddr: 'X' }],
      ['GET', '/v1/channels/sms'],
      ['GET', '/v1/channels'],
      ['DELETE', '/v1/channels/sms'],
      ['POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['message.sent'] }],
      ['GET', '/v1/webhooks'],
      ['GET', '/v1/keys'],
      ['POST', '/v1/keys', {}],
      ['DELETE', `/v1/keys/${keyA.keyId}`],
      ['POST', '/cpaas/messages', SCHEDULED],
    ];
    for (const [method, path, body] of routes) {
      const response = await http<Problem>(server, method, path, { key: revoked.key, ...(body === undefined ? {} : { body }) });

      expect(response.status, `${method} ${path}`).toBe(401);
    }
    expect((await profileOfA()).properties).toEqual({ firstName: 'Ada' });
    expect((await http(server, 'GET', '/v1/rulesets/vip', { key: keyA.key })).status).toBe(200);
    expect((await http(server, 'GET', '/v1/messages', { key: keyA.key })).status).toBe(200);
  });
});
