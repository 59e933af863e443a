import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/** The parameters of an `Authorization: vapid t=<JWT>, k=<public key>` header (RFC 8292 section 3). */
export interface VapidCredentials {
  /** The signed JWT. */
  t: string;
  /** The application server's public key: an uncompressed P-256 point, base64url. */
  k: string;
}

/** The JWT claims a push service checks (RFC 8292 section 2). */
export interface VapidClaims {
  aud: string;
  /** Expiry, in seconds since the epoch. */
  exp: number;
  sub: string;
}

export type VapidVerification = { ok: true; claims: VapidClaims } | { ok: false; error: string };

/** Maximum JWT validity in seconds: RFC 8292 section 2 allows `exp` at most 24 hours after the request. */
const MAX_VALIDITY_SECONDS = 24 * 60 * 60;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const AUTH_PARAM = /^\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)\s*$/;

/**
 * Parses an `Authorization` header of the `vapid` scheme. Returns null when the header is absent
 * or uses another scheme, and `'malformed'` when the scheme is `vapid` but `t` or `k` is missing.
 * Parameter values may be tokens or quoted strings (RFC 9110 section 11.2).
 */
export function parseVapidAuthorization(header: string | undefined): VapidCredentials | 'malformed' | null {
  if (header === undefined) {
    return null;
  }
  const match = /^\s*vapid(?:\s+(.*))?$/is.exec(header);
  if (match === null) {
    return null;
  }
  const params = new Map<string, string>();
  for (const part of (match[1] ?? '').split(',')) {
    if (part.trim() === '') {
      continue;
    }
    const param = AUTH_PARAM.exec(part);
    if (param === null) {
      return 'malformed';
    }
    const name = (param[1] ?? '').toLowerCase();
    const raw = param[2] ?? '';
    const value = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
    params.set(name, value);
  }
  const t = params.get('t');
  const k = params.get('k');
  if (t === undefined || t === '' || k === undefined || k === '') {
    return 'malformed';
  }
  return { t, k };
}

/**
 * Verifies a VAPID JWT as a push service does. The JWT needs an ES256 signature made with the
 * key `k` and `aud` equal to `audience`, the push service's origin. Its `exp` must be after
 * `nowSeconds` and at most 24 hours after it, and `sub` must be a `mailto:` or `https:` URL.
 */
export function verifyVapid(credentials: VapidCredentials, audience: string, nowSeconds: number): VapidVerification {
  const key = importPublicKey(credentials.k);
  if (key === null) {
    return { ok: false, error: 'k is not an uncompressed P-256 public key in base64url' };
  }

  const parts = credentials.t.split('.');
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) {
    return { ok: false, error: 't is not a JWS compact serialization of three base64url parts' };
  }
  const [encodedHeader, encodedClaims, encodedSignature] = parts as [string, string, string];
  const header = parseJsonObject(encodedHeader);
  if (header === null) {
    return { ok: false, error: 'the JWT header is not a JSON object' };
  }
  if (header['alg'] !== 'ES256') {
    return { ok: false, error: `the JWT alg is ${JSON.stringify(header['alg'])}; VAPID requires ES256` };
  }

  const signature = Buffer.from(encodedSignature, 'base64url');
  if (signature.length !== 64) {
    return { ok: false, error: `the JWT signature is ${signature.length} bytes; ES256 signatures are 64 bytes (r and s)` };
  }
  const signed = Buffer.from(`${encodedHeader}.${encodedClaims}`, 'ascii');
  if (!verify('sha256', signed, { key, dsaEncoding: 'ieee-p1363' }, signature)) {
    return { ok: false, error: 'the JWT signature does not verify with the key k' };
  }

  const claims = parseJsonObject(encodedClaims);
  if (claims === null) {
    return { ok: false, error: 'the JWT claims are not a JSON object' };
  }
  const { aud, exp, sub } = claims;
  if (aud !== audience) {
    return { ok: false, error: `the JWT aud is ${JSON.stringify(aud)}; expected the push service origin ${audience}` };
  }
  if (typeof exp !== 'number' || !Number.isInteger(exp)) {
    return { ok: false, error: 'the JWT exp is missing or not an integer' };
  }
  if (exp <= nowSeconds) {
    return { ok: false, error: 'the JWT has expired' };
  }
  if (exp > nowSeconds + MAX_VALIDITY_SECONDS) {
    return { ok: false, error: 'the JWT exp is more than 24 hours in the future' };
  }
  if (typeof sub !== 'string' || !/^(mailto:|https:)/i.test(sub)) {
    return { ok: false, error: 'the JWT sub is missing or not a mailto: or https: URL' };
  }
  return { ok: true, claims: { aud, exp, sub } };
}

/** Imports an uncompressed P-256 point given in base64url; null when it is not one. */
function importPublicKey(encoded: string): KeyObject | null {
  if (!BASE64URL.test(encoded)) {
    return null;
  }
  const point = Buffer.from(encoded, 'base64url');
  if (point.length !== 65 || point[0] !== 0x04) {
    return null;
  }
  try {
    return createPublicKey({
      format: 'jwk',
      key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') },
    });
  } catch {
    return null;
  }
}

function parseJsonObject(encoded: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
