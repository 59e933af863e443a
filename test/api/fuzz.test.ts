import { createHmac } from 'node:crypto';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import webPush from 'web-push';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAppToken, newAppTokenClaims } from '../../src/channels/app/token.js';
import { startTestServer, TEST_API_KEY, type TestServer } from '../helpers/server.js';
import { ADMIN_KEY, createSpace, http, issueKey } from './admin-client.js';

/*
 * Property-based fuzzing of every route through `inject`, against a real server on a real
 * SQLite store. Each generated request is invalid by construction (bad credentials, a bad body,
 * a bad or foreign path parameter, a method the route lacks), except reads, which may also
 * succeed. Every response must be below 500, every 4xx must be problem+json with a matching
 * `status`, and no rejected request may change the store.
 *
 * Generators produce small recipes, and each property builds the request from its recipe, so
 * that a failing case prints readably even when its body is megabytes long.
 */

const APP_TOKEN_SECRET = 'fuzz-app-token-secret-5f1e0c7a9b3d2e4f';
const META_APP_SECRET = 'fuzz-meta-app-secret-8c2d';
const SPACE_B_APP_SECRET = 'fuzz-space-b-app-secret-41aa';

type Expectation = 'reject' | 'any';

interface FuzzRequest {
  method: NonNullable<InjectOptions['method']>;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
  expect: Expectation;
}

// ---------------------------------------------------------------------------------------------
// Routes

type Auth = 'apiKey' | 'admin' | 'appToken' | 'socket' | 'metaSignature' | 'metaVerification' | 'none';
type Scope = 'messages:write' | 'messages:read' | 'profiles:read' | 'profiles:write' | 'admin' | 'every';

interface BodySpec {
  /** A valid body; the fuzzer derives invalid bodies from it and never sends it unchanged with valid credentials. */
  valid: Record<string, unknown>;
  required: string[];
  /** Maximum length of top-level string fields. */
  maxLengths: Record<string, number>;
  /** Maximum number of items of top-level array fields. */
  maxItems: Record<string, number>;
  /** A body that passes the schema but fails the handler's own checks. */
  semanticallyInvalid?: Record<string, unknown>;
  /** The route reads a missing body and `null` as `{}`, which is valid. */
  emptyIsValid?: boolean;
}

interface RouteSpec {
  auth: Auth;
  /** For `apiKey` routes: the scope the route requires (`every`: only keys without a scope list). */
  scope?: Scope;
  body?: BodySpec;
}

interface Route extends RouteSpec {
  method: string;
  url: string;
}

const SEND_BODY: BodySpec = {
  valid: { body: 'Your code is 4417', to: { phoneNumber: '+12025550101' }, rules: ['sms'] },
  required: ['body', 'to'],
  maxLengths: { body: 10_000 },
  maxItems: { rules: 10 },
  semanticallyInvalid: { body: 'hi', to: { phoneNumber: '+12025550101' }, ruleSet: 'no-such-rule-set' },
};

const BATCH_BODY: BodySpec = {
  valid: { messages: [SEND_BODY.valid] },
  required: ['messages'],
  maxLengths: {},
  // The 5,000-item limit is tried once in the edge cases, not in every run.
  maxItems: {},
  semanticallyInvalid: { messages: [SEND_BODY.semanticallyInvalid, { body: 'x' }, 42] },
};

const PROFILE_BODY: BodySpec = {
  valid: { addresses: { phoneNumber: '+12025550101' }, properties: { plan: 'gold' }, optOuts: ['email'], timeZone: 'Europe/Berlin' },
  required: [],
  maxLengths: { timeZone: 64 },
  maxItems: { optOuts: 20 },
  semanticallyInvalid: { addresses: { phoneNumber: 'not a phone number' } },
};

const FUZZ_VAPID = webPush.generateVAPIDKeys();
const OTHER_VAPID = webPush.generateVAPIDKeys();

