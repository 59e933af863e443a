import type { IncomingHttpHeaders } from 'node:http';

/** The RFC 8030 headers of a push request, as sent. Each is null when absent. */
export interface PushHeaders {
  ttl: string | null;
  urgency: string | null;
  topic: string | null;
  contentEncoding: string | null;
}

const URGENCIES = new Set(['very-low', 'low', 'normal', 'high']);
const TOPIC = /^[A-Za-z0-9_-]{1,32}$/;
/** salt (16) + record size (4) + key id length (1) + key id (65, the sender's ECDH public key). */
const AES128GCM_HEADER_BYTES = 86;
/** The padding delimiter (1) + the AES-GCM tag (16). */
const MIN_RECORD_OVERHEAD = 17;

export function readPushHeaders(headers: IncomingHttpHeaders): PushHeaders {
  return {
    ttl: single(headers['ttl']),
    urgency: single(headers['urgency']),
    topic: single(headers['topic']),
    contentEncoding: single(headers['content-encoding']),
  };
}

/**
 * Checks the RFC 8030 headers and, for a non-empty body, the aes128gcm content coding of RFC
 * 8188 as RFC 8291 restricts it: one record and a 65-byte key id. Returns null when the request
 * is acceptable, else the status and reason to reject it with.
 */
export function checkPushRequest(headers: PushHeaders, body: Buffer): { status: 400 | 415; error: string } | null {
  if (headers.ttl === null) {
    return { status: 400, error: 'the TTL header is missing' };
  }
  if (!/^[0-9]{1,10}$/.test(headers.ttl.trim())) {
    return { status: 400, error: 'the TTL header must be a non-negative integer of seconds' };
  }
  if (headers.urgency !== null && !URGENCIES.has(headers.urgency.trim())) {
    return { status: 400, error: 'the Urgency header must be very-low, low, normal or high' };
  }
  if (headers.topic !== null && !TOPIC.test(headers.topic.trim())) {
    return { status: 400, error: 'the Topic header must be 1 to 32 base64url characters' };
  }
  if (body.length === 0) {
    return null;
  }
  if (headers.contentEncoding?.trim().toLowerCase() !== 'aes128gcm') {
    return { status: 415, error: 'a push with a body must use Content-Encoding: aes128gcm' };
  }
  return checkAes128gcmHeader(body);
}

function checkAes128gcmHeader(body: Buffer): { status: 400; error: string } | null {
  if (body.length < AES128GCM_HEADER_BYTES + MIN_RECORD_OVERHEAD) {
    return { status: 400, error: `the aes128gcm body is ${body.length} bytes; it needs at least ${AES128GCM_HEADER_BYTES + MIN_RECORD_OVERHEAD}` };
  }
  const recordSize = body.readUInt32BE(16);
  const keyIdLength = body.readUInt8(20);
  if (keyIdLength !== 65 || body[21] !== 0x04) {
    return { status: 400, error: 'the aes128gcm key id must be the 65-byte uncompressed ECDH public key of the sender' };
  }
  const ciphertextBytes = body.length - AES128GCM_HEADER_BYTES;
  // A push is one record, and RFC 8291 requires a record size larger than that record.
  if (recordSize <= ciphertextBytes) {
    return { status: 400, error: `the aes128gcm record size ${recordSize} must be larger than the ${ciphertextBytes} bytes of ciphertext, because a push is one record` };
  }
  return null;
}

function single(value: string | string[] | undefined): string | null {
  if (value === undefined) {
    return null;
  }
  return Array.isArray(value) ? (value[0] ?? null) : value;
}
