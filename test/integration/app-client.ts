import WebSocket from 'ws';
import type { ServerFrame } from '../../src/channels/app/protocol.js';
import { api } from '../helpers/server.js';

/** A test app: one real WebSocket to `/v1/app/socket`, with every frame it received. */
export interface AppSocket {
  ws: WebSocket;
  /** Frames received so far, pings included. */
  frames: ServerFrame[];
  /**
   * Resolves with the next frame after the last one returned that is not a ping and matches
   * `type` when given. Frames skipped on the way are not returned again.
   */
  next<T extends ServerFrame['type']>(type?: T, timeoutMs?: number): Promise<Extract<ServerFrame, { type: T }>>;
  send(frame: unknown): void;
  /** Resolves when the server or the client closed the socket. */
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<{ code: number; reason: string }>;
}

export interface OpenOptions {
  after?: number;
  /** Where the token goes: the subprotocol header (default) or the `token` query parameter. */
  via?: 'protocol' | 'query';
  /** Respond to each `ping` with `pong`. Default true. */
  autoPong?: boolean;
}

function socketUrl(server: { url: string }, token: string, options: OpenOptions): { url: string; protocols: string[] } {
  const url = new URL('/v1/app/socket', server.url.replace(/^http/, 'ws'));
  if (options.after !== undefined) url.searchParams.set('after', String(options.after));
  if (options.via === 'query') {
    url.searchParams.set('token', token);
    return { url: url.toString(), protocols: ['cascade.v1'] };
  }
  return { url: url.toString(), protocols: ['cascade.v1', token] };
}

/** Opens an app socket and resolves once it is open. Rejects when the server rejects the upgrade. */
export async function openAppSocket(server: { url: string }, token: string, options: OpenOptions = {}): Promise<AppSocket> {
  const { url, protocols } = socketUrl(server, token, options);
  const ws = new WebSocket(url, protocols);
  const frames: ServerFrame[] = [];
  const waiters: Array<() => void> = [];
  let cursor = 0;

  ws.on('message', (data) => {
    const frame = JSON.parse(String(data)) as ServerFrame;
    frames.push(frame);
    if (frame.type === 'ping' && options.autoPong !== false) ws.send(JSON.stringify({ type: 'pong' }));
    for (const wake of waiters.splice(0)) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      for (const wake of waiters.splice(0)) wake();
    });
  });

  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_request, response) => reject(new Error(`upgrade rejected with HTTP ${response.statusCode}`)));
  });

  const next = async <T extends ServerFrame['type']>(type?: T, timeoutMs = 10_000): Promise<Extract<ServerFrame, { type: T }>> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (cursor < frames.length) {
        const frame = frames[cursor]!;
        cursor += 1;
        if (frame.type !== 'ping' && (type === undefined || frame.type === type)) return frame as Extract<ServerFrame, { type: T }>;
      }
      if (ws.readyState === WebSocket.CLOSED) throw new Error(`socket closed while waiting for ${type ?? 'a frame'}; frames: ${JSON.stringify(frames)}`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`no ${type ?? 'frame'} within ${timeoutMs} ms; frames: ${JSON.stringify(frames)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  };

  return {
    ws,
    frames,
    next,
    send: (frame) => ws.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame)),
    closed,
    close: async () => {
      if (ws.readyState !== WebSocket.CLOSED) ws.close(1000);
      return closed;
    },
  };
}

/** Tries to open an app socket that the server must reject, and returns the HTTP status and body of the rejection. */
export async function rejectedUpgrade(server: { url: string }, token: string | null, options: OpenOptions = {}): Promise<{ status: number; body: string; opened: boolean }> {
  const { url, protocols } = token === null ? { url: new URL('/v1/app/socket', server.url.replace(/^http/, 'ws')).toString(), protocols: [] } : socketUrl(server, token, options);
  const ws = new WebSocket(url, protocols);
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.terminate();
      resolve({ status: 101, body: '', opened: true });
    });
    ws.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body, opened: false }));
      response.on('error', reject);
    });
    ws.once('error', (error) => {
      // ws emits an error after an unexpected response when the request is aborted.
      if (!String(error.message).includes('Unexpected server response')) reject(error);
    });
  });
}

export interface TokenBody {
  token: string;
  expiresAt: string;
  profileId: string;
  appUserId: string;
  socketUrl: string;
}

/** Asks the API for an app token for `profileId`. */
export async function appToken(server: { url: string }, profileId: string): Promise<TokenBody> {
  const response = await api<TokenBody>(server, 'POST', '/v1/app/tokens', { profileId });
  if (response.status !== 201) throw new Error(`POST /v1/app/tokens answered ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body;
}

export interface AppResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** Calls an app route over HTTP with an app token. */
export async function appApi<T = Record<string, unknown>>(
  server: { url: string },
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<AppResponse<T>> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : null) as T };
}
