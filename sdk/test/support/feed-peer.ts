import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { APP_SOCKET_PROTOCOL, type ClientFrame, type FeedMessage, type ServerFrame } from '../../src/protocol.js';

/** One accepted or rejected socket connection, as the peer saw it. */
export interface PeerConnection {
  /** Token offered as the second subprotocol, or null. */
  protocolToken: string | null;
  /** Token from the `token` query parameter, or null. */
  queryToken: string | null;
  after: string | null;
  accepted: boolean;
  /** Arrival time from `performance.now()`. */
  at: number;
  socket: WebSocket | null;
  received: ClientFrame[];
}

export interface HttpCall {
  method: string;
  path: string;
  authorization: string | null;
}

/**
 * A small protocol peer for client tests: a real HTTP server with the feed socket at
 * `/v1/app/socket` and the inbox routes. By default it accepts the tokens in `validTokens`
 * and sends nothing on its own; each test pushes the frames it needs.
 */
export class FeedPeer {
  readonly connections: PeerConnection[] = [];
  readonly httpCalls: HttpCall[] = [];
  /** Messages the inbox route serves, by `seq`. */
  readonly inbox: FeedMessage[] = [];
  validTokens = new Set<string>(['token-1']);
  /** Called for each accepted connection, after it is recorded. */
  onConnection: (connection: PeerConnection) => void = () => undefined;

  readonly #http: Server;
  readonly #wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => (protocols.has(APP_SOCKET_PROTOCOL) ? APP_SOCKET_PROTOCOL : false) });
  #waiters: Array<() => void> = [];

  private constructor() {
    this.#http = createServer((request, response) => this.#handleHttp(request, response));
    this.#http.on('upgrade', (request, socket, head) => this.#handleUpgrade(request, socket, head));
  }

  static async start(): Promise<FeedPeer> {
    const peer = new FeedPeer();
    await new Promise<void>((resolve) => peer.#http.listen(0, '127.0.0.1', resolve));
    return peer;
  }

  get url(): string {
    const { port } = this.#http.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  get accepted(): PeerConnection[] {
    return this.connections.filter((connection) => connection.accepted);
  }

  /** Sends a frame on the newest accepted connection. */
  send(frame: ServerFrame, connection = this.accepted.at(-1)): void {
    if (connection?.socket == null) throw new Error('no accepted connection to send on');
    connection.socket.send(JSON.stringify(frame));
  }

  sendRaw(text: string, connection = this.accepted.at(-1)): void {
    if (connection?.socket == null) throw new Error('no accepted connection to send on');
    connection.socket.send(text);
  }

  /** Resolves once `condition` holds; checked after every connection, frame and HTTP call. */
  async until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  async close(): Promise<void> {
    for (const client of this.#wss.clients) client.terminate();
    this.#wss.close();
    this.#http.closeAllConnections();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }

  #notify(): void {
    for (const resolve of this.#waiters.splice(0)) resolve();
  }

  #bearer(request: IncomingMessage): string | null {
    const header = request.headers.authorization;
    return header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : null;
  }

  #handleHttp(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://peer');
    this.httpCalls.push({ method: request.method ?? '', path: `${url.pathname}${url.search}`, authorization: request.headers.authorization ?? null });
    this.#notify();
    const token = this.#bearer(request);
    if (token === null || !this.validTokens.has(token)) {
      response.writeHead(401, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ title: 'Unauthorized', status: 401, detail: 'The app token is invalid or expired.' }));
      return;
    }
    if (request.method === 'GET' && url.pathname === '/v1/app/inbox') {
      const after = Number(url.searchParams.get('after') ?? 0);
      const limit = Number(url.searchParams.get('limit') ?? 50);
      const sorted = [...this.inbox].sort((a, b) => a.seq - b.seq);
      const messages = sorted.filter((message) => message.seq > after).slice(0, limit);
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ messages, lastSeq: messages.at(-1)?.seq ?? after }));
      return;
    }
    if (request.method === 'POST' && /^\/v1\/app\/inbox\/[^/]+\/(ack|read)$/.test(url.pathname)) {
      response.writeHead(204).end();
      return;
    }
    response.writeHead(404).end();
  }

  #handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A client that gives up resets the connection; that is not a failure of the peer.
    socket.on('error', () => undefined);
    const url = new URL(request.url ?? '/', 'http://peer');
    const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((value) => value.trim()).filter(Boolean);
    const connection: PeerConnection = {
      protocolToken: offered.find((value) => value !== APP_SOCKET_PROTOCOL) ?? null,
      queryToken: url.searchParams.get('token'),
      after: url.searchParams.get('after'),
      accepted: false,
      at: performance.now(),
      socket: null,
      received: [],
    };
    this.connections.push(connection);
    const token = connection.protocolToken ?? connection.queryToken;
    if (url.pathname !== '/v1/app/socket' || token === null || !this.validTokens.has(token)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      this.#notify();
      return;
    }
    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      connection.accepted = true;
      connection.socket = ws;
      ws.on('message', (data) => {
        connection.received.push(JSON.parse(String(data)) as ClientFrame);
        this.#notify();
      });
      this.onConnection(connection);
      this.#notify();
    });
  }
}

/** Builds a feed message with readable defaults. */
export function feedMessage(seq: number, overrides: Partial<FeedMessage> = {}): FeedMessage {
  return {
    messageId: `msg-${seq}`,
    seq,
    title: `Title ${seq}`,
    body: `Body ${seq}`,
    sentOn: new Date(Date.UTC(2025, 0, 1, 12, 0, seq)).toISOString(),
    data: null,
    deliveredAt: null,
    readAt: null,
    ...overrides,
  };
}