const ROUTE_SPECS: Record<string, RouteSpec> = {
  'GET /healthz': { auth: 'none' },
  'GET /metrics': { auth: 'none' },
  'GET /openapi.json': { auth: 'none' },
  'GET /demo/app': { auth: 'none' },
  'GET /demo/app/app.js': { auth: 'none' },
  'GET /demo/app/app.css': { auth: 'none' },
  'GET /demo/app/sdk.js': { auth: 'none' },
  'POST /demo/app/token': {
    auth: 'none',
    body: { valid: { profileId: 'demo-user' }, required: ['profileId'], maxLengths: { profileId: 256 }, maxItems: {} },
  },
  'GET /v1/providers/meta/webhook': { auth: 'metaVerification' },
  'POST /v1/providers/meta/webhook': { auth: 'metaSignature' },
  'GET /v1/providers/meta/webhook/:spaceId': { auth: 'metaVerification' },
  'POST /v1/providers/meta/webhook/:spaceId': { auth: 'metaSignature' },

  'POST /v1/messages': { auth: 'apiKey', scope: 'messages:write', body: SEND_BODY },
  'POST /cpaas/messages': { auth: 'apiKey', scope: 'messages:write', body: SEND_BODY },
  'GET /v1/messages': { auth: 'apiKey', scope: 'messages:read' },
  'POST /v1/messages/batch': { auth: 'apiKey', scope: 'messages:write', body: BATCH_BODY },
  'POST /cpaas/messages/batch': { auth: 'apiKey', scope: 'messages:write', body: BATCH_BODY },
  'GET /v1/messages/:id': { auth: 'apiKey', scope: 'messages:read' },
  'POST /v1/messages/:id/cancel': { auth: 'apiKey', scope: 'messages:write' },
  'PUT /v1/profiles/:profileId': { auth: 'apiKey', scope: 'profiles:write', body: PROFILE_BODY },
  'GET /v1/profiles/:profileId': { auth: 'apiKey', scope: 'profiles:read' },
  'PATCH /v1/profiles/:profileId': { auth: 'apiKey', scope: 'profiles:write', body: PROFILE_BODY },
  'DELETE /v1/profiles/:profileId': { auth: 'apiKey', scope: 'profiles:write' },
  'GET /v1/rulesets': { auth: 'apiKey', scope: 'admin' },
  'PUT /v1/rulesets/:name': {
    auth: 'apiKey',
    scope: 'admin',
    body: {
      valid: { rules: ['sms', { channel: 'email', fallbackAfter: 'PT10M' }], default: false },
      required: ['rules'],
      maxLengths: {},
      maxItems: { rules: 10 },
      semanticallyInvalid: { rules: [{ channel: 'sms', fallbackAfter: 'ten minutes' }] },
    },
  },
  'GET /v1/rulesets/:name': { auth: 'apiKey', scope: 'admin' },
  'DELETE /v1/rulesets/:name': { auth: 'apiKey', scope: 'admin' },
  'POST /v1/webhooks': {
    auth: 'apiKey',
    scope: 'admin',
    body: {
      valid: { url: 'http://127.0.0.1:9/hook', events: ['message.sent'], description: 'fuzz' },
      required: ['url', 'events'],
      maxLengths: { url: 2048, description: 500 },
      maxItems: { events: 20 },
      semanticallyInvalid: { url: 'ftp://127.0.0.1/hook', events: ['message.sent'] },
    },
  },
  'GET /v1/webhooks': { auth: 'apiKey', scope: 'admin' },
  'GET /v1/webhooks/:id': { auth: 'apiKey', scope: 'admin' },
  'DELETE /v1/webhooks/:id': { auth: 'apiKey', scope: 'admin' },
  'GET /v1/webhooks/:id/dead-letters': { auth: 'apiKey', scope: 'admin' },
  'POST /v1/webhooks/:id/dead-letters/:deliveryId/replay': { auth: 'apiKey', scope: 'admin' },
  'GET /v1/channels': { auth: 'apiKey', scope: 'admin' },
  'GET /v1/channels/:channel': { auth: 'apiKey', scope: 'admin' },
  'DELETE /v1/channels/:channel': { auth: 'apiKey', scope: 'admin' },
  'PUT /v1/channels/sms': {
    auth: 'apiKey',
    scope: 'admin',
    body: {
      valid: { host: '127.0.0.1', port: 2775, systemId: 'fuzz', password: 'fuzzpass', sourceAddr: 'FUZZ' },
      required: ['host', 'systemId', 'password', 'sourceAddr'],
      maxLengths: { host: 253, systemId: 15, password: 8, sourceAddr: 21 },
      maxItems: {},
    },
  },
  'PUT /v1/channels/email': {
    auth: 'apiKey',
    scope: 'admin',
    body: {
      valid: { host: '127.0.0.1', port: 2525, tls: 'none', username: 'fuzz', password: 'fuzz-password', from: 'fuzz@example.com' },
      required: ['host', 'port', 'tls', 'from'],
      maxLengths: { host: 253, username: 256, password: 512, from: 254 },
      maxItems: {},
    },
  },
  'PUT /v1/channels/whatsApp': {
    auth: 'apiKey',
    scope: 'admin',
    body: {
      valid: { apiUrl: 'http://127.0.0.1:9', phoneNumberId: '100000000000009', accessToken: 'fuzz-token', appSecret: 'fuzz-app-secret', verifyToken: 'fuzz-verify' },
      required: ['phoneNumberId', 'accessToken', 'appSecret', 'verifyToken'],
      maxLengths: { apiUrl: 2048, phoneNumberId: 32, accessToken: 2048, appSecret: 512, verifyToken: 512 },
      maxItems: {},
    },
  },
  'PUT /v1/channels/fbMessenger': {
    auth: 'apiKey',
    scope: 'admin',
    body: {
      valid: { apiUrl: 'http://127.0.0.1:9', pageAccessToken: 'fuzz-page-token', appSecret: 'fuzz-app-secret', verifyToken: 'fuzz-verify' },
      required: ['pageAccessToken', 'appSecret', 'verifyToken'],
      maxLengths: { apiUrl: 2048, pageAccessToken: 2048, appSecret: 512, verifyToken: 512 },
      maxItems: {},
    },
  },
  'PUT /v1/channels/appMessaging': {
    auth: 'apiKey',
    scope: 'admin',
    body: {
      valid: { vapidPublicKey: FUZZ_VAPID.publicKey, vapidPrivateKey: FUZZ_VAPID.privateKey, vapidSubject: 'mailto:fuzz@example.com' },
      required: ['vapidPublicKey', 'vapidPrivateKey', 'vapidSubject'],
      maxLengths: { vapidPublicKey: 128, vapidPrivateKey: 128, vapidSubject: 256 },
      maxItems: {},
      // A well-formed key pair whose halves do not belong together.
      semanticallyInvalid: { vapidPublicKey: FUZZ_VAPID.publicKey, vapidPrivateKey: OTHER_VAPID.privateKey, vapidSubject: 'mailto:fuzz@example.com' },
    },
  },
  'POST /v1/app/tokens': {
    auth: 'apiKey',
    scope: 'messages:write',
    body: { valid: { profileId: 'alice' }, required: ['profileId'], maxLengths: { profileId: 256 }, maxItems: {} },
  },
  'GET /v1/keys': { auth: 'apiKey', scope: 'admin' },
  'POST /v1/keys': {
    auth: 'apiKey',
    scope: 'admin',
    body: { valid: { scopes: ['messages:read'], name: 'fuzz' }, required: [], maxLengths: { name: 100 }, maxItems: { scopes: 20 }, semanticallyInvalid: { scopes: ['messages:send'] } },
  },
  'DELETE /v1/keys/:keyId': { auth: 'apiKey', scope: 'admin' },

  'POST /v1/admin/spaces': { auth: 'admin', body: { valid: { name: 'fuzz space' }, required: ['name'], maxLengths: { name: 200 }, maxItems: {}, semanticallyInvalid: { name: '   ' } } },
  'GET /v1/admin/spaces': { auth: 'admin' },
  'GET /v1/admin/spaces/:spaceId': { auth: 'admin' },
  'POST /v1/admin/spaces/:spaceId/keys': {
    auth: 'admin',
    body: { valid: { scopes: ['messages:read'] }, required: [], maxLengths: {}, maxItems: { scopes: 20 }, semanticallyInvalid: { scopes: [] } },
  },
  'GET /v1/admin/spaces/:spaceId/keys': { auth: 'admin' },
  'DELETE /v1/admin/spaces/:spaceId/keys/:keyId': { auth: 'admin' },

  'GET /v1/app/socket': { auth: 'socket' },
  'GET /v1/app/push-key': { auth: 'appToken' },
  'GET /v1/app/inbox': { auth: 'appToken' },
  'POST /v1/app/inbox/:messageId/ack': { auth: 'appToken' },
  'POST /v1/app/inbox/:messageId/read': { auth: 'appToken' },
  'PUT /v1/app/devices/:deviceId': {
    auth: 'appToken',
    body: {
      valid: { push: null },
      required: [],
      maxLengths: {},
      maxItems: {},
      emptyIsValid: true,
      // Only the sandbox push service is trusted, and https on a loopback address is not a public host.
      semanticallyInvalid: { push: { endpoint: 'https://127.0.0.1:1/push', keys: { p256dh: 'x', auth: 'y' } } },
    },
  },
  'DELETE /v1/app/devices/:deviceId': { auth: 'appToken' },
};

/** Returns the spec of a route. HEAD uses GET's, OPTIONS routes are CORS preflights, and `/docs` serves the API browser. */
function specFor(method: string, url: string): RouteSpec | undefined {
  if (method === 'OPTIONS') return { auth: 'none' };
  const key = `${method === 'HEAD' ? 'GET' : method} ${url}`;
  if (ROUTE_SPECS[key] !== undefined) return ROUTE_SPECS[key];
  if (method === 'GET' || method === 'HEAD') {
    if (url === '/docs' || url.startsWith('/docs/')) return { auth: 'none' };
  }
  return undefined;
}

/** Reads the routes of the app from `printRoutes`, whose lines nest each path under its prefix. */
function listRoutes(tree: string): Array<{ method: string; url: string }> {
  const routes: Array<{ method: string; url: string }> = [];
  const prefixes: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^((?:[│ ] {3})*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (match === null) continue;
    const depth = (match[1] ?? '').length / 4;
    const url = `${prefixes[depth - 1] ?? ''}${match[2] ?? ''}`;
    prefixes[depth] = url;
    prefixes.length = depth + 1;
    for (const method of (match[3] ?? '').split(',').map((name) => name.trim()).filter((name) => name !== '')) {
      routes.push({ method, url });
    }
  }
  return routes;
}

// ---------------------------------------------------------------------------------------------
// Path parameters

const PARAM_LIMITS: Record<string, { maxLength: number; pattern?: RegExp }> = {
  id: { maxLength: 64 },
  deliveryId: { maxLength: 64 },
  profileId: { maxLength: 256 },
  name: { maxLength: 64, pattern: /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,64}$/ },
  spaceId: { maxLength: 100 },
  keyId: { maxLength: 100 },
  messageId: { maxLength: 128 },
  deviceId: { maxLength: 128, pattern: /^[A-Za-z0-9._~-]{1,128}$/ },
  channel: { maxLength: 16, pattern: /^(sms|email|whatsApp|fbMessenger|appMessaging)$/ },
};

function paramNames(url: string): string[] {
  return [...url.matchAll(/:([A-Za-z]+)/g)].map((match) => match[1] ?? '');
}

