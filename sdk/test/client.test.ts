import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { CascadeAppClient } from '../src/client.js';
import type { AppClientOptions } from '../src/options.js';
import type { AppClientError } from '../src/errors.js';
import type { FeedMessage } from '../src/protocol.js';
import { FeedPeer, feedMessage } from './support/feed-peer.js';

let peer: FeedPeer;
const clients: CascadeAppClient[] = [];

beforeEach(async () => {
  peer = await FeedPeer.start();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await peer.close();
});

interface Recorded {
  client: CascadeAppClient;
  messages: FeedMessage[];
  errors: AppClientError[];
  disconnects: Array<{ code: number; reconnectInMs: number | null }>;
}

function startClient(options: Partial<AppClientOptions> = {}): Recorded {
  const client = new CascadeAppClient({ baseUrl: peer.url, token: 'token-1', WebSocket, reconnect: { minMs: 50, maxMs: 200 }, ...options });
  clients.push(client);
  const recorded: Recorded = { client, messages: [], errors: [], disconnects: [] };
  client.on('message', (message) => recorded.messages.push(message));
  client.on('error', (error) => recorded.errors.push(error));
  client.on('disconnected', ({ code, reconnectInMs }) => recorded.disconnects.push({ code, reconnectInMs }));
  return recorded;
}

/** Accepts each connection by sending `ready` at once, reporting `lastSeq` as given. */
function readyOnConnect(lastSeq = () => 0): void {
  peer.onConnection = (connection) => peer.send({ type: 'ready', appUserId: 'au_1', lastSeq: lastSeq() }, connection);
}

const acks = (frames: Array<{ type: string; messageId?: string }>) => frames.filter((frame) => frame.type === 'ack').map((frame) => frame.messageId);

