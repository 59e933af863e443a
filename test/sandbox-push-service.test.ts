import { createECDH, createPrivateKey, randomBytes, sign } from 'node:crypto';
import { pino } from 'pino';
import webPush from 'web-push';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandboxPushService, type SandboxPushService } from '../src/sandbox/push-service.js';

const logger = pino({ level: 'silent' });
const SUBJECT = 'mailto:ops@example.com';
const vapid = webPush.generateVAPIDKeys();
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

async function startService(options: { maxBodyBytes?: number; host?: string } = {}): Promise<SandboxPushService> {
  const service = await startSandboxPushService({ logger, ...options });
  cleanups.push(() => service.close());
  return service;
}

function browserKeys(): { p256dh: string; auth: string } {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') };
}

/** Builds a valid push request with web-push, as an application server would send it. */
function pushRequest(endpoint: string, payload = 'hello'): { headers: Record<string, string>; body: Buffer } {
  const details = webPush.generateRequestDetails({ endpoint, keys: browserKeys() }, payload, {
    vapidDetails: { subject: SUBJECT, ...vapid },
    TTL: 60,
    urgency: 'high',
    contentEncoding: 'aes128gcm',
  });
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(details.headers)) {
    if (name.toLowerCase() !== 'content-length') headers[name.toLowerCase()] = String(value);
  }
  return { headers, body: details.body ?? Buffer.alloc(0) };
}

/** Signs a JWT with ES256 using the VAPID private key, for claims web-push refuses to produce. */
function signJwt(claims: Record<string, unknown>, keys: { publicKey: string; privateKey: string } = vapid): string {
  const point = Buffer.from(keys.publicKey, 'base64url');
  const key = createPrivateKey({
    format: 'jwk',
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33).toString('base64url'),
      d: keys.privateKey,
    },
  });
  const header = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'ES256' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), { key, dsaEncoding: 'ieee-p1363' });
  return `${header}.${payload}.${signature.toString('base64url')}`;
}

