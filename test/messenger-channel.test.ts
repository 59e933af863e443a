import { createServer as createHttpServer, type RequestListener } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MessengerChannel } from '../src/channels/messenger/channel.js';
import type { ChannelContent, SendRequest } from '../src/channels/types.js';
import { startSandboxGraph, type SandboxGraph } from '../src/sandbox/graph.js';

const PAGE_TOKEN = 'EAAPageTokenForMessengerTests0123456789';
const WRONG_TOKEN = 'EAAWrongTokenThatMustNeverBeLogged9876543210';
const HOUR_MS = 60 * 60 * 1000;
const silent = pino({ level: 'silent' });

let sandbox: SandboxGraph;
const channels: MessengerChannel[] = [];
const cleanups: Array<() => Promise<void>> = [];
let counter = 0;

beforeAll(async () => {
  sandbox = await startSandboxGraph({ appSecret: 'sandbox-app-secret', pageToken: PAGE_TOKEN, logger: silent, statusDelayMs: 60_000 });
});

afterEach(async () => {
  for (const channel of channels.splice(0)) {
    await channel.stop();
  }
  for (const cleanup of cleanups.splice(0)) {
    await cleanup();
  }
});

afterAll(async () => {
  await sandbox.close();
});

/** Creates a debug-level logger that keeps every line it writes. */
function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