describe('CascadeAppClient', () => {
  it('sends the token as a subprotocol and resumes after lastSeq', async () => {
    readyOnConnect(() => 7);
    const { client } = startClient({ lastSeq: 7 });
    const connected = new Promise((resolve) => client.on('connected', resolve));
    await client.connect();

    expect(await connected).toEqual({ appUserId: 'au_1', lastSeq: 7 });
    expect(peer.connections).toHaveLength(1);
    expect(peer.connections[0]!.protocolToken).toBe('token-1');
    expect(peer.connections[0]!.queryToken).toBeNull();
    expect(peer.connections[0]!.after).toBe('7');
    expect(client.connected).toBe(true);
  });

  it('puts a token that is no subprotocol name in the query', async () => {
    peer.validTokens.add('a/b=');
    readyOnConnect();
    const { client } = startClient({ token: 'a/b=' });
    await client.connect();

    expect(peer.connections[0]!.protocolToken).toBeNull();
    expect(peer.connections[0]!.queryToken).toBe('a/b=');
  });

  it('emits in order once and acknowledges each', async () => {
    readyOnConnect();
    const recorded = startClient();
    await recorded.client.connect();
    for (const seq of [1, 2, 2, 1, 4, 3, 5]) peer.send({ type: 'message', ...feedMessage(seq) });
    await peer.until(() => acks(peer.accepted[0]!.received).length === 4, 'four acks');

    expect(recorded.messages.map((message) => message.seq)).toEqual([1, 2, 4, 5]);
    expect(acks(peer.accepted[0]!.received)).toEqual(['msg-1', 'msg-2', 'msg-4', 'msg-5']);
    expect(recorded.client.lastSeq).toBe(5);
  });

  it('skips acks for delivered messages', async () => {
    readyOnConnect();
    const recorded = startClient();
    await recorded.client.connect();
    peer.send({ type: 'message', ...feedMessage(1, { deliveredAt: '2025-01-01T12:00:05.000Z' }) });
    peer.send({ type: 'message', ...feedMessage(2) });
    await peer.until(() => acks(peer.accepted[0]!.received).length === 1, 'an ack');

    expect(recorded.messages.map((message) => message.seq)).toEqual([1, 2]);
    expect(acks(peer.accepted[0]!.received)).toEqual(['msg-2']);
  });

  it('sends an ack again after ack-failed', async () => {
    readyOnConnect();
    const recorded = startClient();
    await recorded.client.connect();
    peer.send({ type: 'message', ...feedMessage(1) });
    await peer.until(() => acks(peer.accepted[0]!.received).length === 1, 'the first ack');
    peer.send({ type: 'error', code: 'ack-failed', detail: 'The ack of message msg-1 was not stored. Send it again.', messageId: 'msg-1' });
    await peer.until(() => acks(peer.accepted[0]!.received).length === 2, 'the repeated ack');
    peer.send({ type: 'error', code: 'not-found', detail: 'Message msg-1 is not in this feed.', messageId: 'msg-1' });
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(acks(peer.accepted[0]!.received)).toEqual(['msg-1', 'msg-1']);
    expect(recorded.errors.map((error) => error.code)).toEqual(['ack-failed', 'not-found']);
  });

  it('rewinds to the end of a reset feed', async () => {
    readyOnConnect(() => 2);
    const recorded = startClient({ lastSeq: 40 });
    await recorded.client.connect();
    peer.send({ type: 'message', ...feedMessage(3) });
    await peer.until(() => recorded.messages.length === 1, 'a message');

    expect(peer.accepted[0]!.after).toBe('40');
    expect(recorded.client.lastSeq).toBe(3);
  });

  it('leaves acks to the app without autoAck', async () => {
    readyOnConnect();
    const recorded = startClient({ autoAck: false });
    await recorded.client.connect();
    peer.send({ type: 'message', ...feedMessage(1) });
    peer.send({ type: 'message', ...feedMessage(2) });
    await peer.until(() => recorded.messages.length === 2, 'two messages');
    await recorded.client.ack('msg-2');
    await recorded.client.markRead('msg-1');
    await peer.until(() => peer.accepted[0]!.received.length === 2, 'two frames');

    expect(peer.accepted[0]!.received).toEqual([
      { type: 'ack', messageId: 'msg-2' },
      { type: 'read', messageId: 'msg-1' },
    ]);
  });

  it('answers ping with pong', async () => {
    readyOnConnect();
    const { client } = startClient();
    await client.connect();
    peer.send({ type: 'ping', at: new Date().toISOString() });
    await peer.until(() => peer.accepted[0]!.received.length === 1, 'a pong');

    expect(peer.accepted[0]!.received).toEqual([{ type: 'pong' }]);
  });

  it('reconnects after a drop and resumes', async () => {
    const tokens = ['token-1', 'token-2'];
    peer.validTokens.add('token-2');
    let calls = 0;
    readyOnConnect(() => 2);
    const recorded = startClient({ token: async () => tokens[Math.min(calls++, 1)]!, autoAck: false });
    await recorded.client.connect();
    peer.send({ type: 'message', ...feedMessage(1) });
    peer.send({ type: 'message', ...feedMessage(2) });
    await peer.until(() => recorded.messages.length === 2, 'two messages');
    await recorded.client.markRead('msg-2');
    await peer.until(() => peer.accepted[0]!.received.length === 1, 'the read frame');

    peer.accepted[0]!.socket!.terminate();
    await peer.until(() => peer.accepted.length === 2 && recorded.client.connected, 'a second connection');
    peer.send({ type: 'message', ...feedMessage(2) });
    peer.send({ type: 'message', ...feedMessage(3) });
    await peer.until(() => recorded.messages.length === 3, 'the third message');

    const second = peer.accepted[1]!;
    expect(second.after).toBe('2');
    expect(second.protocolToken).toBe('token-2');
    expect(recorded.disconnects).toHaveLength(1);
    expect(recorded.disconnects[0]!.code).toBe(1006);
    expect(recorded.disconnects[0]!.reconnectInMs).toBeGreaterThanOrEqual(50);
    expect(recorded.messages.map((message) => message.seq)).toEqual([1, 2, 3]);
    // The read frame of the dropped socket may not have arrived, so it is sent again.
    await peer.until(() => second.received.length >= 1, 'the repeated read frame');
    expect(second.received[0]).toEqual({ type: 'read', messageId: 'msg-2' });
  });

  it('fetches what the socket missed over HTTP', async () => {
    peer.inbox.push(feedMessage(1), feedMessage(2), feedMessage(3), feedMessage(4));
    peer.onConnection = (connection) => {
      peer.send({ type: 'message', ...feedMessage(1) }, connection);
      peer.send({ type: 'ready', appUserId: 'au_1', lastSeq: 4 }, connection);
      peer.send({ type: 'message', ...feedMessage(5) }, connection);
    };
    const recorded = startClient();
    await recorded.client.connect();
    await peer.until(() => recorded.messages.length === 5, 'five messages');

    expect(recorded.messages.map((message) => message.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(peer.httpCalls.map((call) => call.path)).toContain('/v1/app/inbox?after=1&limit=100');
    expect(peer.httpCalls.every((call) => call.authorization === 'Bearer token-1')).toBe(true);
  });

  it('reports a rejected token and backs off', async () => {
    const recorded = startClient({ token: 'revoked-3f9a', reconnect: { minMs: 40, maxMs: 400 } });
    void recorded.client.connect().catch(() => undefined);
    await peer.until(() => peer.connections.length >= 5, 'five attempts');
    await peer.until(() => recorded.errors.length >= 4, 'four errors');

    expect(peer.accepted).toHaveLength(0);
    expect(recorded.errors[0]!.code).toBe('unauthorized');
    expect(recorded.errors[0]!.status).toBe(401);
    expect(recorded.errors.map((error) => error.message).join(' ')).not.toContain('revoked-3f9a');
    // Attempt n waits at least min(maxMs / 2, minMs * 2^n) after the one before it.
    const starts = peer.connections.map((connection) => connection.at);
    for (let attempt = 0; attempt < 4; attempt += 1) {
      expect(starts[attempt + 1]! - starts[attempt]!).toBeGreaterThanOrEqual(Math.max(40, Math.min(200, 40 * 2 ** attempt)) - 2);
    }
  });

  it('refreshes a token rejected over HTTP once', async () => {
    const issued = ['stale', 'fresh'];
    peer.validTokens = new Set(['fresh']);
    const recorded = startClient({ token: async () => issued.shift() ?? 'fresh' });
    await recorded.client.markRead('msg-9');

    expect(peer.httpCalls.map((call) => [call.method, call.path, call.authorization])).toEqual([
      ['POST', '/v1/app/inbox/msg-9/read', 'Bearer stale'],
      ['POST', '/v1/app/inbox/msg-9/read', 'Bearer fresh'],
    ]);
  });

  it('marks read over HTTP while disconnected', async () => {
    const { client } = startClient();
    await client.markRead('msg 1');

    expect(peer.connections).toHaveLength(0);
    expect(peer.httpCalls).toEqual([{ method: 'POST', path: '/v1/app/inbox/msg%201/read', authorization: 'Bearer token-1' }]);
  });

  it('reads the inbox without emitting', async () => {
    peer.inbox.push(feedMessage(1), feedMessage(2), feedMessage(3));
    const recorded = startClient();
    const page = await recorded.client.inbox({ after: 1, limit: 1 });

    expect(page).toEqual({ messages: [feedMessage(2)], lastSeq: 2 });
    expect(recorded.messages).toEqual([]);
    expect(recorded.client.lastSeq).toBe(0);
  });

  it('fails HTTP calls with the status', async () => {
    peer.validTokens = new Set();
    const { client } = startClient();
    const failure = await client.inbox().catch((error: AppClientError) => error);

    expect(failure).toMatchObject({ code: 'unauthorized', status: 401 });
    expect((failure as Error).message).toContain('The app token is invalid or expired.');
  });

  it('reconnects when the server goes silent', async () => {
    readyOnConnect();
    const recorded = startClient({ heartbeatTimeoutMs: 150 });
    await recorded.client.connect();
    await peer.until(() => peer.accepted.length === 2, 'a second connection');

    expect(recorded.disconnects[0]!.code).toBe(4000);
  });

  it('survives bad frames and throwing listeners', async () => {
    readyOnConnect();
    const recorded = startClient();
    recorded.client.on('message', () => {
      throw new Error('listener bug');
    });
    await recorded.client.connect();
    peer.sendRaw('not json');
    peer.sendRaw('{"type":"message","seq":"1"}');
    peer.send({ type: 'message', ...feedMessage(1) });
    await peer.until(() => acks(peer.accepted[0]!.received).length === 1, 'an ack');

    expect(recorded.messages.map((message) => message.seq)).toEqual([1]);
    expect(recorded.errors.map((error) => error.code)).toEqual(['invalid-frame', 'invalid-frame', 'listener-failed']);
    expect(peer.accepted).toHaveLength(1);
  });

  it('relays server error frames', async () => {
    readyOnConnect();
    const recorded = startClient();
    await recorded.client.connect();
    peer.send({ type: 'error', code: 'frame-too-large', detail: 'Frames are limited to 4 KiB.' });
    await peer.until(() => recorded.errors.length === 1, 'an error event');

    expect(recorded.errors[0]).toMatchObject({ code: 'frame-too-large', message: 'Frames are limited to 4 KiB.' });
  });

  it('rejects a pending connect on close', async () => {
    const { client } = startClient({ token: 'unknown' });
    const pending = client.connect();
    await client.close();

    await expect(pending).rejects.toMatchObject({ code: 'closed' });
  });

  it('stops reconnecting after close', async () => {
    readyOnConnect();
    const recorded = startClient();
    await recorded.client.connect();
    await recorded.client.close();
    const attempts = peer.connections.length;
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(peer.connections).toHaveLength(attempts);
    expect(recorded.disconnects).toEqual([{ code: 1000, reconnectInMs: null }]);
    expect(recorded.client.connected).toBe(false);
  });

  it('rejects invalid options', () => {
    expect(() => new CascadeAppClient({ baseUrl: 'cascade.local', token: 't', WebSocket })).toThrow(/baseUrl must be an absolute http\(s\) URL/);
    expect(() => new CascadeAppClient({ baseUrl: 'ftp://cascade.local', token: 't', WebSocket })).toThrow(/must start with http: or https:/);
    expect(() => new CascadeAppClient({ baseUrl: peer.url, token: '', WebSocket })).toThrow(/token must be a non-empty string/);
    expect(() => new CascadeAppClient({ baseUrl: peer.url, token: 't', WebSocket, lastSeq: -1 })).toThrow(/lastSeq must be a non-negative integer/);
    expect(() => new CascadeAppClient({ baseUrl: peer.url, token: 't', WebSocket, reconnect: { minMs: 0 } })).toThrow(/reconnect\.minMs/);
    expect(() => new CascadeAppClient({ baseUrl: peer.url, token: 't' })).toThrow(/Pass `WebSocket` from the ws package/);
  });
});
