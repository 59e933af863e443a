import { createHmac, randomBytes } from 'node:crypto';

/**
 * Signing by the Standard Webhooks scheme (version 1.0.0 of the specification): the signature
 * is HMAC-SHA256, keyed with the decoded secret, over `<webhook-id>.<webhook-timestamp>.<body>`,
 * sent base64-encoded as `v1,<signature>` in the `webhook-signature` header.
 */

const SECRET_PREFIX = 'whsec_';
/** 32 random bytes; the specification requires 24 to 64. */
const SECRET_BYTES = 32;

/** Generate an endpoint secret: `whsec_` and the base64 of 32 random bytes. */
export function generateSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}

/** Sign one try of a delivery; `timestampSeconds` is the `webhook-timestamp` header value. */
export function signPayload(secret: string, webhookId: string, timestampSeconds: number, body: string): string {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error(`A webhook secret must start with ${SECRET_PREFIX}.`);
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  const signature = createHmac('sha256', key).update(`${webhookId}.${timestampSeconds}.${body}`, 'utf8').digest('base64');
  return `v1,${signature}`;
}