async function post(url: string, headers: Record<string, string>, body: Buffer): Promise<Response> {
  return fetch(url, { method: 'POST', headers, body });
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

describe('startSandboxPushService', () => {
  it('accepts a valid push with 201 and a Location', async () => {
    const service = await startService();
    const { endpoint } = service.subscribe();
    const request = pushRequest(endpoint);

    const response = await post(endpoint, request.headers, request.body);

    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toMatch(new RegExp(`^${service.url}/message/[A-Za-z0-9_-]+$`));
    const record = service.received()[0]!;
    expect(record.status).toBe(201);
    expect(record.error).toBeNull();
    expect(record.body.equals(request.body)).toBe(true);
    expect(record.headers.ttl).toBe('60');
    expect(record.headers.urgency).toBe('high');
    expect(record.headers.vapid?.k).toBe(vapid.publicKey);
  });

  it('listens on loopback with an http URL', async () => {
    const service = await startService();

    expect(service.host).toBe('127.0.0.1');
    expect(service.url).toBe(`http://127.0.0.1:${service.port}`);
    expect(service.subscribe().endpoint.startsWith(`${service.url}/push/`)).toBe(true);
  });

  it('serves an IPv6 host', async () => {
    const service = await startService({ host: '::1' });
    const { endpoint } = service.subscribe();
    const request = pushRequest(endpoint);

    const response = await post(endpoint, request.headers, request.body);

    expect(service.url).toBe(`http://[::1]:${service.port}`);
    expect(response.status).toBe(201);
  });

  it('rejects a push without Authorization with 401', async () => {
    const service = await startService();
    const { endpoint } = service.subscribe();
    const request = pushRequest(endpoint);
    delete request.headers['authorization'];

    const response = await post(endpoint, request.headers, request.body);

    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('vapid');
  });

  it('rejects a JWT signed by another key with 403', async () => {
    const service = await startService();
    const { endpoint } = service.subscribe();
    const request = pushRequest(endpoint);
    const forged = signJwt({ aud: service.url, exp: nowSeconds() + 3600, sub: SUBJECT }, webPush.generateVAPIDKeys());
    request.headers['authorization'] = `vapid t=${forged}, k=${vapid.publicKey}`;

    const response = await post(endpoint, request.headers, request.body);

    expect(response.status).toBe(403);
    expect(service.received()[0]?.error).toMatch(/signature does not verify/);
  });

  it('rejects altered JWT claims with 403', async () => {
    const service = await startService();
    const { endpoint } = service.subscribe();
    const request = pushRequest(endpoint);
    const [header, , signature] = (/t=([^,\s]+)/.exec(request.headers['authorization']!)?.[1] ?? '').split('.');
    const altered = Buffer.from(JSON.stringify({ aud: service.url, exp: nowSeconds() + 3600, sub: 'mailto:someone@example.com' })).toString('base64url');
    request.headers['authorization'] = `vapid t=${header}.${altered}.${signature}, k=${vapid.publicKey}`;

    const response = await post(endpoint, request.headers, request.body);

    expect(response.status).toBe(403);
  });

  it('rejects invalid JWT claims with 403', async () => {
    const service = await startService();
    const { endpoint } = service.subscribe();
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['expired', { aud: service.url, exp: nowSeconds() - 60, sub: SUBJECT }, /expired/],
      ['too far ahead', { aud: service.url, exp: nowSeconds() + 25 * 3600, sub: SUBJECT }, /more than 24 hours/],
      ['other audience', { aud: 'https://push.example.net', exp: nowSeconds() + 3600, sub: SUBJECT }, /aud/],
      ['no sub', { aud: service.url, exp: nowSeconds() + 3600 }, /sub/],
      ['no exp', { aud: service.url, sub: SUBJECT }, /exp/],
    ];

    for (const [name, claims, error] of cases) {
      const request = pushRequest(endpoint);
      request.headers['authorization'] = `vapid t=${signJwt(claims)}, k=${vapid.publicKey}`;

      const response = await post(endpoint, request.headers, request.body);

      expect(response.status, name).toBe(403);
      expect(service.received().at(-1)?.error, name).toMatch(error);
    }
  });

  it('rejects an expired JWT made by web-push', async () => {
    const service = await startService();
    const { endpoint } = service.subscribe();
    const request = pushRequest(endpoint);
    const expired = webPush.getVapidHeaders(service.url, SUBJECT, vapid.publicKey, vapid.privateKey, 'aes128gcm', nowSeconds() - 1);
    request.headers['authorization'] = expired.Authorization;

    const response = await post(endpoint, request.headers, request.body);

    expect(response.status).toBe(403);
  });

  it('rejects a vapid header without k with 403', async () => {
    const service = await startService();
    const { endpoint } = service.subscribe();
    const request = pushRequest(endpoint);
    request.headers['authorization'] = request.headers['authorization']!.replace(/,\s*k=.*$/, '');

    const response = await post(endpoint, request.headers, request.body);

    expect(response.status).toBe(403);
  });

  it('rejects a push without TTL with 400', async () => {
    const service = await startService();
    const { endpoint } = service.subscribe();
    const request = pushRequest(endpoint);
    delete request.headers['ttl'];

    const response = await post(endpoint, request.headers, request.body);

    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toMatch(/TTL/);
  });

  it('rejects invalid Urgency and Topic headers with 400', async () => {
    const service = await startService();
    const { endpoint } = service.subscribe();
    const urgent = pushRequest(endpoint);
    urgent.headers['urgency'] = 'urgent';
    const topical = pushRequest(endpoint);
    topical.headers['topic'] = 'a'.repeat(33);

    expect((await post(endpoint, urgent.headers, urgent.body)).status).toBe(400);
    expect((await post(endpoint, topical.headers, topical.body)).status).toBe(400);
  });

  it('rejects another content encoding with 415', async () => {
    const service = await startService();
    const { endpoint } = service.subscribe();
    const request = pushRequest(endpoint);
    request.headers['content-encoding'] = 'gzip';

    const response = await post(endpoint, request.headers, request.body);

    expect(response.status).toBe(415);
    expect(response.headers.get('accept-encoding')).toBe('aes128gcm');
  });

  it('rejects a malformed aes128gcm header with 400', async () => {
    const service = await startService();
    const { endpoint } = service.subscribe();
    const request = pushRequest(endpoint);
    const body = Buffer.from(request.body);
    body.writeUInt8(16, 20);

    const response = await post(endpoint, request.headers, body);

    expect(response.status).toBe(400);
  });

  it('rejects an oversized body with 413', async () => {
    const service = await startService();
    const { endpoint } = service.subscribe();
    const request = pushRequest(endpoint);
    const oversized = Buffer.concat([request.body, randomBytes(4097 - request.body.length)]);

    const response = await post(endpoint, request.headers, oversized);

    expect(response.status).toBe(413);
    const record = service.received()[0]!;
    expect(record.bodyBytes).toBe(4097);
    expect(record.body.length).toBe(0);
  });

  it('accepts a body of exactly the limit', async () => {
    const service = await startService();
    const { endpoint } = service.subscribe();
    const request = pushRequest(endpoint, 'p'.repeat(3993));

    const response = await post(endpoint, request.headers, request.body);

    expect(request.body.length).toBe(4096);
    expect(response.status).toBe(201);
  });

  it('accepts a push without a body', async () => {
    const service = await startService();
    const { endpoint } = service.subscribe();
    const request = pushRequest(endpoint);
    delete request.headers['content-encoding'];

    const response = await post(endpoint, request.headers, Buffer.alloc(0));

    expect(response.status).toBe(201);
  });

  it('returns 404 for unknown endpoints', async () => {
    const service = await startService();
    const endpoint = `${service.url}/push/unknown`;
    const request = pushRequest(endpoint);

    const response = await post(endpoint, request.headers, request.body);

    expect(response.status).toBe(404);
  });

  it('returns the configured subscription status', async () => {
    const service = await startService();
    for (const status of [404, 410, 429, 500] as const) {
      const { endpoint } = service.subscribe({ respond: status, retryAfterSeconds: 5 });
      const request = pushRequest(endpoint);

      const response = await post(endpoint, request.headers, request.body);

      expect(response.status, String(status)).toBe(status);
      expect(response.headers.get('retry-after'), String(status)).toBe(status === 429 ? '5' : null);
    }
  });

  it('rejects a foreign applicationServerKey', async () => {
    const service = await startService();
    const { endpoint } = service.subscribe({ applicationServerKey: webPush.generateVAPIDKeys().publicKey });
    const request = pushRequest(endpoint);

    const response = await post(endpoint, request.headers, request.body);

    expect(response.status).toBe(403);
    expect(service.received()[0]?.error).toMatch(/applicationServerKey/);
  });

  it('rejects methods other than POST on an endpoint', async () => {
    const service = await startService();
    const { endpoint } = service.subscribe();

    const response = await fetch(endpoint);

    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });

  it('serves subscriptions and pushes over HTTP', async () => {
    const service = await startService();
    const created = await fetch(`${service.url}/sandbox/push/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ applicationServerKey: vapid.publicKey }),
    });
    expect(created.status).toBe(201);
    const { endpoint } = (await created.json()) as { endpoint: string };
    const id = endpoint.split('/').at(-1)!;
    expect((await fetch(`${service.url}/sandbox/push/${id}`)).status).toBe(404);
    const request = pushRequest(endpoint);
    await post(endpoint, request.headers, request.body);

    const last = await fetch(`${service.url}/sandbox/push/${id}`);

    expect(last.status).toBe(200);
    const json = (await last.json()) as Record<string, unknown>;
    expect(json['endpoint']).toBe(endpoint);
    expect(json['ttl']).toBe('60');
    expect(json['contentEncoding']).toBe('aes128gcm');
    expect(Buffer.from(json['body'] as string, 'base64url').equals(request.body)).toBe(true);
  });

  it('rejects invalid subscription options over HTTP', async () => {
    const service = await startService();

    const response = await fetch(`${service.url}/sandbox/push/subscriptions`, { method: 'POST', body: JSON.stringify({ respond: 418 }) });

    expect(response.status).toBe(400);
  });

  it('resolves waitFor with a later push', async () => {
    const service = await startService();
    const { endpoint } = service.subscribe();
    const waiting = service.waitFor((record) => record.endpoint === endpoint, 5_000);
    const request = pushRequest(endpoint);

    await post(endpoint, request.headers, request.body);

    expect((await waiting).status).toBe(201);
  });

  it('rejects pending waitFor calls on close', async () => {
    const service = await startSandboxPushService({ logger });
    const waiting = service.waitFor(() => false, 60_000);

    await service.close();

    await expect(waiting).rejects.toThrow(/closed/);
  });
});
