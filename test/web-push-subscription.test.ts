import { createECDH, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { endpointOrigin, validatePushEndpoint, validatePushSubscription } from '../src/channels/app/push-subscription.js';

function keys(): { p256dh: string; auth: string } {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') };
}

describe('validatePushEndpoint', () => {
  it('accepts public https endpoints', () => {
    expect(validatePushEndpoint('https://fcm.googleapis.com/fcm/send/abc:def')).toBeNull();
    expect(validatePushEndpoint('https://updates.push.services.mozilla.com/wpush/v2/gAAAA')).toBeNull();
    expect(validatePushEndpoint('https://93.184.215.14/push/1')).toBeNull();
  });

  it('rejects endpoints that are not public https URLs', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /missing/],
      ['/push/1', /not an absolute URL/],
      ['http://push.example.com/push/1', /must be an https URL/],
      ['https://user:secret@push.example.com/push/1', /credentials/],
      ['https://push.example.com/push/1#fragment', /fragment/],
      ['https://localhost/push/1', /not a public host name/],
      ['https://api.localhost/push/1', /not a public host name/],
      ['https://metadata/push/1', /not a public host name/],
      ['https://127.0.0.1/push/1', /not a public address/],
      ['https://10.1.2.3/push/1', /not a public address/],
      ['https://172.20.0.1/push/1', /not a public address/],
      ['https://192.168.1.1/push/1', /not a public address/],
      ['https://169.254.169.254/latest', /not a public address/],
      ['https://100.64.0.1/push/1', /not a public address/],
      ['https://0x7f.1/push/1', /not a public address/],
      ['https://[::1]/push/1', /not a public address/],
      ['https://[::ffff:127.0.0.1]/push/1', /not a public address/],
      ['https://[fd00::1]/push/1', /not a public address/],
      ['https://[fe80::1]/push/1', /not a public address/],
      [`https://push.example.com/${'a'.repeat(2048)}`, /maximum is 2048/],
    ];

    for (const [endpoint, error] of cases) {
      expect(validatePushEndpoint(endpoint), endpoint).toMatch(error);
    }
  });

  it('accepts any endpoint of a trusted origin', () => {
    const policy = { trustedOrigins: ['http://127.0.0.1:4010'] };

    expect(validatePushEndpoint('http://127.0.0.1:4010/push/abc', policy)).toBeNull();
    expect(validatePushEndpoint('http://127.0.0.1:4011/push/abc', policy)).toMatch(/https/);
  });
});

describe('validatePushSubscription', () => {
  const endpoint = 'https://push.example.com/push/1';

  it('accepts a browser subscription', () => {
    expect(validatePushSubscription({ endpoint, keys: keys() })).toBeNull();
  });

  it('rejects invalid keys', () => {
    const valid = keys();
    const offCurve = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString('base64url');
    const cases: Array<[{ p256dh: string; auth: string }, RegExp]> = [
      [{ ...valid, p256dh: 'not base64!' }, /keys.p256dh must be base64url/],
      [{ ...valid, p256dh: valid.p256dh.slice(0, 40) }, /keys.p256dh decodes to 30 bytes/],
      [{ ...valid, p256dh: offCurve }, /not a point on the P-256 curve/],
      [{ ...valid, auth: randomBytes(8).toString('base64url') }, /keys.auth decodes to 8 bytes/],
      [{ ...valid, auth: '' }, /keys.auth must be base64url/],
    ];

    for (const [candidate, error] of cases) {
      expect(validatePushSubscription({ endpoint, keys: candidate })).toMatch(error);
    }
  });

  it('rejects an invalid endpoint before the keys', () => {
    expect(validatePushSubscription({ endpoint: 'http://push.example.com/1', keys: keys() })).toMatch(/https/);
  });
});

describe('endpointOrigin', () => {
  it('returns the origin without the capability path', () => {
    expect(endpointOrigin('https://fcm.googleapis.com/fcm/send/secret-token')).toBe('https://fcm.googleapis.com');
    expect(endpointOrigin('not a url')).toBe('(invalid URL)');
  });
});
