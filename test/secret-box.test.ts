import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { derivedKeyId, parseEncryptionKey, SecretBox, SecretBoxError, type EncryptionKey } from '../src/secret-box.js';

const CONTEXT = 'channel-settings:default:sms';

function key(id: string, fill?: number): EncryptionKey {
  return { id, key: fill === undefined ? randomBytes(32) : Buffer.alloc(32, fill) };
}

/** Part indexes of a sealed value `v1.<key id>.<iv>.<tag>.<ciphertext>`. */
const PART = { iv: 2, tag: 3, ciphertext: 4 } as const;

/** Inverts the first byte of one base64url part of a sealed value. */
function withFlippedByte(sealed: string, part: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[part] ?? '', 'base64url');
  bytes[0] = (bytes[0] ?? 0) ^ 0xff;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
}

function caught(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the action to throw');
}

describe('SecretBox', () => {
  it('seal and open round trip', () => {
    const box = new SecretBox([key('k1')]);

    const sealed = box.seal('relay-password', CONTEXT);

    expect(box.open(sealed, CONTEXT)).toBe('relay-password');
  });

  it('sealed value names the current key', () => {
    const box = new SecretBox([key('current'), key('older')]);

    const sealed = box.seal('relay-password', CONTEXT);

    expect(sealed.split('.')).toHaveLength(5);
    expect(sealed.startsWith('v1.current.')).toBe(true);
    expect(SecretBox.keyIdOf(sealed)).toBe('current');
    expect(box.keyId).toBe('current');
  });

  it('sealed value does not contain the plaintext', () => {
    const box = new SecretBox([key('k1')]);
    const plaintext = 'EAAG-access-token-that-must-stay-hidden';

    const sealed = box.seal(plaintext, CONTEXT);

    expect(sealed).not.toContain(plaintext);
    expect(sealed).not.toContain(Buffer.from(plaintext).toString('base64url'));
    expect(sealed).not.toContain(Buffer.from(plaintext).toString('base64'));
  });

  it('open with another context fails', () => {
    const box = new SecretBox([key('k1')]);
    const sealed = box.seal('relay-password', 'channel-settings:space-a:email');

    expect(() => box.open(sealed, 'channel-settings:space-b:email')).toThrow(SecretBoxError);
    expect(() => box.open(sealed, '')).toThrow(SecretBoxError);
  });

  it.each(Object.entries(PART))('changed byte in the %s fails', (_name, part) => {
    const box = new SecretBox([key('k1')]);
    const sealed = box.seal('relay-password', CONTEXT);
    const tampered = withFlippedByte(sealed, part);

    expect(tampered).not.toBe(sealed);
    expect(() => box.open(tampered, CONTEXT)).toThrow(SecretBoxError);
  });

  it('malformed values fail with SecretBoxError', () => {
    const box = new SecretBox([key('k1')]);
    const sealed = box.seal('relay-password', CONTEXT);
    const parts = sealed.split('.');

    expect(() => box.open('relay-password', CONTEXT)).toThrow(SecretBoxError);
    expect(() => box.open(['v2', ...parts.slice(1)].join('.'), CONTEXT)).toThrow(SecretBoxError);
    expect(() => box.open([...parts.slice(0, 2), 'AAAA', ...parts.slice(3)].join('.'), CONTEXT)).toThrow('malformed iv or tag');
    expect(() => box.open([...parts.slice(0, 3), 'AAAA', parts[4]].join('.'), CONTEXT)).toThrow('malformed iv or tag');
  });

  it('opens values under a listed old key', () => {
    const old = key('2024');
    const sealedBefore = new SecretBox([old]).seal('relay-password', CONTEXT);

    const rotated = new SecretBox([key('2025'), old]);

    expect(rotated.hasKey('2024')).toBe(true);
    expect(rotated.open(sealedBefore, CONTEXT)).toBe('relay-password');
    expect(SecretBox.keyIdOf(rotated.seal('relay-password', CONTEXT))).toBe('2025');
  });

  it('names a missing old key id', () => {
    const sealedBefore = new SecretBox([key('2024')]).seal('relay-password', CONTEXT);
    const rotated = new SecretBox([key('2025')]);

    const error = caught(() => rotated.open(sealedBefore, CONTEXT));

    expect(rotated.hasKey('2024')).toBe(false);
    expect(error).toBeInstanceOf(SecretBoxError);
    expect((error as Error).message).toContain('"2024"');
    expect((error as Error).message).toContain('ENCRYPTION_OLD_KEYS');
  });

  it('rejects an old id with other key material', () => {
    const sealedBefore = new SecretBox([key('2024', 1)]).seal('relay-password', CONTEXT);
    const wrong = new SecretBox([key('2025'), key('2024', 2)]);

    expect(() => wrong.open(sealedBefore, CONTEXT)).toThrow(SecretBoxError);
  });

  it('rejects duplicate key ids', () => {
    expect(() => new SecretBox([key('same'), key('other'), key('same')])).toThrow(SecretBoxError);
    expect(() => new SecretBox([key('same'), key('same')])).toThrow('key id same appears twice');
  });

  it.each([0, 16, 31, 33, 64])('rejects a %i-byte key', (length) => {
    expect(() => new SecretBox([{ id: 'short', key: randomBytes(length) }])).toThrow(SecretBoxError);
    expect(() => new SecretBox([key('current'), { id: 'old', key: randomBytes(length) }])).toThrow(SecretBoxError);
  });

  it('rejects an empty key list', () => {
    expect(() => new SecretBox([])).toThrow(SecretBoxError);
  });

  it('keyIdOf of unsealed values is null', () => {
    expect(SecretBox.keyIdOf('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toBeNull();
    expect(SecretBox.keyIdOf('v2.k1.a.b.c')).toBeNull();
    expect(SecretBox.keyIdOf('v1.k1.a.b')).toBeNull();
    expect(SecretBox.keyIdOf('v1.k1.a.b.c')).toBe('k1');
  });

  it('round trips any string and context', () => {
    const box = new SecretBox([key('k1')]);

    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (plaintext, context) => {
        expect(box.open(box.seal(plaintext, context), context)).toBe(plaintext);
      }),
    );
  });

  it('two seals of the same plaintext differ', () => {
    const box = new SecretBox([key('k1')]);

    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string(), (plaintext, context) => {
        const first = box.seal(plaintext, context);
        const second = box.seal(plaintext, context);

        expect(first).not.toBe(second);
        expect(first.split('.')[PART.iv]).not.toBe(second.split('.')[PART.iv]);
      }),
    );
  });
});