/** Percent-encodes every byte outside the unreserved characters, so any byte sequence fits in a path. */
function encodeBytes(value: string | Uint8Array): string {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  let encoded = '';
  for (const byte of bytes) {
    const char = String.fromCharCode(byte);
    encoded += /[A-Za-z0-9._~-]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}

/** A path parameter value: text, or raw bytes that need not be UTF-8. */
type ParamValue = { text: string } | { bytes: number[] };

function encodeParam(value: ParamValue): string {
  return 'text' in value ? encodeBytes(value.text) : encodeBytes(Uint8Array.from(value.bytes));
}

/** Returns whether a value fails the path parameter's schema: not UTF-8, too long, or off its pattern. */
function breaksParamSchema(name: string, value: ParamValue): boolean {
  const limits = PARAM_LIMITS[name];
  if (limits === undefined) throw new Error(`PARAM_LIMITS has no entry for :${name}`);
  let text: string;
  if ('text' in value) {
    text = Buffer.from(value.text, 'utf8').toString('utf8');
  } else {
    const bytes = Buffer.from(value.bytes);
    text = bytes.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(bytes)) return true;
  }
  return text.length > limits.maxLength || (limits.pattern !== undefined && !limits.pattern.test(text));
}

function fillPath(url: string, values: Record<string, string>): string {
  return url.replace(/:([A-Za-z]+)/g, (_match, name: string) => values[name] ?? 'missing');
}

// ---------------------------------------------------------------------------------------------
// Fixtures: one record of each kind in space A (the default space), and a second space B.

interface Fixtures {
  spaceB: string;
  keyB: string;
  keyBId: string;
  /** A key of space A with `messages:read` only. */
  readOnlyKey: string;
  readOnlyKeyId: string;
  revokedKey: string;
  appToken: string;
  appTokenB: string;
  expiredAppToken: string;
  foreignAppToken: string;
  messageId: string;
  webhookId: string;
  profileId: string;
  ruleSet: string;
  deviceId: string;
}

/** Returns the path parameter that names an existing record of space A, or of space B on admin routes. */
function fixtureParam(fixtures: Fixtures, url: string, name: string): string {
  switch (name) {
    case 'id':
      return url.startsWith('/v1/webhooks') ? fixtures.webhookId : fixtures.messageId;
    case 'profileId':
      return fixtures.profileId;
    case 'name':
      return fixtures.ruleSet;
    case 'spaceId':
      return fixtures.spaceB;
    case 'keyId':
      return url.startsWith('/v1/admin') ? fixtures.keyBId : fixtures.readOnlyKeyId;
    case 'deviceId':
      return fixtures.deviceId;
    case 'channel':
      return 'sms';
    default:
      return `no-such-${name}`;
  }
}

function knownIds(fixtures: Fixtures): Set<string> {
  return new Set(['default', fixtures.spaceB, fixtures.keyBId, fixtures.readOnlyKeyId, fixtures.messageId, fixtures.webhookId, fixtures.profileId, fixtures.ruleSet, fixtures.deviceId]);
}

// ---------------------------------------------------------------------------------------------
// Credentials

type Credential =
  | { kind: 'none' }
  | { kind: 'header'; value: string }
  | { kind: 'bearer'; token: string }
  | { kind: 'basic'; user: string; password: string }
  | { kind: 'fixture'; name: 'apiKey' | 'keyB' | 'readOnlyKey' | 'revokedKey' | 'adminKey' | 'appToken' | 'appTokenB' | 'expiredAppToken' | 'foreignAppToken' }
  | { kind: 'tamperedAppToken'; position: number };

function fixtureSecret(fixtures: Fixtures, name: Extract<Credential, { kind: 'fixture' }>['name']): string {
  switch (name) {
    case 'apiKey':
      return TEST_API_KEY;
    case 'adminKey':
      return ADMIN_KEY;
    default:
      return fixtures[name];
  }
}

/** Returns the token a credential presents, or null for credentials that are not a token. */
function credentialToken(fixtures: Fixtures, credential: Credential): string | null {
  switch (credential.kind) {
    case 'bearer':
      return credential.token;
    case 'fixture':
      return fixtureSecret(fixtures, credential.name);
    case 'tamperedAppToken': {
      const token = fixtures.appToken;
      // The last character is left alone: some of its bits are padding, so changing it may keep the same signature bytes.
      const index = credential.position % (token.length - 1);
      const replaced = token[index] === 'A' ? 'B' : 'A';
      return `${token.slice(0, index)}${replaced}${token.slice(index + 1)}`;
    }
    default:
      return null;
  }
}

function applyCredential(fixtures: Fixtures, route: Route, credential: Credential, headers: Record<string, string>): string {
  let query = '';
  if (route.auth === 'socket') {
    const token = credentialToken(fixtures, credential);
    if (token !== null) query = `token=${encodeBytes(token)}`;
    else if (credential.kind === 'header') headers['sec-websocket-protocol'] = credential.value;
    return query;
  }
  switch (credential.kind) {
    case 'none':
      break;
    case 'header':
      headers.authorization = credential.value;
      break;
    case 'basic':
      headers.authorization = `Basic ${Buffer.from(`${credential.user}:${credential.password}`, 'utf8').toString('base64')}`;
      break;
    default:
      headers.authorization = `Bearer ${credentialToken(fixtures, credential) ?? ''}`;
  }
  return query;
}

/** The valid credential of a route, for requests that must fail for another reason. */
function validCredential(route: Route): Credential {
  switch (route.auth) {
    case 'apiKey':
      return { kind: 'fixture', name: 'apiKey' };
    case 'admin':
      return { kind: 'fixture', name: 'adminKey' };
    case 'appToken':
    case 'socket':
      return { kind: 'fixture', name: 'appToken' };
    default:
      return { kind: 'none' };
  }
}

/** Header values a client can send: printable ASCII and Latin-1 bytes, no line breaks. */
const headerText = (maxLength: number) =>
  fc.string({ unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0xa0, max: 0xff })).map((code) => String.fromCharCode(code)), maxLength });

const tokenText = fc.oneof(
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 80 }).filter((text) => !/\s/.test(text)),
  fc.stringMatching(/^csk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/),
  fc.stringMatching(/^cat1\.[A-Za-z0-9_-]{10,120}\.[A-Za-z0-9_-]{43}$/),
  fc.nat({ max: 3000 }).map((length) => 'k'.repeat(length + 1)),
);

/** Credentials that the route must reject: missing, malformed, forged, expired, revoked, of the wrong kind or scope. */
function badCredential(route: Route): fc.Arbitrary<Credential> {
  const common: Array<fc.Arbitrary<Credential>> = [
    fc.constant<Credential>({ kind: 'none' }),
    fc.constantFrom<Credential>(
      { kind: 'header', value: '' },
      { kind: 'header', value: 'Bearer' },
      { kind: 'header', value: 'Bearer ' },
      { kind: 'header', value: 'Basic' },
      { kind: 'header', value: 'Basic !!!' },
      { kind: 'header', value: 'Basic Og==' },
    ),
    headerText(200).map<Credential>((value) => ({ kind: 'header', value })),
    tokenText.map<Credential>((token) => ({ kind: 'bearer', token })),
    fc.record({ user: headerText(40), password: headerText(40) }).map<Credential>(({ user, password }) => ({ kind: 'basic', user, password })),
    fc.constant<Credential>({ kind: 'fixture', name: 'revokedKey' }),
    fc.constant<Credential>({ kind: 'fixture', name: 'expiredAppToken' }),
    fc.constant<Credential>({ kind: 'fixture', name: 'foreignAppToken' }),
    fc.nat().map<Credential>((position) => ({ kind: 'tamperedAppToken', position })),
  ];
  switch (route.auth) {
    case 'apiKey': {
      const extra: Array<fc.Arbitrary<Credential>> = [fc.constantFrom<Credential>({ kind: 'fixture', name: 'adminKey' }, { kind: 'fixture', name: 'appToken' })];
      if (route.scope !== 'messages:read') extra.push(fc.constant<Credential>({ kind: 'fixture', name: 'readOnlyKey' }));
      return fc.oneof(...common, ...extra);
    }
    case 'admin':
      return fc.oneof(...common, fc.constantFrom<Credential>({ kind: 'fixture', name: 'apiKey' }, { kind: 'fixture', name: 'keyB' }, { kind: 'fixture', name: 'appToken' }));
    default:
      return fc.oneof(...common, fc.constantFrom<Credential>({ kind: 'fixture', name: 'apiKey' }, { kind: 'fixture', name: 'adminKey' }));
  }
}

