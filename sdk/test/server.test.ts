import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { api, startTestServer, waitForMessage, type TestServer } from '../../test/helpers/server.js';
import { CascadeAppClient } from '../src/client.js';
import type { AppClientOptions } from '../src/options.js';
import type { AppClientError } from '../src/errors.js';
import type { FeedMessage } from '../src/protocol.js';
import type { WebSocketConstructor } from '../src/transport.js';

interface TrackedSocket {
  socket: WebSocket;
  /** `performance.now()` when the client created the socket, one per connection attempt. */
  createdAt: number;
}

/** Creates a subclass of the ws class that keeps its instances, so that a test can cut a client's connection. */
function trackedWebSocket(): { WebSocket: WebSocketConstructor; sockets: TrackedSocket[] } {
  const sockets: TrackedSocket[] = [];
  class Tracked extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push({ socket: this, createdAt: performance.now() });
    }
  }
  return { WebSocket: Tracked, sockets };
}

interface MessageView {
  messageId: string;
  status: string;
  completedAt: string | null;
}

let server: TestServer;
const clients: CascadeAppClient[] = [];

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await server?.dispose();
});

async function issueToken(profileId: string): Promise<string> {
  const response = await api<{ token: string; appUserId: string }>(server, 'POST', '/v1/app/tokens', { profileId });
  expect(response.status).toBe(201);
  return response.body.token;
}

interface Recorded {
  client: CascadeAppClient;
  messages: FeedMessage[];
  errors: AppClientError[];
  sockets: TrackedSocket[];
}

function startClient(options: Partial<AppClientOptions> & Pick<AppClientOptions, 'token'>): Recorded {
  const tracked = trackedWebSocket();
  const client = new CascadeAppClient({ baseUrl: server.url, WebSocket: tracked.WebSocket, reconnect: { minMs: 50, maxMs: 400 }, ...options });
  clients.push(client);
  const recorded: Recorded = { client, messages: [], errors: [], sockets: tracked.sockets };
  client.on('message', (message) => recorded.messages.push(message));
  client.on('error', (error) => recorded.errors.push(error));
  return recorded;
}

