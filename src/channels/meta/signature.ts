/**
 * The `X-Hub-Signature-256` header that Meta sends with every webhook POST (WhatsApp Cloud API
 * and Messenger alike): `sha256=` followed by the hex HMAC-SHA256 of the raw request body, keyed
 * with the app secret.
 */

import { createHmac, timingSafeEqual } from 'node:crypto';

const PREFIX = 'sha256=';

/** 32 bytes of SHA-256 output are 64 hex digits. */
const HEX_DIGEST = /^[0-9a-f]{64}$/i;

function hmacSha256(rawBody: Buffer, appSecret: string): Buffer {
  return createHmac('sha256', appSecret).update(rawBody).digest();
}

/**
 * Checks `header` against the HMAC-SHA256 of `rawBody` keyed with `appSecret`.
 *
 * `rawBody` must be the bytes as received: re-serialised JSON does not match. The prefix is
 * matched case-insensitively and the hex digits in either case. Returns false, and never throws,
 * for a missing or malformed header, a digest of the wrong length and an empty `appSecret`
 * (because anyone can compute an HMAC with an empty key).
 *
 * @example
 * if (!verifyMetaSignature(request.rawBody, request.headers['x-hub-signature-256'], secret)) reply.code(401);
 */
export function verifyMetaSignature(rawBody: Buffer, header: string | undefined, appSecret: string): boolean {
  if (header === undefined || appSecret.length === 0) {
    return false;
  }
  const value = header.trim();
  if (value.slice(0, PREFIX.length).toLowerCase() !== PREFIX) {
    return false;
  }
  const hex = value.slice(PREFIX.length);
  if (!HEX_DIGEST.test(hex)) {
    return false;
  }

  const received = Buffer.from(hex, 'hex');
  const expected = hmacSha256(rawBody, appSecret);
  // Both are 32 bytes here; the check keeps timingSafeEqual from throwing if that ever changes.
  if (received.length !== expected.length) {
    return false;
  }
  return timingSafeEqual(received, expected);
}

/**
 * Computes the `X-Hub-Signature-256` value for `rawBody`, as Meta would send it: `sha256=` and
 * 64 lower-case hex digits. The sandbox and tests sign their webhook calls with it.
 *
 * @throws {RangeError} when `appSecret` is empty, because `verifyMetaSignature` rejects such signatures.
 */
export function signMetaPayload(rawBody: Buffer, appSecret: string): string {
  if (appSecret.length === 0) {
    throw new RangeError('Cannot sign a Meta webhook payload with an empty app secret. Set the app secret first.');
  }
  return `${PREFIX}${hmacSha256(rawBody, appSecret).toString('hex')}`;
}
