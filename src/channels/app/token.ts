import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * App tokens: short-lived credentials that let one app user of one space open the app socket
 * and use the app inbox, without the space's API key. A token is
 * `cat1.<base64url(JSON claims)>.<base64url(HMAC-SHA256)>`, where the HMAC covers
 * `cat1.<base64url(JSON claims)>` and is keyed with the server's app token secret.
 *
 * Anyone with the token can read the claims, so they contain ids only.
 */

export const APP_TOKEN_PREFIX = 'cat1';

/** Claims of an app token: one app user of one profile in one space, until `exp`. */
export interface AppTokenClaims {
  spaceId: string;
  profileId: string;
  appUserId: string;
  /** Issued at, in seconds since the Unix epoch. */
  iat: number;
  /** Expires at, in seconds since the Unix epoch. The token is valid while `now < exp`. */
  exp: number;
  /** Random token id. */
  jti: string;
}

export type AppTokenRejection = 'malformed' | 'bad-signature' | 'expired';

export type AppTokenVerification = { ok: true; claims: AppTokenClaims } | { ok: false; reason: AppTokenRejection };

/** Maximum token length. Longer input is rejected before any decoding or hashing. */
export const MAX_APP_TOKEN_LENGTH = 2048;
/** Maximum length of an id in the claims, the same limit as profile ids and addresses in the API. */
const MAX_CLAIM_ID_LENGTH = 256;
const SIGNATURE_BYTES = 32;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Builds the claims of a new token for `lifetimeSeconds` from `now` (epoch ms), with a random `jti`. */
export function newAppTokenClaims(
  subject: { spaceId: string; profileId: string; appUserId: string },
  now: number,
  lifetimeSeconds: number,
): AppTokenClaims {
  const iat = Math.floor(now / 1000);
  return { ...subject, iat, exp: iat + lifetimeSeconds, jti: randomBytes(12).toString('base64url') };
}

/**
 * Signs `claims` with `secret`.
 *
 * @example
 * const token = issueAppToken(newAppTokenClaims({ spaceId: 'default', profileId: 'cust-1042', appUserId: 'cust-1042' }, Date.now(), 3600), secret);
 */
export function issueAppToken(claims: AppTokenClaims, secret: string): string {
  const payload = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
  const signed = `${APP_TOKEN_PREFIX}.${payload}`;
  return `${signed}.${sign(signed, secret).toString('base64url')}`;
}

/**
 * Checks a token's form, signature (compared in constant time) and expiry at `now` (epoch ms).
 * The signature is checked before the claims are parsed, so unsigned input is never parsed.
 */
export function verifyAppToken(token: string, secret: string, now: number): AppTokenVerification {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_APP_TOKEN_LENGTH) return rejected('malformed');
  const parts = token.split('.');
  if (parts.length !== 3) return rejected('malformed');
  const [prefix, payload, signature] = parts as [string, string, string];
  if (prefix !== APP_TOKEN_PREFIX || !BASE64URL.test(payload) || !BASE64URL.test(signature)) return rejected('malformed');

  const presented = Buffer.from(signature, 'base64url');
  const expected = sign(`${prefix}.${payload}`, secret);
  // timingSafeEqual needs equal lengths, and a signature of another length cannot match anyway.
  if (presented.length !== SIGNATURE_BYTES || !timingSafeEqual(presented, expected)) return rejected('bad-signature');

  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return rejected('malformed');
  }
  const claims = readClaims(decoded);
  if (claims === null) return rejected('malformed');
  if (now >= claims.exp * 1000) return rejected('expired');
  return { ok: true, claims };
}

function sign(signed: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(signed, 'utf8').digest();
}

function rejected(reason: AppTokenRejection): AppTokenVerification {
  return { ok: false, reason };
}

function readClaims(value: unknown): AppTokenClaims | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const record = value as Record<string, unknown>;
  const { spaceId, profileId, appUserId, iat, exp, jti } = record;
  if (!isId(spaceId) || !isId(profileId) || !isId(appUserId) || !isId(jti)) return null;
  if (!isSeconds(iat) || !isSeconds(exp) || exp <= iat) return null;
  return { spaceId, profileId, appUserId, iat, exp, jti };
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_CLAIM_ID_LENGTH;
}

function isSeconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
