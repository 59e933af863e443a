import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAppToken } from '../../src/channels/app/token.js';
import { api, startTestServer, waitForMessage, type TestServer } from '../helpers/server.js';
import { appToken, openAppSocket, rejectedUpgrade } from './app-client.js';

const SECRET = 'app-token-secret-for-socket-tests-000001';

async function send(server: TestServer, profileId: string, body: string): Promise<string> {
  const created = await api<{ messageId: string }>(server, 'POST', '/v1/messages', { body, to: { profileId }, rules: ['appMessaging'] });
  expect(created.status).toBe(201);
  return created.body.messageId;
}

describe('app socket protocol', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ APP_TOKEN_SECRET: SECRET });
  });

  afterAll(async () => {
    await server.dispose();
  });

  it('token in the query parameter works', async () => {
    const { token } = await appToken(server, 'query-user');

    const app = await openAppSocket(server, token, { via: 'query' });

    expect(app.ws.protocol).toBe('cascade.v1');
    expect(await app.next('ready')).toEqual({ type: 'ready', appUserId: 'query-user', lastSeq: 0 });
    await app.close();
  });

  it('subprotocol list without cascade.v1 is rejected', async () => {
    const { token } = await appToken(server, 'query-user');
    const url = `${server.url.replace(/^http/, 'ws')}/v1/app/socket?token=${token}`;
    const { default: WebSocket } = await import('ws');
    const ws = new WebSocket(url, ['chat.v2']);

    const status = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      ws.once('open', () => resolve(101));
      ws.once('error', () => undefined);
    });

    expect(status).toBe(400);
  });

  it('plain GET of the socket path gets 426', async () => {
    const { token } = await appToken(server, 'query-user');

    const response = await fetch(`${server.url}/v1/app/socket?token=${token}`);

    expect(response.status).toBe(426);
    expect(response.headers.get('upgrade')).toBe('websocket');
  });

  it('invalid after gets 400 before the upgrade', async () => {
    const { token } = await appToken(server, 'query-user');
    const url = new URL('/v1/app/socket', server.url);

    const rejected = await rejectedUpgrade({ url: server.url }, token, { after: -1 });

    expect(rejected.status).toBe(400);
    expect(rejected.body).toContain('/after');
    expect(url.pathname).toBe('/v1/app/socket');
  });

  it('after beyond the feed counts as its end', async () => {
    const { token } = await appToken(server, 'reset-user');
    await api(server, 'PUT', '/v1/profiles/reset-user', { addresses: { appUserId: 'reset-user' } });
    const first = await openAppSocket(server, token);
    await first.next('ready');
    const messageId = await send(server, 'reset-user', 'before the reset');
    const seen = await first.next('message');
    first.send({ type: 'ack', messageId });
    await waitForMessage(server, messageId);
    await first.close();

    const app = await openAppSocket(server, token, { after: seen.seq + 1_000_000 });

    expect(await app.next()).toEqual({ type: 'ready', appUserId: 'reset-user', lastSeq: seen.seq });
    const later = await send(server, 'reset-user', 'after the reset');
    expect((await app.next('message')).messageId).toBe(later);
    await app.close();
  });

  it('invalid frames get error frames and the socket stays usable', async () => {
    const { token } = await appToken(server, 'noisy');
    const app = await openAppSocket(server, token);
    await app.next('ready');
    const messageId = await send(server, 'noisy', 'hello');
    await app.next('message');

    app.send('this is not JSON');
    expect(await app.next('error')).toMatchObject({ code: 'invalid-frame' });
    app.send({ type: 'ack' });
    expect(await app.next('error')).toMatchObject({ code: 'invalid-frame' });
    app.send({ type: 'dance' });
    expect(await app.next('error')).toMatchObject({ code: 'unknown-frame-type' });
    app.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await app.next('error')).toMatchObject({ code: 'invalid-frame' });

    app.send({ type: 'ack', messageId });
    const message = await waitForMessage<{ status: string }>(server, messageId);
    expect(message.status).toBe('delivered');
    await app.close();
  });

  it('ten invalid frames close the socket with 1008', async () => {
    const { token } = await appToken(server, 'noisy');
    const app = await openAppSocket(server, token);
    await app.next('ready');

    for (let i = 0; i < 10; i += 1) app.send('{');

    expect((await app.closed).code).toBe(1008);
  });

  it('frame over 4096 bytes closes the socket with 1009', async () => {
    const { token } = await appToken(server, 'noisy');
    const app = await openAppSocket(server, token);
    await app.next('ready');

    app.send({ type: 'ack', messageId: 'm'.repeat(5000) });

    expect((await app.closed).code).toBe(1009);
  });

  it('seventeenth socket of one user is rejected with 429', async () => {
    const { token } = await appToken(server, 'many-tabs');
    const sockets = [];
    for (let i = 0; i < 16; i += 1) sockets.push(await openAppSocket(server, token));

    const rejected = await rejectedUpgrade(server, token);

    expect(rejected.status).toBe(429);
    await Promise.all(sockets.map((socket) => socket.close()));
  });

  it('socket closes with 4401 when its token expires', async () => {
    const nowSeconds = Math.floor(Date.now() / 1000);
    const token = issueAppToken({ spaceId: 'default', profileId: 'short', appUserId: 'short', iat: nowSeconds, exp: nowSeconds + 2, jti: 'j' }, SECRET);
    const app = await openAppSocket(server, token);
    await app.next('ready');

    expect((await app.closed).code).toBe(4401);
  });
});

describe('app socket heartbeat and shutdown', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ APP_TOKEN_SECRET: SECRET, APP_SOCKET_PING_SECONDS: '1', APP_SOCKET_PONG_TIMEOUT_SECONDS: '1' });
  });

  afterAll(async () => {
    await server.dispose();
  });

  it('socket that answers pings stays open', async () => {
    const { token } = await appToken(server, 'awake');
    const app = await openAppSocket(server, token);
    await app.next('ready');

    while (app.frames.filter((frame) => frame.type === 'ping').length < 3) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(app.ws.readyState).toBe(app.ws.OPEN);
    }

    const ping = app.frames.find((frame): frame is Extract<typeof frame, { type: 'ping' }> => frame.type === 'ping');
    expect(Date.parse(ping!.at)).not.toBeNaN();
    expect(app.ws.readyState).toBe(app.ws.OPEN);
    await app.close();
  });

  it('socket without pong is closed with 4408', async () => {
    const { token } = await appToken(server, 'asleep');
    const app = await openAppSocket(server, token, { autoPong: false });
    await app.next('ready');

    const closed = await app.closed;

    expect(closed.code).toBe(4408);
    expect(app.frames.some((frame) => frame.type === 'ping')).toBe(true);
  });

  it('server shutdown closes sockets with 1001', async () => {
    const own = await startTestServer({ APP_TOKEN_SECRET: SECRET });
    const { token } = await appToken(own, 'leaving');
    const app = await openAppSocket(own, token);
    await app.next('ready');

    await own.dispose();

    expect((await app.closed).code).toBe(1001);
  });
});