async function send(profileId: string, body: string, rules: unknown[] = ['appMessaging']): Promise<string> {
  const response = await api<{ messageId: string }>(server, 'POST', '/v1/messages', { title: 'Update', body, to: { profileId }, rules });
  expect(response.status).toBe(201);
  return response.body.messageId;
}

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Registers a device without push, so that sends are accepted while the app has no socket. */
async function registerPollingDevice(token: string, deviceId: string): Promise<void> {
  const response = await fetch(`${server.url}/v1/app/devices/${deviceId}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: '{}',
  });
  expect(response.status).toBe(200);
}

describe('SDK against the server', () => {
  it('receives a message and acks it', async () => {
    const recorded = startClient({ token: await issueToken('sdk-1') });
    await recorded.client.connect();
    const messageId = await send('sdk-1', 'Your parcel arrives today.');
    await until(() => recorded.messages.length === 1, 'the message');

    expect(recorded.messages[0]).toMatchObject({ messageId, title: 'Update', body: 'Your parcel arrives today.', readAt: null });
    const view = await waitForMessage<MessageView>(server, messageId);
    expect(view.status).toBe('delivered');
    expect(recorded.errors).toEqual([]);
  });

  it('marks a message read', async () => {
    const recorded = startClient({ token: await issueToken('sdk-2') });
    await recorded.client.connect();
    const messageId = await send('sdk-2', 'Please confirm.', [{ channel: 'appMessaging', fallbackUnless: 'read' }]);
    await until(() => recorded.messages.length === 1, 'the message');
    await recorded.client.markRead(messageId);

    const view = await waitForMessage<MessageView>(server, messageId);
    expect(view.status).toBe('read');
  });

  it('marks read over HTTP when closed', async () => {
    const recorded = startClient({ token: await issueToken('sdk-3') });
    await recorded.client.connect();
    const messageId = await send('sdk-3', 'Read me later.', [{ channel: 'appMessaging', fallbackUnless: 'read' }]);
    await until(() => recorded.messages.length === 1, 'the message');
    await recorded.client.close();
    await recorded.client.markRead(messageId);

    const view = await waitForMessage<MessageView>(server, messageId);
    expect(view.status).toBe('read');
  });

  it('reads the inbox over HTTP', async () => {
    const token = await issueToken('sdk-4');
    await registerPollingDevice(token, 'phone');
    const first = await send('sdk-4', 'First.');
    const second = await send('sdk-4', 'Second.');
    // Sending runs in the background; `sent` means the message is in the feed.
    for (const messageId of [first, second]) await waitForMessage<MessageView>(server, messageId, (view) => view.status === 'sent');
    const recorded = startClient({ token });
    const page = await recorded.client.inbox({ after: 0, limit: 10 });

    expect(page.messages.map((message) => message.messageId)).toEqual([first, second]);
    expect(page.lastSeq).toBe(page.messages[1]!.seq);
    expect(recorded.messages).toEqual([]);
  });

  it('resumes after a drop without loss', async () => {
    const token = await issueToken('sdk-5');
    await registerPollingDevice(token, 'phone');
    let tokenCalls = 0;
    const recorded = startClient({
      token: async () => {
        tokenCalls += 1;
        return token;
      },
    });
    const disconnects: Array<number | null> = [];
    recorded.client.on('disconnected', ({ reconnectInMs }) => disconnects.push(reconnectInMs));
    await recorded.client.connect();
    const before = [await send('sdk-5', 'One.'), await send('sdk-5', 'Two.')];
    await until(() => recorded.messages.length === 2, 'two messages');

    recorded.sockets.at(-1)!.socket.terminate();
    await until(() => disconnects.length === 1, 'the disconnect');
    const during = [await send('sdk-5', 'Three.'), await send('sdk-5', 'Four.')];
    await until(() => recorded.messages.length === 4 && recorded.client.connected, 'the resumed feed');
    const after = [await send('sdk-5', 'Five.')];
    await until(() => recorded.messages.length === 5, 'the fifth message');

    const ids = [...before, ...during, ...after];
    expect(recorded.messages.map((message) => message.messageId)).toEqual(ids);
    expect(new Set(recorded.messages.map((message) => message.seq)).size).toBe(5);
    expect(disconnects[0]).toBeGreaterThanOrEqual(50);
    expect(recorded.sockets.length).toBeGreaterThanOrEqual(2);
    expect(tokenCalls).toBeGreaterThanOrEqual(2);
    for (const messageId of ids) {
      const view = await waitForMessage<MessageView>(server, messageId);
      expect(view.status).toBe('delivered');
    }
  });

  it('keeps order across a burst', async () => {
    const recorded = startClient({ token: await issueToken('sdk-6') });
    await recorded.client.connect();
    const ids = await Promise.all(Array.from({ length: 25 }, (_, index) => send('sdk-6', `Burst ${index}.`)));
    await until(() => recorded.messages.length === 25, 'every message of the burst');

    const seqs = recorded.messages.map((message) => message.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(25);
    expect(new Set(recorded.messages.map((message) => message.messageId))).toEqual(new Set(ids));
    for (const messageId of ids) {
      const view = await waitForMessage<MessageView>(server, messageId);
      expect(view.status).toBe('delivered');
    }
  });

  it('reports a bad token and backs off', async () => {
    const recorded = startClient({ token: 'cat1.e30.c2lnbmF0dXJl', reconnect: { minMs: 60, maxMs: 480 } });
    void recorded.client.connect().catch(() => undefined);
    await until(() => recorded.sockets.length >= 5, 'five connection attempts');
    await until(() => recorded.errors.length >= 4, 'four errors');
    await recorded.client.close();

    expect(recorded.client.connected).toBe(false);
    expect(recorded.errors[0]).toMatchObject({ code: 'unauthorized', status: 401 });
    const starts = recorded.sockets.map((socket) => socket.createdAt);
    // Attempt n + 1 starts at least max(minMs, min(maxMs / 2, minMs * 2^n)) after attempt n.
    for (let attempt = 0; attempt < 4; attempt += 1) {
      expect(starts[attempt + 1]! - starts[attempt]!).toBeGreaterThanOrEqual(Math.max(60, Math.min(240, 60 * 2 ** attempt)) - 2);
    }
  });
});