// ---------------------------------------------------------------------------------------------
// Bodies

type Mutation =
  | { kind: 'truncated'; at: number }
  | { kind: 'garbage'; text: string }
  | { kind: 'nonObject'; value: unknown }
  | { kind: 'deepArray'; depth: number }
  | { kind: 'unknownField'; name: string; value: unknown }
  | { kind: 'missingRequired'; index: number }
  | { kind: 'wrongType'; index: number; variant: number }
  | { kind: 'oversizeString'; index: number; extra: number; char: string }
  | { kind: 'hugeArray'; index: number; extra: number }
  | { kind: 'prototypeKey'; key: '__proto__' | 'constructor' }
  | { kind: 'semantic' }
  | { kind: 'empty' };

type Encoding = 'utf8' | 'bom' | 'nul' | 'loneSurrogate' | 'invalidUtf8' | 'overlongUtf8' | 'utf16';

type ContentType = { kind: 'json' } | { kind: 'none' } | { kind: 'other'; value: string };

const OTHER_CONTENT_TYPES = [
  'text/plain',
  'text/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=fuzz',
  'application/xml',
  'application/jsonx',
  'application/json-seq',
  'application/merge-patch+json',
  'application/octet-stream',
  '*/*',
  'application',
  ';',
];

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Values of every JSON type but null, so that at least one differs from any field's type. */
const WRONG_TYPE_VALUES: unknown[] = [42, -1.5, true, 'text', [], [1, 'two'], {}, { nested: { deeper: [] } }];

function wrongTypeValue(current: unknown, variant: number): unknown {
  const candidates = WRONG_TYPE_VALUES.filter((value) => jsonTypeOf(value) !== jsonTypeOf(current));
  return candidates[variant % candidates.length];
}

function mutationArbitrary(spec: BodySpec): fc.Arbitrary<Mutation> {
  const options: Array<fc.Arbitrary<Mutation>> = [
    fc.nat().map<Mutation>((at) => ({ kind: 'truncated', at })),
    fc.string({ minLength: 1, maxLength: 200 }).filter((text) => !isJson(text)).map<Mutation>((text) => ({ kind: 'garbage', text })),
    fc
      .oneof(fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }), fc.double(), fc.integer(), fc.string({ maxLength: 50 }), fc.boolean(), ...(spec.emptyIsValid ? [] : [fc.constant(null)]))
      .map<Mutation>((value) => ({ kind: 'nonObject', value })),
    fc.integer({ min: 1, max: 5000 }).map<Mutation>((depth) => ({ kind: 'deepArray', depth })),
    fc
      .record({ name: fc.string({ maxLength: 30 }), value: fc.jsonValue({ maxDepth: 2 }) })
      // The prefix keeps the name off every schema's list of fields.
      .map<Mutation>(({ name, value }) => ({ kind: 'unknownField', name: `x-${name}`, value })),
    fc.record({ index: fc.nat(), variant: fc.nat() }).map<Mutation>(({ index, variant }) => ({ kind: 'wrongType', index, variant })),
    fc.constantFrom<Mutation>({ kind: 'prototypeKey', key: '__proto__' }, { kind: 'prototypeKey', key: 'constructor' }),
  ];
  if (spec.required.length > 0) options.push(fc.nat().map<Mutation>((index) => ({ kind: 'missingRequired', index })));
  if (Object.keys(spec.maxLengths).length > 0) {
    options.push(
      fc
        .record({ index: fc.nat(), extra: fc.integer({ min: 1, max: 2000 }), char: fc.constantFrom('x', 'é', '€', '\u0000', '😀', ' ') })
        .map<Mutation>(({ index, extra, char }) => ({ kind: 'oversizeString', index, extra, char })),
    );
  }
  if (Object.keys(spec.maxItems).length > 0) {
    options.push(fc.record({ index: fc.nat(), extra: fc.integer({ min: 1, max: 40 }) }).map<Mutation>(({ index, extra }) => ({ kind: 'hugeArray', index, extra })));
  }
  if (spec.semanticallyInvalid !== undefined) options.push(fc.constant<Mutation>({ kind: 'semantic' }));
  if (!spec.emptyIsValid) options.push(fc.constant<Mutation>({ kind: 'empty' }));
  return fc.oneof(...options);
}

function pick<T>(items: readonly T[], index: number): T {
  const item = items[index % items.length];
  if (item === undefined) throw new Error('pick() needs a non-empty list');
  return item;
}

/** Builds the JSON text of an invalid body. Every mutation keeps the body invalid whatever the encoding twist does later. */
function mutatedBody(spec: BodySpec, mutation: Mutation): string {
  const valid = spec.valid;
  const fields = Object.keys(valid);
  switch (mutation.kind) {
    case 'truncated': {
      // At least one character stays, because an empty body counts as no body.
      const text = JSON.stringify(valid);
      return text.slice(0, 1 + (mutation.at % (text.length - 1)));
    }
    case 'garbage':
      return mutation.text;
    case 'nonObject':
      return JSON.stringify(mutation.value);
    case 'deepArray':
      return `${'['.repeat(mutation.depth)}${']'.repeat(mutation.depth)}`;
    case 'unknownField':
      return JSON.stringify({ ...valid, [mutation.name]: mutation.value });
    case 'missingRequired': {
      const copy: Record<string, unknown> = { ...valid };
      delete copy[pick(spec.required, mutation.index)];
      return JSON.stringify(copy);
    }
    case 'wrongType': {
      const field = pick(fields, mutation.index);
      return JSON.stringify({ ...valid, [field]: wrongTypeValue(valid[field], mutation.variant) });
    }
    case 'oversizeString': {
      const [field, max] = pick(Object.entries(spec.maxLengths), mutation.index);
      const text = mutation.char.repeat(max + mutation.extra);
      return JSON.stringify({ ...valid, [field]: text });
    }
    case 'hugeArray': {
      const [field, max] = pick(Object.entries(spec.maxItems), mutation.index);
      const items = valid[field] as unknown[];
      return JSON.stringify({ ...valid, [field]: Array.from({ length: max + mutation.extra }, (_, i) => items[i % items.length]) });
    }
    case 'prototypeKey': {
      const inner = mutation.key === '__proto__' ? '{"polluted":true}' : '{"prototype":{"polluted":true}}';
      return `{"${mutation.key}":${inner},${JSON.stringify(valid).slice(1)}`;
    }
    case 'semantic':
      return JSON.stringify(spec.semanticallyInvalid);
    case 'empty':
      return '';
  }
}

