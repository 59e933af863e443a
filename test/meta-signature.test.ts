import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signMetaPayload, verifyMetaSignature } from '../src/channels/meta/signature.js';

const SECRET = 'test-app-secret';
const BODY = Buffer.from('{"object":"page","entry":[]}', 'utf8');

describe('signMetaPayload', () => {
  it('matches a published HMAC-SHA256 test vector', () => {
    // The widely published example: key "key", message "The quick brown fox jumps over the lazy dog".
    const header = signMetaPayload(Buffer.from('The quick brown fox jumps over the lazy dog'), 'key');

    expect(header).toBe('sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8');
  });

  it('rejects an empty app secret', () => {
    expect(() => signMetaPayload(BODY, '')).toThrow(RangeError);
  });
});

describe('verifyMetaSignature', () => {
  it('accepts its own signature', () => {
    expect(verifyMetaSignature(BODY, signMetaPayload(BODY, SECRET), SECRET)).toBe(true);
  });

  it('accepts an upper-case prefix and hex digits', () => {
    const hex = signMetaPayload(BODY, SECRET).slice('sha256='.length);

    expect(verifyMetaSignature(BODY, `SHA256=${hex.toUpperCase()}`, SECRET)).toBe(true);
    expect(verifyMetaSignature(BODY, `Sha256=${hex}`, SECRET)).toBe(true);
  });

  it('ignores whitespace around the header value', () => {
    expect(verifyMetaSignature(BODY, `  ${signMetaPayload(BODY, SECRET)} `, SECRET)).toBe(true);
  });

  it('rejects a changed body', () => {
    const header = signMetaPayload(BODY, SECRET);
    const changed = Buffer.from('{"object":"page","entry":[{}]}', 'utf8');

    expect(verifyMetaSignature(changed, header, SECRET)).toBe(false);
  });

  it('rejects a re-serialised body', () => {
    const spaced = Buffer.from('{ "object": "page", "entry": [] }', 'utf8');

    expect(verifyMetaSignature(spaced, signMetaPayload(BODY, SECRET), SECRET)).toBe(false);
  });

  it('rejects another app secret', () => {
    expect(verifyMetaSignature(BODY, signMetaPayload(BODY, SECRET), 'other-secret')).toBe(false);
  });

  it('rejects an empty app secret', () => {
    const headerForEmptyKey = `sha256=${'0'.repeat(64)}`;

    expect(verifyMetaSignature(BODY, headerForEmptyKey, '')).toBe(false);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['prefix only', 'sha256='],
    ['no prefix', 'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8'],
    ['SHA-1 header', 'sha1=f7bc83f430538424b13298e6aa6fb143ef4d59a1'],
    ['63 hex digits', `sha256=${'a'.repeat(63)}`],
    ['65 hex digits', `sha256=${'a'.repeat(65)}`],
    ['non-hex digits', `sha256=${'g'.repeat(64)}`],
    ['two values joined', `sha256=${'a'.repeat(64)}, sha256=${'b'.repeat(64)}`],
  ])('rejects a %s header', (_case, header) => {
    expect(verifyMetaSignature(BODY, header, SECRET)).toBe(false);
  });

  it('rejects a valid digest with a tampered byte', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 256 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.nat(63),
        (bytes, secret, position) => {
          const body = Buffer.from(bytes);
          const header = signMetaPayload(body, secret);
          expect(verifyMetaSignature(body, header, secret)).toBe(true);

          const hex = header.slice('sha256='.length);
          const flipped = hex[position] === '0' ? '1' : '0';
          const tampered = `sha256=${hex.slice(0, position)}${flipped}${hex.slice(position + 1)}`;
          expect(verifyMetaSignature(body, tampered, secret)).toBe(false);
        },
      ),
    );
  });
});