function openChannel(options: { apiUrl?: string; pageToken?: string; logger?: Logger; timeoutMs?: number } = {}): MessengerChannel {
  const channel = new MessengerChannel({
    apiUrl: options.apiUrl ?? sandbox.url,
    pageToken: options.pageToken ?? PAGE_TOKEN,
    logger: options.logger ?? silent,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  channels.push(channel);
  return channel;
}

function content(overrides: Partial<ChannelContent> = {}): ChannelContent {
  return { body: 'Your parcel arrives today between 10:00 and 12:00.', title: 'Delivery update', custom: null, options: null, ...overrides };
}

function request(address: string, overrides: Partial<ChannelContent> = {}): SendRequest {
  counter += 1;
  return { messageId: `msg-${counter}`, step: 0, attempt: 1, idempotencyKey: `msg-${counter}_0_1`, address, content: content(overrides) };
}

function lastRequestTo(psid: string) {
  const matching = sandbox.requests().filter((record) => record.to === psid);
  return matching[matching.length - 1];
}

/** Returns a port that nothing listens on, by binding a free port and releasing it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts an HTTP server on 127.0.0.1 that the test closes afterwards. */
async function startHttp(handler: RequestListener): Promise<string> {
  const server = createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Starts a TCP server that accepts connections and never responds. */
async function startSilentServer(): Promise<string> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => {
    sockets.push(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('MessengerChannel traits', () => {
  it('matches the channel catalog', () => {
    const channel = openChannel();

    expect(channel.id).toBe('fbMessenger');
    expect(channel.defaultCondition).toBe('delivered');
    expect(channel.supportedConditions).toEqual(['accepted', 'delivered', 'read']);
  });

  it('resolves the address from fbMessengerId', () => {
    const channel = openChannel();

    expect(channel.resolveAddress({ fbMessengerId: ' 1254477777772919 ' })).toBe('1254477777772919');
    expect(channel.resolveAddress({ phoneNumber: '+12025550101' })).toBeNull();
    expect(channel.resolveAddress({ fbMessengerId: 'psid with space' })).toBeNull();
    expect(channel.resolveAddress({ fbMessengerId: '' })).toBeNull();
  });

  it('uses the provider id as its only match key', () => {
    expect(openChannel().matchKeys('m_AG5Hz2U')).toEqual(['m_AG5Hz2U']);
  });

  it('rejects invalid settings', () => {
    expect(() => new MessengerChannel({ apiUrl: 'graph.facebook.com', pageToken: PAGE_TOKEN, logger: silent })).toThrow(/apiUrl/);
    expect(() => new MessengerChannel({ apiUrl: sandbox.url, apiVersion: '21', pageToken: PAGE_TOKEN, logger: silent })).toThrow(/apiVersion/);
    expect(() => new MessengerChannel({ apiUrl: sandbox.url, pageToken: '', logger: silent })).toThrow(/pageToken/);
    expect(() => new MessengerChannel({ apiUrl: sandbox.url, pageToken: PAGE_TOKEN, logger: silent, timeoutMs: 0 })).toThrow(/timeoutMs/);
  });

  it('keeps the token out of settings errors', () => {
    const url = `${sandbox.url}/?access_token=${PAGE_TOKEN}`;

    expect(() => new MessengerChannel({ apiUrl: url, pageToken: PAGE_TOKEN, logger: silent })).toThrow(/query/);
    try {
      new MessengerChannel({ apiUrl: url, pageToken: PAGE_TOKEN, logger: silent });
    } catch (error) {
      expect(String(error)).not.toContain(PAGE_TOKEN);
    }
  });
});

describe('MessengerChannel send', () => {
  it('accepts psid-delivered with a message id', async () => {
    const channel = openChannel();
    await channel.start();

    const outcome = await channel.send(request('psid-delivered'));

    expect(outcome.kind).toBe('accepted');
    const record = lastRequestTo('psid-delivered');
    expect(record?.status).toBe(200);
    expect(outcome).toEqual({ kind: 'accepted', providerMessageId: record?.providerMessageId });
    expect(record?.path).toBe('/v21.0/me/messages');
    expect(record?.body).toEqual({
      recipient: { id: 'psid-delivered' },
      messaging_type: 'UPDATE',
      message: { text: 'Delivery update\nYour parcel arrives today between 10:00 and 12:00.' },
    });
  });

  it('sends the tag from channel options', async () => {
    const channel = openChannel();

    const outcome = await channel.send(request('psid-tagged', { options: { messageTag: 'POST_PURCHASE_UPDATE' } }));

    expect(outcome.kind).toBe('accepted');
    expect(lastRequestTo('psid-tagged')?.body).toMatchObject({ messaging_type: 'MESSAGE_TAG', tag: 'POST_PURCHASE_UPDATE' });
  });

  it('sends a custom body unchanged', async () => {
    const channel = openChannel();
    const custom = {
      text: 'Pick a delivery slot',
      quick_replies: [
        { content_type: 'text', title: 'Morning', payload: 'SLOT_AM' },
        { content_type: 'text', title: 'Afternoon', payload: 'SLOT_PM' },
      ],
      messaging_type: 'RESPONSE',
    };

    const outcome = await channel.send(request('psid-custom', { custom }));

    expect(outcome.kind).toBe('accepted');
    expect(lastRequestTo('psid-custom')?.body).toEqual({
      recipient: { id: 'psid-custom' },
      messaging_type: 'RESPONSE',
      message: { text: custom.text, quick_replies: custom.quick_replies },
    });
  });

  it('sends with another API version', async () => {
    const channel = new MessengerChannel({ apiUrl: sandbox.url, apiVersion: 'v19.0', pageToken: PAGE_TOKEN, logger: silent });
    channels.push(channel);

    const outcome = await channel.send(request('psid-version'));

    expect(outcome.kind).toBe('accepted');
    expect(lastRequestTo('psid-version')?.path).toBe('/v19.0/me/messages');
  });

  it('fails psid-unavailable as unreachable', async () => {
    const channel = openChannel();

    const outcome = await channel.send(request('psid-unavailable'));

    expect(outcome.kind).toBe('permanent');
    expect(outcome).toMatchObject({ addressUnreachable: true });
    expect(outcome.kind === 'permanent' ? outcome.code : null).toContain('551');
  });

  it('fails a wrong page token without leaking it', async () => {
    const { logger, lines } = capturingLogger();
    const channel = openChannel({ pageToken: WRONG_TOKEN, logger });
    await channel.start();

    const outcome = await channel.send(request('psid-delivered'));

    expect(outcome.kind).toBe('permanent');
    expect(outcome).toMatchObject({ addressUnreachable: false });
    expect(outcome.kind === 'permanent' ? outcome.code : null).toContain('190');
    expect(JSON.stringify(outcome)).not.toContain(WRONG_TOKEN);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('')).not.toContain(WRONG_TOKEN);
  });

  it('keeps message text out of the logs', async () => {
    const { logger, lines } = capturingLogger();
    const channel = openChannel({ logger });

    await channel.send(request('psid-delivered', { body: 'Secret parcel code 4711' }));
    await channel.send(request('psid-unavailable', { body: 'Secret parcel code 4711' }));

    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('')).not.toContain('4711');
  });

  it('fails invalid content before calling the API', async () => {
    const channel = openChannel();
    const before = sandbox.requests().length;

    const outcome = await channel.send(request('psid-delivered', { title: null, body: 'x'.repeat(2001) }));

    expect(outcome).toMatchObject({ kind: 'permanent', code: 'invalid-content' });
    expect(outcome.kind === 'permanent' ? outcome.message : '').toContain('/body');
    expect(sandbox.requests()).toHaveLength(before);
  });

  it('fails an invalid address before calling the API', async () => {
    const channel = openChannel();
    const before = sandbox.requests().length;

    const outcome = await channel.send(request('psid\twith-tab'));

    expect(outcome).toMatchObject({ kind: 'permanent', code: 'invalid-address' });
    expect(sandbox.requests()).toHaveLength(before);
  });

  it('returns transient for a closed port', async () => {
    const { logger, lines } = capturingLogger();
    const channel = openChannel({ apiUrl: `http://127.0.0.1:${await closedPort()}`, pageToken: WRONG_TOKEN, logger });

    const outcome = await channel.send(request('psid-delivered'));

    expect(outcome).toMatchObject({ kind: 'transient', code: 'connection-refused' });
    expect(JSON.stringify(outcome)).not.toContain(WRONG_TOKEN);
    expect(lines.join('')).not.toContain(WRONG_TOKEN);
  });

  it('returns transient when the API never answers', async () => {
    const channel = openChannel({ apiUrl: await startSilentServer(), timeoutMs: 200 });

    const outcome = await channel.send(request('psid-delivered'));

    expect(outcome).toMatchObject({ kind: 'transient', code: 'timeout' });
  });

  it('returns transient with Retry-After on 503', async () => {
    const apiUrl = await startHttp((_request, response) => {
      response.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '7' });
      response.end('Service Unavailable');
    });
    const channel = openChannel({ apiUrl });

    const outcome = await channel.send(request('psid-delivered'));

    expect(outcome).toMatchObject({ kind: 'transient', code: 'http-503', retryAfterMs: 7000 });
  });

  it('fails a 200 without message_id', async () => {
    const apiUrl = await startHttp((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"recipient_id":"psid-delivered"}');
    });
    const channel = openChannel({ apiUrl });

    const outcome = await channel.send(request('psid-delivered'));

    expect(outcome).toMatchObject({ kind: 'permanent', code: 'missing-message-id' });
  });

  it('returns transient after stop', async () => {
    const channel = openChannel();
    await channel.stop();

    const outcome = await channel.send(request('psid-delivered'));

    expect(outcome).toMatchObject({ kind: 'transient', code: 'channel-stopped' });
  });
});