/** Applies an odd encoding to a body. Text is inserted into the first string, so at most a field name changes, and every schema rejects unknown names. */
function encodeBody(text: string, encoding: Encoding): Buffer {
  const quote = text.indexOf('"');
  const insert = (bytes: Buffer): Buffer => {
    if (quote < 0) return Buffer.concat([Buffer.from(text, 'utf8'), bytes]);
    return Buffer.concat([Buffer.from(text.slice(0, quote + 1), 'utf8'), bytes, Buffer.from(text.slice(quote + 1), 'utf8')]);
  };
  switch (encoding) {
    case 'utf8':
      return Buffer.from(text, 'utf8');
    case 'bom':
      return Buffer.from(`\uFEFF${text}`, 'utf8');
    case 'nul':
      return quote < 0 ? Buffer.from(text, 'utf8') : insert(Buffer.from('\\u0000', 'utf8'));
    case 'loneSurrogate':
      return quote < 0 ? Buffer.from(text, 'utf8') : insert(Buffer.from('\\ud800', 'utf8'));
    case 'invalidUtf8':
      return insert(Buffer.from([0xff, 0xfe, 0x80]));
    case 'overlongUtf8':
      return insert(Buffer.from([0xc0, 0xaf, 0xe0, 0x80, 0xaf]));
    case 'utf16':
      return Buffer.from(text, 'utf16le');
  }
}

const encodingArbitrary = fc.constantFrom<Encoding>('utf8', 'utf8', 'utf8', 'bom', 'nul', 'loneSurrogate', 'invalidUtf8', 'overlongUtf8', 'utf16');

const contentTypeArbitrary = fc.oneof(
  { weight: 6, arbitrary: fc.constant<ContentType>({ kind: 'json' }) },
  { weight: 1, arbitrary: fc.constant<ContentType>({ kind: 'none' }) },
  {
    weight: 2,
    arbitrary: fc
      .oneof(fc.constantFrom(...OTHER_CONTENT_TYPES), headerText(60))
      .filter((value) => !/^\s*application\/json\s*(;|$)/i.test(value) && value.trim() !== '')
      .map<ContentType>((value) => ({ kind: 'other', value })),
  },
);

function setContentType(headers: Record<string, string>, contentType: ContentType): void {
  if (contentType.kind === 'json') headers['content-type'] = 'application/json';
  if (contentType.kind === 'other') headers['content-type'] = contentType.value;
}

// ---------------------------------------------------------------------------------------------
// Query strings

type QueryPart = { key: string; value: string } | { raw: string };

const queryPartArbitrary: fc.Arbitrary<QueryPart> = fc.oneof(
  fc.record({
    key: fc.constantFrom('limit', 'cursor', 'status', 'since', 'profileId', 'after', 'token', 'hub.mode', 'hub.verify_token', 'hub.challenge', 'unknown', '__proto__', ''),
    value: fc.oneof(fc.string({ maxLength: 40 }), fc.integer().map(String), fc.constantFrom('-1', '0', '101', '1e3', 'NaN', 'null', '2025-13-45', 'delivered', 'subscribe')),
  }),
  fc.record({ key: fc.string({ maxLength: 20 }), value: fc.string({ maxLength: 200 }) }),
  fc.constantFrom<QueryPart>({ raw: '%' }, { raw: '%ZZ' }, { raw: '%FF%FE' }, { raw: 'a=%00' }, { raw: '&&&' }, { raw: '=' }, { raw: 'limit=1&limit=2' }, { raw: 'a[b]=c' }),
  fc.nat({ max: 20_000 }).map<QueryPart>((length) => ({ key: 'cursor', value: 'c'.repeat(length) })),
);

function buildQuery(parts: QueryPart[]): string {
  return parts.map((part) => ('raw' in part ? part.raw : `${encodeBytes(part.key)}=${encodeBytes(part.value)}`)).join('&');
}

function withQuery(path: string, query: string): string {
  return query === '' ? path : `${path}?${query}`;
}

// ---------------------------------------------------------------------------------------------
// Checks

interface Snapshot {
  store: Record<string, unknown>;
  tables: Record<string, number>;
}

function describeRequest(request: FuzzRequest): string {
  const payload = request.payload === undefined ? '' : ` body ${JSON.stringify(request.payload.toString().slice(0, 200))} (${request.payload.length} ${typeof request.payload === 'string' ? 'chars' : 'bytes'})`;
  const headers = JSON.stringify(request.headers).slice(0, 300);
  return `${request.method} ${request.url.slice(0, 300)} headers ${headers}${payload}`;
}

function checkResponse(request: FuzzRequest, response: LightMyRequestResponse): void {
  const status = response.statusCode;
  const summary = `${describeRequest(request)} → HTTP ${status} ${response.body.slice(0, 300)}`;
  if (status >= 500) throw new Error(`server error: ${summary}`);
  if (request.expect === 'reject' && status < 400) throw new Error(`accepted an invalid request: ${summary}`);
  if (status < 400) return;

  const contentType = String(response.headers['content-type'] ?? '');
  if (!contentType.startsWith('application/problem+json')) throw new Error(`4xx without application/problem+json (${contentType}): ${summary}`);
  if (request.method === 'HEAD') return;
  let body: { status?: unknown; type?: unknown; title?: unknown; detail?: unknown };
  try {
    body = JSON.parse(response.body) as typeof body;
  } catch {
    throw new Error(`problem body is not JSON: ${summary}`);
  }
  if (body.status !== status) throw new Error(`problem status ${String(body.status)} differs from HTTP ${status}: ${summary}`);
  if (typeof body.type !== 'string' || typeof body.title !== 'string' || typeof body.detail !== 'string') {
    throw new Error(`problem lacks type, title or detail: ${summary}`);
  }
}

interface RawResponse {
  /** 0 when the connection closed without a status line. */
  status: number;
  contentType: string;
  body: string;
}

/** Sends bytes to the server over a plain TCP connection and reads the response until the server closes it. */
async function sendRaw(port: number, request: string | Buffer): Promise<RawResponse> {
  const text = await new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
  });
  const [head = '', ...rest] = text.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  const contentType = /^content-type: *(.*)$/im.exec(head)?.[1] ?? '';
  return { status, contentType, body: rest.join('\r\n\r\n') };
}

// ---------------------------------------------------------------------------------------------
// The server