describe('parseEncryptionKey', () => {
  const material = Buffer.from(Array.from({ length: 32 }, (_, index) => (index * 37 + 250) % 256));
  const standard = material.toString('base64');
  const urlSafe = material.toString('base64url');

  it('accepts id:base64', () => {
    const parsed = parseEncryptionKey(`2025-01:${standard}`, 'ENCRYPTION_KEY');

    expect(parsed.id).toBe('2025-01');
    expect(parsed.key.equals(material)).toBe(true);
  });

  it('accepts plain base64 with a derived id', () => {
    const parsed = parseEncryptionKey(standard, 'ENCRYPTION_KEY');

    expect(parsed.key.equals(material)).toBe(true);
    expect(parsed.id).toBe(derivedKeyId(material));
    expect(parsed.id).toMatch(/^[0-9a-f]{8}$/);
  });

  it('accepts base64url', () => {
    expect(standard).toMatch(/[+/]/);
    expect(urlSafe).toMatch(/[-_]/);

    const parsed = parseEncryptionKey(`k_1:${urlSafe}`, 'ENCRYPTION_KEY');

    expect(parsed.id).toBe('k_1');
    expect(parsed.key.equals(material)).toBe(true);
    expect(parseEncryptionKey(urlSafe, 'ENCRYPTION_KEY').id).toBe(derivedKeyId(material));
  });

  it('derives different ids for different keys', () => {
    expect(derivedKeyId(Buffer.alloc(32, 1))).not.toBe(derivedKeyId(Buffer.alloc(32, 2)));
    expect(derivedKeyId(material)).toBe(derivedKeyId(Buffer.from(material)));
  });

  it('rejects a 31-byte key without quoting it', () => {
    const short = material.subarray(0, 31).toString('base64');

    const error = caught(() => parseEncryptionKey(`k1:${short}`, 'ENCRYPTION_KEY'));

    expect(error).toBeInstanceOf(SecretBoxError);
    const message = (error as Error).message;
    expect(message).toContain('ENCRYPTION_KEY');
    expect(message).toContain('31');
    expect(message).not.toContain(short);
    expect(message).not.toContain(short.slice(0, 8));
  });

  it.each([
    ['an empty id', ''],
    ['a space in the id', 'key one'],
    ['a dot in the id', 'key.one'],
    ['a 33-character id', 'k'.repeat(33)],
  ])('rejects %s without quoting the key', (_case, id) => {
    const error = caught(() => parseEncryptionKey(`${id}:${standard}`, 'ENCRYPTION_OLD_KEYS item 2'));

    expect(error).toBeInstanceOf(SecretBoxError);
    const message = (error as Error).message;
    expect(message).toContain('ENCRYPTION_OLD_KEYS item 2');
    expect(message).not.toContain(standard);
    expect(message).not.toContain(standard.slice(0, 8));
  });

  it('accepts a 32-character id', () => {
    expect(parseEncryptionKey(`${'k'.repeat(32)}:${standard}`, 'ENCRYPTION_KEY').id).toBe('k'.repeat(32));
  });
});
