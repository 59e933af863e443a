import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAppToken } from '../../src/channels/app/token.js';
import { api, startTestServer, waitForMessage, type TestServer } from '../helpers/server.js';
import { appApi, appToken, openAppSocket, rejectedUpgrade, type TokenBody } from './app-client.js';

const SECRET = 'app-token-secret-for-integration-tests-0001';

interface Problem { type: string; status: number; detail: string; errors?: Array<{ pointer: string; detail: string }> }
interface ProfileBody { profileId: string; addresses: Record<string, string> }

describe('app tokens and app authentication', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ APP_TOKEN_SECRET: SECRET, APP_TOKEN_TTL_SECONDS: '600' });
  });

  afterAll(async () => {
    await server.dispose();
  });

  describe('POST /v1/app/tokens', () => {
    it('creates a missing profile with its id as appUserId', async () => {
      const response = await api<TokenBody>(server, 'POST', '/v1/app/tokens', { profileId: 'new-user' });

      expect(response.status).toBe(201);
      expect(response.body.token).toMatch(/^cat1\./);
      expect(response.body.profileId).toBe('new-user');
      expect(response.body.appUserId).toBe('new-user');
      expect(response.body.socketUrl).toBe('/v1/app/socket');
      const claims = JSON.parse(Buffer.from(response.body.token.split('.')[1]!, 'base64url').toString('utf8')) as { iat: number; exp: number; appUserId: string };
      expect(claims.exp - claims.iat).toBe(600);
      expect(claims.appUserId).toBe('new-user');
      expect(response.body.expiresAt).toBe(new Date(claims.exp * 1000).toISOString());

      const profile = await api<ProfileBody>(server, 'GET', '/v1/profiles/new-user');
      expect(profile.status).toBe(200);
      expect(profile.body.addresses).toEqual({ appUserId: 'new-user' });
    });

    it('adds appUserId to a profile and keeps its other data', async () => {
      await api(server, 'PUT', '/v1/profiles/with-phone', { addresses: { phoneNumber: '+12025550150' }, properties: { firstName: 'Ada' } });

      const token = await appToken(server, 'with-phone');

      const profile = await api<ProfileBody & { properties: Record<string, unknown> }>(server, 'GET', '/v1/profiles/with-phone');
      expect(token.appUserId).toBe('with-phone');
      expect(profile.body.addresses).toEqual({ phoneNumber: '+12025550150', appUserId: 'with-phone' });
      expect(profile.body.properties).toEqual({ firstName: 'Ada' });
    });

    it('keeps a stored appUserId', async () => {
      await api(server, 'PUT', '/v1/profiles/custom', { addresses: { appUserId: 'app-7731' } });

      const token = await appToken(server, 'custom');

      expect(token.appUserId).toBe('app-7731');
    });

    it('rejects a missing or invalid profileId', async () => {
      for (const body of [{}, { profileId: '' }, { profileId: 7 }, { profileId: 'a', extra: true }]) {
        const response = await api<Problem>(server, 'POST', '/v1/app/tokens', body);
        expect(response.status).toBe(400);
        expect(response.contentType).toContain('application/problem+json');
        expect(response.body.errors?.length).toBeGreaterThan(0);
      }
    });

    it('needs the API key', async () => {
      const response = await api<Problem>(server, 'POST', '/v1/app/tokens', { profileId: 'x' }, 'wrong-key');

      expect(response.status).toBe(401);
    });
  });

  describe('rejected tokens', () => {
    const nowSeconds = () => Math.floor(Date.now() / 1000);
    const claims = (overrides: Record<string, unknown> = {}) => ({
      spaceId: 'default',
      profileId: 'kim',
      appUserId: 'kim',
      iat: nowSeconds() - 60,
      exp: nowSeconds() + 600,
      jti: 'test-jti',
      ...overrides,
    });

    it('token from POST /v1/app/tokens is accepted', async () => {
      const { token } = await appToken(server, 'kim');

      expect((await appApi(server, token, 'GET', '/v1/app/inbox')).status).toBe(200);
      const app = await openAppSocket(server, token);
      expect((await app.next('ready')).appUserId).toBe('kim');
      await app.close();
    });

    const cases: Array<[string, () => Promise<string>, string]> = [
      ['expired', async () => issueAppToken(claims({ iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 }), SECRET), 'expired'],
      ['signed with another secret', async () => issueAppToken(claims(), 'some-other-secret-of-32-characters!!'), 'not valid'],
      [
        'with claims swapped from another token',
        async () => {
          const kim = (await appToken(server, 'kim')).token.split('.');
          const lee = (await appToken(server, 'lee')).token.split('.');
          return `${kim[0]}.${lee[1]}.${kim[2]}`;
        },
        'not valid',
      ],
      ['garbage', async () => 'cat1.garbage', 'not valid'],
    ];

    for (const [name, makeToken, detail] of cases) {
      it(`${name} token gets 401 on socket and inbox`, async () => {
        const token = await makeToken();

        const viaProtocol = await rejectedUpgrade(server, token);
        const viaQuery = await rejectedUpgrade(server, token, { via: 'query' });
        const inbox = await appApi<Problem>(server, token, 'GET', '/v1/app/inbox');

        for (const rejected of [viaProtocol, viaQuery]) {
          expect(rejected.opened).toBe(false);
          expect(rejected.status).toBe(401);
          expect(rejected.body).toContain(detail);
          expect(rejected.body).not.toContain(token);
        }
        expect(inbox.status).toBe(401);
        expect(inbox.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
        expect(inbox.body.detail).toContain(detail);
      });
    }

    it('missing token gets 401 on socket and inbox', async () => {
      const socket = await rejectedUpgrade(server, null);
      const inbox = await appApi<Problem>(server, null, 'GET', '/v1/app/inbox');

      expect(socket.status).toBe(401);
      expect(socket.body).toContain('missing');
      expect(inbox.status).toBe(401);
      expect(inbox.headers.get('www-authenticate')).toBe('Bearer');
    });

    it('API key is not an app token', async () => {
      const inbox = await appApi(server, 'test-key-0123456789', 'GET', '/v1/app/inbox');

      expect(inbox.status).toBe(401);
    });
  });

  describe('scoping', () => {
    it('token for another profile sees nothing of this one', async () => {
      const owner = await appToken(server, 'owner');
      const other = await appToken(server, 'other');
      expect((await appApi(server, owner.token, 'PUT', '/v1/app/devices/owner-phone', {})).status).toBe(200);
      const created = await api<{ messageId: string }>(server, 'POST', '/v1/messages', { body: 'Private note', to: { profileId: 'owner' }, rules: ['appMessaging'] });
      const messageId = created.body.messageId;
      await waitForMessage<{ status: string }>(server, messageId, (message) => message.status === 'sent');

      const inbox = await appApi<{ messages: unknown[]; lastSeq: number }>(server, other.token, 'GET', '/v1/app/inbox');
      expect(inbox.body).toEqual({ messages: [], lastSeq: 0 });
      expect((await appApi<Problem>(server, other.token, 'POST', `/v1/app/inbox/${messageId}/ack`)).status).toBe(404);
      expect((await appApi<Problem>(server, other.token, 'POST', `/v1/app/inbox/${messageId}/read`)).status).toBe(404);
      expect((await appApi<Problem>(server, other.token, 'DELETE', '/v1/app/devices/owner-phone')).status).toBe(404);

      const app = await openAppSocket(server, other.token, { after: 0 });
      expect(await app.next()).toEqual({ type: 'ready', appUserId: 'other', lastSeq: 0 });
      app.send({ type: 'read', messageId });
      expect(await app.next('error')).toEqual({
        type: 'error',
        code: 'not-found',
        detail: `Message ${messageId} is not in this app user's feed.`,
        messageId,
      });
      await app.close();

      const message = await api<{ status: string }>(server, 'GET', `/v1/messages/${messageId}`);
      expect(message.body.status).toBe('sent');
      const ownInbox = await appApi<{ messages: Array<{ messageId: string; readAt: string | null }> }>(server, owner.token, 'GET', '/v1/app/inbox');
      expect(ownInbox.body.messages).toMatchObject([{ messageId, readAt: null }]);
    });

    it('token of another space reads an empty feed', async () => {
      const nowSeconds = Math.floor(Date.now() / 1000);
      const foreign = issueAppToken({ spaceId: 'other-space', profileId: 'owner', appUserId: 'owner', iat: nowSeconds, exp: nowSeconds + 600, jti: 'j' }, SECRET);

      const inbox = await appApi<{ messages: unknown[] }>(server, foreign, 'GET', '/v1/app/inbox');

      expect(inbox.status).toBe(200);
      expect(inbox.body.messages).toEqual([]);
    });
  });
});