describe('API fuzzing', () => {
  let server: TestServer;
  let fixtures: Fixtures;
  let routes: Route[];
  let database: Database.Database;
  const errorLines: string[] = [];

  async function send(request: FuzzRequest): Promise<LightMyRequestResponse> {
    const response = await server.api.inject({
      method: request.method,
      url: request.url,
      headers: request.headers,
      ...(request.payload === undefined ? {} : { payload: request.payload }),
    });
    checkResponse(request, response);
    return response;
  }

  async function snapshot(): Promise<Snapshot> {
    const store = server.store;
    const spaces = ['default', fixtures.spaceB];
    const perSpace: Record<string, unknown> = {};
    for (const spaceId of spaces) {
      perSpace[spaceId] = {
        messages: (await store.listMessages(spaceId, { limit: 100 })).items.map((message) => `${message.id}:${message.status}:${message.updatedAt}`),
        ruleSets: (await store.listRuleSets(spaceId)).map((ruleSet) => `${ruleSet.name}:${ruleSet.updatedAt}:${ruleSet.isDefault}`),
        webhooks: (await store.webhooks.listEndpoints(spaceId)).map((endpoint) => endpoint.id),
        keys: (await store.listApiKeys(spaceId)).map((key) => `${key.id}:${key.revokedAt}`),
        channels: (await store.channelSettings.list(spaceId)).map((settings) => `${settings.channel}:${settings.updatedAt}:${settings.sealed}`),
        devices: (await store.appFeed.listDevices(spaceId, spaceId === 'default' ? 'alice' : 'bob')).map((device) => `${device.deviceId}:${device.lastSeenAt}`),
      };
    }
    const profile = await store.getProfile('default', fixtures.profileId);
    const tables: Record<string, number> = {};
    const names = database.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as Array<{ name: string }>;
    for (const { name } of names) {
      const row = database.prepare(`SELECT COUNT(*) AS count FROM "${name}"`).get() as { count: number };
      tables[name] = row.count;
    }
    return { store: { spaces: (await store.listSpaces()).map((space) => space.id), perSpace, profileUpdatedAt: profile?.updatedAt ?? null }, tables };
  }

  /** Runs `property` and then checks that the store is as it was before. */
  async function expectNothingWritten(run: () => Promise<void>): Promise<void> {
    const before = await snapshot();
    await run();
    const after = await snapshot();
    expect(after.tables).toEqual(before.tables);
    expect(after.store).toEqual(before.store);
  }

  beforeAll(async () => {
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (line !== '' && (JSON.parse(line) as { level: number }).level >= 50) errorLines.push(line);
        }
        done();
      },
    });
    server = await startTestServer(
      {
        ADMIN_KEY,
        APP_TOKEN_SECRET,
        META_APP_SECRET,
        // Thousands of requests with forged keys come from one address, so no limit may apply.
        RATE_LIMIT_PER_MINUTE: '0',
        RATE_LIMIT_PER_IP_PER_MINUTE: '0',
      },
      { logger: pino({ level: 'warn' }, stream) },
    );
    database = new Database(join(server.dataDir, 'cascade.sqlite'), { readonly: true, fileMustExist: true });

    const spaceB = await createSpace(server, 'space B');
    const keyB = await issueKey(server, spaceB);
    const readOnly = await issueKey(server, 'default', { scopes: ['messages:read'] });
    const revoked = await issueKey(server, 'default');
    const revokeResponse = await http(server, 'DELETE', `/v1/admin/spaces/default/keys/${revoked.keyId}`, { key: ADMIN_KEY });
    expect(revokeResponse.status).toBe(204);

    const sendAt = new Date(Date.now() + 7 * 86_400_000).toISOString();
    const message = await http<{ messageId: string }>(server, 'POST', '/v1/messages', {
      key: TEST_API_KEY,
      body: { body: 'scheduled for next week', to: { phoneNumber: '+12025550101' }, rules: ['sms'], sendAt },
    });
    expect(message.status).toBe(201);
    const webhook = await http<{ id: string }>(server, 'POST', '/v1/webhooks', {
      key: TEST_API_KEY,
      // Inbound messages arrive only through signed Meta webhooks, which the fuzzer never signs, so nothing is delivered.
      body: { url: 'http://127.0.0.1:9/hook', events: ['message.inbound'] },
    });
    expect(webhook.status).toBe(201);
    expect((await http(server, 'PUT', '/v1/profiles/fixture-profile', { key: TEST_API_KEY, body: PROFILE_BODY.valid })).status).toBe(201);
    expect((await http(server, 'PUT', '/v1/rulesets/fixture-rules', { key: TEST_API_KEY, body: { rules: ['sms'] } })).status).toBe(201);
    // Space B's own WhatsApp settings give its webhook URL a secret that the fuzzer never has.
    const whatsAppB = { apiUrl: 'http://127.0.0.1:9', phoneNumberId: '100000000000009', accessToken: 'token-of-b', appSecret: SPACE_B_APP_SECRET, verifyToken: 'verify-token-of-b' };
    expect((await http(server, 'PUT', '/v1/channels/whatsApp', { key: keyB.key, body: whatsAppB })).status).toBe(201);
    const smsA = { host: '127.0.0.1', port: 9, systemId: 'fixture', password: 'fixture', sourceAddr: 'FIXTURE' };
    expect((await http(server, 'PUT', '/v1/channels/sms', { key: TEST_API_KEY, body: smsA })).status).toBe(201);

    const appToken = await http<{ token: string }>(server, 'POST', '/v1/app/tokens', { key: TEST_API_KEY, body: { profileId: 'alice' } });
    const appTokenB = await http<{ token: string }>(server, 'POST', '/v1/app/tokens', { key: keyB.key, body: { profileId: 'bob' } });
    expect(appToken.status).toBe(201);
    expect(appTokenB.status).toBe(201);
    expect((await http(server, 'PUT', '/v1/app/devices/fixture-device', { key: appToken.body.token, body: {} })).status).toBe(200);

    const subject = { spaceId: 'default', profileId: 'alice', appUserId: 'alice' };
    fixtures = {
      spaceB,
      keyB: keyB.key,
      keyBId: keyB.keyId,
      readOnlyKey: readOnly.key,
      readOnlyKeyId: readOnly.keyId,
      revokedKey: revoked.key,
      appToken: appToken.body.token,
      appTokenB: appTokenB.body.token,
      expiredAppToken: issueAppToken(newAppTokenClaims(subject, Date.now() - 2 * 3600_000, 60), APP_TOKEN_SECRET),
      foreignAppToken: issueAppToken(newAppTokenClaims(subject, Date.now(), 3600), 'another-secret-of-at-least-32-characters'),
      messageId: message.body.messageId,
      webhookId: webhook.body.id,
      profileId: 'fixture-profile',
      ruleSet: 'fixture-rules',
      deviceId: 'fixture-device',
    };

    const listed = listRoutes(server.api.printRoutes({ commonPrefix: false }));
    const compatibility = [
      { method: 'POST', url: '/cpaas/messages' },
      { method: 'POST', url: '/cpaas/messages/batch' },
    ];
    routes = [...listed, ...compatibility].flatMap(({ method, url }) => {
      const spec = specFor(method, url);
      return spec === undefined ? [] : [{ ...spec, method, url }];
    });
  });

  afterAll(async () => {
    database?.close();
    await server?.dispose();
  });

  it('has a fuzz spec for every route', () => {
    const listed = listRoutes(server.api.printRoutes({ commonPrefix: false }));
    const missing = listed.filter(({ method, url }) => specFor(method, url) === undefined).map(({ method, url }) => `${method} ${url}`);

    expect(listed.length).toBeGreaterThan(40);
    expect(missing).toEqual([]);
    for (const key of Object.keys(ROUTE_SPECS)) {
      const [method, url] = key.split(' ');
      const known = listed.some((route) => route.method === method && route.url === url) || url?.startsWith('/cpaas/');
      expect(known, `${key} is in ROUTE_SPECS but the app has no such route`).toBe(true);
    }
  });

  it('rejects bad credentials on every route', async () => {
    const guarded = routes.filter((route) => ['apiKey', 'admin', 'appToken', 'socket'].includes(route.auth) && route.method !== 'OPTIONS');
    const arbitrary = fc
      .constantFrom(...guarded)
      .chain((route) =>
        fc.record({
          route: fc.constant(route),
          credential: badCredential(route),
          useFixtureParams: fc.boolean(),
          params: fc.array(fc.string({ minLength: 1, maxLength: 20 }), { minLength: 3, maxLength: 3 }),
          body: route.body === undefined ? fc.constant(null) : fc.oneof(fc.constant<Mutation | null>(null), mutationArbitrary(route.body)),
        }),
      );

    await expectNothingWritten(async () => {
      await fc.assert(
        fc.asyncProperty(arbitrary, async ({ route, credential, useFixtureParams, params, body }) => {
          const names = paramNames(route.url);
          const values = Object.fromEntries(names.map((name, i) => [name, encodeBytes(useFixtureParams ? fixtureParam(fixtures, route.url, name) : (params[i] ?? 'x'))]));
          const headers: Record<string, string> = {};
          const query = applyCredential(fixtures, route, credential, headers);
          let payload: string | undefined;
          if (route.body !== undefined) {
            headers['content-type'] = 'application/json';
            payload = body === null ? JSON.stringify(route.body.valid) : mutatedBody(route.body, body);
          }
          await send({ method: route.method as FuzzRequest['method'], url: withQuery(fillPath(route.url, values), query), headers, ...(payload === undefined ? {} : { payload }), expect: 'reject' });
        }),
        { numRuns: 900 },
      );
    });
  }, 60_000);

  it('rejects malformed bodies with valid credentials', async () => {
    const writable = routes.filter((route) => route.body !== undefined);
    const arbitrary = fc.constantFrom(...writable).chain((route) =>
      fc.record({
        route: fc.constant(route),
        mutation: mutationArbitrary(route.body as BodySpec),
        encoding: encodingArbitrary,
        contentType: contentTypeArbitrary,
        idempotencyKey: fc.option(headerText(300), { nil: undefined }),
      }),
    );

    await expectNothingWritten(async () => {
      await fc.assert(
        fc.asyncProperty(arbitrary, async ({ route, mutation, encoding, contentType, idempotencyKey }) => {
          const spec = route.body as BodySpec;
          const values = Object.fromEntries(paramNames(route.url).map((name) => [name, encodeBytes(fixtureParam(fixtures, route.url, name))]));
          const headers: Record<string, string> = {};
          const query = applyCredential(fixtures, route, validCredential(route), headers);
          setContentType(headers, contentType);
          if (idempotencyKey !== undefined && route.url.includes('messages')) headers['idempotency-key'] = idempotencyKey;
          // A body of an unsupported content type is never parsed, so its text may be valid JSON.
          const text = contentType.kind === 'json' ? mutatedBody(spec, mutation) : JSON.stringify(spec.valid);
          const payload = encodeBody(text, contentType.kind === 'json' ? encoding : 'utf8');
          // A request without a body and without a content type is a request with no body, which the device route accepts.
          if (contentType.kind === 'none' && payload.length === 0) return;
          await send({ method: route.method as FuzzRequest['method'], url: withQuery(fillPath(route.url, values), query), headers, payload, expect: 'reject' });
        }),
        { numRuns: 1200 },
      );
    });
  }, 60_000);

  it('rejects unknown, malformed and foreign path parameters', async () => {
    const withParams = routes.filter((route) => route.url.includes(':') && route.method !== 'OPTIONS' && route.method !== 'HEAD');
    const known = knownIds(fixtures);
    const paramValue: fc.Arbitrary<ParamValue> = fc.oneof(
      fc.string({ minLength: 1, maxLength: 40 }).filter((text) => !known.has(text)).map<ParamValue>((text) => ({ text })),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).filter((text) => !known.has(text)).map<ParamValue>((text) => ({ text })),
      fc.uint8Array({ minLength: 1, maxLength: 20 }).map<ParamValue>((bytes) => ({ bytes: [...bytes] })),
      fc.constantFrom<ParamValue>({ text: '.' }, { text: '..' }, { text: '\u0000' }, { text: '\uFEFF' }, { text: '\ud800' }, { text: ' ' }, { text: '%' }, { text: 'a/b' }, { text: '../../etc/passwd' }),
      fc.integer({ min: 1, max: 5000 }).map<ParamValue>((extra) => ({ text: 'p'.repeat(256 + extra) })),
    );
    const arbitrary = fc.constantFrom(...withParams).chain((route) =>
      fc.record({
        route: fc.constant(route),
        values: fc.array(paramValue, { minLength: 3, maxLength: 3 }),
        foreign: fc.boolean(),
      }),
    );

    await expectNothingWritten(async () => {
      await fc.assert(
        fc.asyncProperty(arbitrary, async ({ route, values, foreign }) => {
          const names = paramNames(route.url);
          const headers: Record<string, string> = {};
          const byName: Record<string, string> = {};
          let credential = validCredential(route);
          if (foreign && route.method !== 'PUT' && (route.auth === 'apiKey' || route.auth === 'appToken')) {
            // Space B's credentials against space A's records: each must look absent.
            credential = { kind: 'fixture', name: route.auth === 'apiKey' ? 'keyB' : 'appTokenB' };
            for (const name of names) byName[name] = encodeBytes(fixtureParam(fixtures, route.url, name));
          } else {
            names.forEach((name, i) => {
              const value = values[i] ?? { text: 'x' };
              // A PUT creates what it names, so only names that break the parameter's schema are invalid there.
              if (route.method !== 'PUT' || breaksParamSchema(name, value)) byName[name] = encodeParam(value);
              else if (name === 'profileId') byName[name] = 'p'.repeat(257);
              else byName[name] = encodeBytes('bad name');
            });
          }
          const query = applyCredential(fixtures, route, credential, headers);
          let payload: string | undefined;
          if (route.body !== undefined) {
            headers['content-type'] = 'application/json';
            payload = JSON.stringify(route.body.valid);
          }
          await send({ method: route.method as FuzzRequest['method'], url: withQuery(fillPath(route.url, byName), query), headers, ...(payload === undefined ? {} : { payload }), expect: 'reject' });
        }),
        { numRuns: 700 },
      );
    });
  }, 60_000);

  it('answers random reads without server errors', async () => {
    const reads = routes.filter((route) => route.method === 'GET' || route.method === 'HEAD' || route.method === 'OPTIONS');
    const arbitrary = fc.constantFrom(...reads).chain((route) =>
      fc.record({
        route: fc.constant(route),
        query: fc.array(queryPartArbitrary, { maxLength: 6 }),
        wildcard: fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('../../package.json', '..%2F..%2Fpackage.json', 'static/../../../etc/passwd', '%00', 'index.html')),
        credential: fc.oneof(fc.constant(validCredential(route)), badCredential(route)),
        extraHeaders: fc.dictionary(fc.constantFrom('accept', 'accept-encoding', 'origin', 'if-none-match', 'range', 'x-forwarded-for', 'cookie'), headerText(100), { maxKeys: 3 }),
      }),
    );

    await expectNothingWritten(async () => {
      await fc.assert(
        fc.asyncProperty(arbitrary, async ({ route, query, wildcard, credential, extraHeaders }) => {
          const values = Object.fromEntries(paramNames(route.url).map((name) => [name, encodeBytes(fixtureParam(fixtures, route.url, name))]));
          const path = fillPath(route.url, values).replace('*', wildcard.split('/').map((segment) => encodeBytes(segment)).join('/'));
          const headers: Record<string, string> = { ...extraHeaders };
          const credentialQuery = applyCredential(fixtures, route, credential, headers);
          const fullQuery = [credentialQuery, buildQuery(query)].filter((part) => part !== '').join('&');
          await send({ method: route.method as FuzzRequest['method'], url: withQuery(path, fullQuery), headers, expect: 'any' });
        }),
        { numRuns: 700 },
      );
    });
  }, 60_000);

  it('rejects methods and paths without a route', async () => {
    const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
    // Paths are compared as sent, so that a static path such as /v1/channels/sms also counts as
    // the parametric /v1/channels/:channel filled with the fixture channel.
    const concrete = (url: string) => fillPath(url, Object.fromEntries(paramNames(url).map((name) => [name, fixtureParam(fixtures, url, name)])));
    const arbitrary = fc.oneof(
      fc.record({ method: fc.constantFrom(...methods), route: fc.constantFrom(...routes) }).filter(({ method, route }) => {
        const path = concrete(route.url);
        return !routes.some((other) => other.method === method && concrete(other.url) === path) && !route.url.includes('*');
      }),
      fc.record({ method: fc.constantFrom(...methods), path: fc.array(fc.string({ maxLength: 20 }), { minLength: 1, maxLength: 6 }) }),
    );

    await expectNothingWritten(async () => {
      await fc.assert(
        fc.asyncProperty(arbitrary, async (recipe) => {
          const headers: Record<string, string> = { authorization: `Bearer ${TEST_API_KEY}` };
          const url =
            'route' in recipe
              ? fillPath(recipe.route.url, Object.fromEntries(paramNames(recipe.route.url).map((name) => [name, encodeBytes(fixtureParam(fixtures, recipe.route.url, name))])))
              : `/fuzz-${recipe.path.map((segment) => encodeBytes(segment)).join('/')}`;
          await send({ method: recipe.method, url, headers, expect: 'reject' });
        }),
        { numRuns: 200 },
      );
    });
  }, 60_000);

  it('rejects unsigned and forged Meta webhooks', async () => {
    const signature = fc.oneof(
      fc.constant<string | null>(null),
      fc.stringMatching(/^sha256=[0-9a-f]{64}$/),
      headerText(100),
      fc.constant('sha1=0123456789abcdef0123456789abcdef01234567'),
      fc.constant('wrong-secret'),
    );
    const arbitrary = fc.record({
      body: fc.oneof(fc.uint8Array({ maxLength: 2000 }).map((bytes) => Buffer.from(bytes)), fc.jsonValue({ maxDepth: 3 }).map((value) => Buffer.from(JSON.stringify(value) ?? 'null'))),
      signature,
      contentType: fc.oneof(fc.constant('application/json'), headerText(40)),
      verification: fc.array(queryPartArbitrary, { maxLength: 4 }),
    });

    await expectNothingWritten(async () => {
      await fc.assert(
        fc.asyncProperty(arbitrary, async ({ body, signature: header, contentType, verification }) => {
          const headers: Record<string, string> = { 'content-type': contentType };
          if (header === 'wrong-secret') headers['x-hub-signature-256'] = `sha256=${createHmac('sha256', 'not-the-app-secret').update(body).digest('hex')}`;
          else if (header !== null) headers['x-hub-signature-256'] = header;
          for (const path of ['/v1/providers/meta/webhook', `/v1/providers/meta/webhook/${fixtures.spaceB}`, '/v1/providers/meta/webhook/default']) {
            await send({ method: 'POST', url: path, headers, payload: body, expect: 'reject' });
            await send({ method: 'GET', url: withQuery(path, buildQuery(verification)), headers: {}, expect: 'reject' });
          }
        }),
        { numRuns: 150 },
      );
    });
  }, 60_000);

  it('rejects oversized and deeply nested requests', async () => {
    const auth = { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' };
    const cases: Array<{ name: string; request: FuzzRequest; status?: number }> = [
      { name: 'body over 1 MiB', status: 413, request: { method: 'POST', url: '/v1/messages', headers: auth, payload: JSON.stringify({ ...SEND_BODY.valid, body: 'x'.repeat(1024 * 1024) }), expect: 'reject' } },
      { name: 'batch over 10 MiB', status: 413, request: { method: 'POST', url: '/v1/messages/batch', headers: auth, payload: JSON.stringify({ messages: ['y'.repeat(10 * 1024 * 1024)] }), expect: 'reject' } },
      {
        name: 'Meta webhook over 3 MiB',
        status: 413,
        request: { method: 'POST', url: '/v1/providers/meta/webhook', headers: { 'content-type': 'application/json' }, payload: Buffer.alloc(3 * 1024 * 1024 + 1, 0x20), expect: 'reject' },
      },
      { name: 'batch of 5001 messages', status: 400, request: { method: 'POST', url: '/v1/messages/batch', headers: auth, payload: JSON.stringify({ messages: Array.from({ length: 5001 }, () => SEND_BODY.valid) }), expect: 'reject' } },
      { name: 'arrays nested 200,000 deep', request: { method: 'POST', url: '/v1/messages', headers: auth, payload: `${'['.repeat(200_000)}${']'.repeat(200_000)}`, expect: 'reject' } },
      { name: 'objects nested 50,000 deep', request: { method: 'PUT', url: '/v1/profiles/deep', headers: auth, payload: `${'{"properties":'.repeat(50_000)}{}${'}'.repeat(50_000)}`, expect: 'reject' } },
      {
        name: 'metadata nested 100,000 deep',
        request: { method: 'POST', url: '/v1/messages', headers: auth, payload: `{"body":"hi","to":{"phoneNumber":"+12025550101"},"metadata":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`, expect: 'reject' },
      },
      { name: 'path of 100,000 characters', request: { method: 'GET', url: `/v1/messages/${'m'.repeat(100_000)}`, headers: auth, expect: 'reject' } },
      { name: '10,000 query parameters', request: { method: 'GET', url: `/v1/messages?${Array.from({ length: 10_000 }, (_, i) => `p${i}=${i}`).join('&')}`, headers: auth, expect: 'reject' } },
      { name: 'Authorization header of 100,000 characters', request: { method: 'GET', url: '/v1/messages', headers: { authorization: `Bearer ${'a'.repeat(100_000)}` }, expect: 'reject' } },
      { name: 'Idempotency-Key of 10,000 characters', request: { method: 'POST', url: '/v1/messages', headers: { ...auth, 'idempotency-key': 'k'.repeat(10_000) }, payload: JSON.stringify(SEND_BODY.valid), expect: 'reject' } },
      { name: 'duplicate keys ending invalid', request: { method: 'POST', url: '/v1/messages', headers: auth, payload: '{"body":"hi","to":{"phoneNumber":"+12025550101"},"body":7}', expect: 'reject' } },
    ];

    await expectNothingWritten(async () => {
      for (const { name, request, status } of cases) {
        const response = await send(request);
        if (status !== undefined) expect(response.statusCode, name).toBe(status);
      }
    });
  }, 60_000);

  it('answers malformed HTTP with problem+json', async () => {
    const valid = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n';
    const fixed: Array<string | Buffer> = [
      'BLAH\r\n\r\n',
      'GET /healthz HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n',
      `${valid}Header without colon\r\n\r\n`,
      `${valid}Content-Length: abc\r\n\r\n`,
      `${valid}Content-Length: 1\r\nContent-Length: 2\r\n\r\nab`,
      `${valid}X-Long: ${'a'.repeat(20_000)}\r\n\r\n`,
      Buffer.concat([Buffer.from('GET /v1/'), Buffer.from([0xff, 0xfe, 0x00]), Buffer.from(' HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')]),
      `POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TEST_API_KEY}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
    ];
    for (const text of fixed) {
      const response = await sendRaw(server.port, text);
      expect(response.status, JSON.stringify(text.toString().slice(0, 80))).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(response.contentType).toMatch(/^application\/problem\+json/);
      expect((JSON.parse(response.body) as { status: number }).status).toBe(response.status);
    }

    // A header with random bytes may be valid (200) or not (400), and either way the response is a complete one.
    const header = fc.record({
      name: fc.uint8Array({ minLength: 1, maxLength: 20 }),
      value: fc.uint8Array({ maxLength: 60 }),
    });
    await fc.assert(
      fc.asyncProperty(header, async ({ name, value }) => {
        const request = Buffer.concat([Buffer.from(valid), Buffer.from(name), Buffer.from(': '), Buffer.from(value), Buffer.from('\r\nConnection: close\r\n\r\n')]);
        const response = await sendRaw(server.port, request);
        if (response.status >= 500 || response.status === 0) throw new Error(`HTTP ${response.status} for ${request.toString('latin1').slice(0, 200)}: ${response.body}`);
        if (response.status >= 400 && !response.contentType.startsWith('application/problem+json')) {
          throw new Error(`HTTP ${response.status} as ${response.contentType} for ${request.toString('latin1').slice(0, 200)}`);
        }
      }),
      { numRuns: 150 },
    );
  }, 60_000);

  it('logged no errors and still serves requests', async () => {
    const health = await server.api.inject({ method: 'GET', url: '/healthz' });
    const list = await server.api.inject({ method: 'GET', url: '/v1/messages', headers: { authorization: `Bearer ${TEST_API_KEY}` } });

    expect(health.statusCode).toBe(200);
    expect(list.statusCode).toBe(200);
    expect(errorLines).toEqual([]);
  });
});
