import { ECDH } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import type { PushSubscriptionInput } from './types.js';

export interface PushEndpointPolicy {
  /**
   * Origins (`http://127.0.0.1:4000`) whose endpoints are accepted over plain http and on
   * loopback or private addresses, such as the sandbox push service. Every other endpoint must
   * be an https URL on a public host.
   */
  trustedOrigins?: readonly string[];
}

/** Maximum length of an endpoint URL, in characters. Browser push services hand out URLs of a few hundred characters. */
export const MAX_PUSH_ENDPOINT_LENGTH = 2048;

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Address ranges an endpoint host may not be, because they reach this machine or a private network. */
const NON_PUBLIC_ADDRESSES = createNonPublicBlockList();

/**
 * Validates a push subscription as a browser's `PushSubscription.toJSON()` gives it: the
 * endpoint (see `validatePushEndpoint`), `keys.p256dh` as base64url of an uncompressed P-256
 * point (65 bytes) and `keys.auth` as base64url of the 16-byte authentication secret (RFC 8291).
 * Returns null when the subscription is valid, else a message that names the invalid field.
 */
export function validatePushSubscription(subscription: PushSubscriptionInput, policy: PushEndpointPolicy = {}): string | null {
  const endpointProblem = validatePushEndpoint(subscription.endpoint, policy);
  if (endpointProblem !== null) {
    return endpointProblem;
  }

  if (typeof subscription.keys !== 'object' || subscription.keys === null) {
    return 'keys is missing; expected { p256dh, auth }';
  }
  const { p256dh, auth } = subscription.keys;
  if (typeof p256dh !== 'string' || !BASE64URL.test(p256dh.replace(/=+$/, ''))) {
    return 'keys.p256dh must be base64url text';
  }
  const point = Buffer.from(p256dh, 'base64url');
  if (point.length !== 65 || point[0] !== 0x04) {
    return `keys.p256dh decodes to ${point.length} bytes; expected an uncompressed P-256 point of 65 bytes starting with 0x04`;
  }
  try {
    ECDH.convertKey(point, 'prime256v1');
  } catch {
    return 'keys.p256dh is not a point on the P-256 curve';
  }

  if (typeof auth !== 'string' || !BASE64URL.test(auth.replace(/=+$/, ''))) {
    return 'keys.auth must be base64url text';
  }
  const secret = Buffer.from(auth, 'base64url');
  if (secret.length !== 16) {
    return `keys.auth decodes to ${secret.length} bytes; expected the 16-byte authentication secret`;
  }
  return null;
}

/**
 * Validates a push endpoint URL: an absolute https URL without credentials or fragment, at most
 * `MAX_PUSH_ENDPOINT_LENGTH` characters, whose host is neither `localhost`, a single-label name
 * nor an IP address in a loopback, private, link-local, shared or reserved range. Endpoints of a
 * trusted origin skip the scheme and host checks. Returns null when valid, else a message.
 *
 * NOTE: a public host name that resolves to a private address passes, because the check does no
 * DNS lookup.
 */
export function validatePushEndpoint(endpoint: string, policy: PushEndpointPolicy = {}): string | null {
  if (typeof endpoint !== 'string' || endpoint === '') {
    return 'endpoint is missing';
  }
  if (endpoint.length > MAX_PUSH_ENDPOINT_LENGTH) {
    return `endpoint is ${endpoint.length} characters long; the maximum is ${MAX_PUSH_ENDPOINT_LENGTH}`;
  }
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'endpoint is not an absolute URL';
  }
  if (url.username !== '' || url.password !== '' || url.hash !== '') {
    return 'endpoint must not contain credentials or a fragment';
  }
  if (policy.trustedOrigins?.includes(url.origin) === true) {
    return null;
  }
  if (url.protocol !== 'https:') {
    return `endpoint must be an https URL; the origin ${url.origin} is not trusted for plain http`;
  }

  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const family = isIP(host);
  if (family !== 0) {
    if (NON_PUBLIC_ADDRESSES.check(host, family === 6 ? 'ipv6' : 'ipv4')) {
      return `endpoint host ${url.hostname} is not a public address`;
    }
    return null;
  }
  const name = host.replace(/\.$/, '').toLowerCase();
  if (name === 'localhost' || name.endsWith('.localhost') || !name.includes('.')) {
    return `endpoint host ${url.hostname} is not a public host name`;
  }
  return null;
}

/** Returns the origin of an endpoint for logs, because the path of an endpoint is a capability. */
export function endpointOrigin(endpoint: string): string {
  try {
    return new URL(endpoint).origin;
  } catch {
    return '(invalid URL)';
  }
}

function createNonPublicBlockList(): BlockList {
  const list = new BlockList();
  const ipv4: Array<[string, number]> = [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['224.0.0.0', 4],
    ['240.0.0.0', 4],
  ];
  for (const [network, prefix] of ipv4) {
    list.addSubnet(network, prefix, 'ipv4');
  }
  const ipv6: Array<[string, number]> = [
    ['::', 128],
    ['::1', 128],
    ['fc00::', 7],
    ['fe80::', 10],
    ['ff00::', 8],
  ];
  for (const [network, prefix] of ipv6) {
    list.addSubnet(network, prefix, 'ipv6');
  }
  return list;
}