describe('MessengerChannel checkEligibility', () => {
  const now = Date.UTC(2026, 4, 1, 9, 0, 0);
  const inside = { lastInboundAt: now - 2 * HOUR_MS, now };
  const outside = { lastInboundAt: now - 30 * HOUR_MS, now };
  const never = { lastInboundAt: null, now };

  it('allows untagged messages inside the window', () => {
    expect(openChannel().checkEligibility(content(), inside)).toBeNull();
  });

  it('rejects untagged messages outside the window', () => {
    const channel = openChannel();

    expect(channel.checkEligibility(content(), outside)).toBe('ineligible');
    expect(channel.checkEligibility(content({ options: { messagingType: 'RESPONSE' } }), outside)).toBe('ineligible');
    expect(channel.checkEligibility(content(), never)).toBe('ineligible');
  });

  it('allows tagged messages outside the window', () => {
    const channel = openChannel();
    const tagged = content({ options: { messagingType: 'MESSAGE_TAG', messageTag: 'CONFIRMED_EVENT_UPDATE' } });

    expect(channel.checkEligibility(tagged, outside)).toBeNull();
    expect(channel.checkEligibility(tagged, never)).toBeNull();
  });

  it('reads the tag of a custom body', () => {
    const channel = openChannel();
    const tagged = content({ custom: { text: 'Your account was updated', tag: 'ACCOUNT_UPDATE' } });

    expect(channel.checkEligibility(tagged, outside)).toBeNull();
    expect(channel.checkEligibility(content({ custom: { text: 'Hello' } }), outside)).toBe('ineligible');
  });

  it('limits HUMAN_AGENT to seven days', () => {
    const channel = openChannel();
    const humanAgent = content({ options: { messageTag: 'HUMAN_AGENT' } });

    expect(channel.checkEligibility(humanAgent, { lastInboundAt: now - 6 * 24 * HOUR_MS, now })).toBeNull();
    expect(channel.checkEligibility(humanAgent, { lastInboundAt: now - 8 * 24 * HOUR_MS, now })).toBe('ineligible');
    expect(channel.checkEligibility(humanAgent, never)).toBe('ineligible');
  });

  it('leaves invalid tags to send', async () => {
    const channel = openChannel();
    const invalid = content({ options: { messagingType: 'MESSAGE_TAG' } });

    expect(channel.checkEligibility(invalid, outside)).toBeNull();
    const outcome = await channel.send(request('psid-delivered', { options: { messagingType: 'MESSAGE_TAG' } }));
    expect(outcome).toMatchObject({ kind: 'permanent', code: 'invalid-content' });
  });
});
