import { describe, expect, it } from 'vitest';
import { normalizeEmailAddress } from '../src/channels/email/address.js';

describe('normalizeEmailAddress', () => {
  const valid: Array<{ input: string; address: string }> = [
    { input: 'reader@example.com', address: 'reader@example.com' },
    { input: 'Reader.Name+tag@Example.COM', address: 'Reader.Name+tag@example.com' },
    { input: '  padded@example.com \t', address: 'padded@example.com' },
    { input: "o'brien!#$%&*/=?^_`{|}~-@example.co.uk", address: "o'brien!#$%&*/=?^_`{|}~-@example.co.uk" },
    { input: 'user@bücher.example', address: 'user@xn--bcher-kva.example' },
    { input: 'user@BÜCHER.example', address: 'user@xn--bcher-kva.example' },
    { input: 'user@xn--bcher-kva.example', address: 'user@xn--bcher-kva.example' },
    { input: 'josé@example.com', address: 'josé@example.com' },
    { input: 'jose\u0301@example.com', address: 'josé@example.com' },
    { input: '用户@例子.广告', address: '用户@xn--fsqu00a.xn--4rr70v' },
    { input: 'bounce@sandbox.test', address: 'bounce@sandbox.test' },
    { input: `${'a'.repeat(64)}@example.com`, address: `${'a'.repeat(64)}@example.com` },
    { input: 'user@a1-b2.example', address: 'user@a1-b2.example' },
  ];

  for (const { input, address } of valid) {
    it(`accepts ${JSON.stringify(input)}`, () => {
      expect(normalizeEmailAddress(input)).toEqual({ ok: true, address });
    });
  }

  const invalid: Array<{ input: string; reason: string }> = [
    { input: '', reason: 'is empty' },
    { input: 'reader.example.com', reason: 'missing the @' },
    { input: 'a@b@example.com', reason: 'more than one @' },
    { input: '"a@b"@example.com', reason: 'more than one @' },
    { input: '"a b"@example.com', reason: 'quoted local part' },
    { input: '@example.com', reason: 'empty local part' },
    { input: 'reader@', reason: 'empty domain' },
    { input: '.reader@example.com', reason: 'starts or ends with a dot' },
    { input: 'reader.@example.com', reason: 'starts or ends with a dot' },
    { input: 're..ader@example.com', reason: 'two dots in a row' },
    { input: 're ader@example.com', reason: 'U+0020' },
    { input: 're\nader@example.com', reason: 'U+000A' },
    { input: 'reader@exa\rmple.com', reason: 'U+000D' },
    { input: 're(ader)@example.com', reason: '"("' },
    { input: 'reader@exa mple.com', reason: 'U+0020' },
    { input: 'reader@exa_mple.com', reason: '"_"' },
    { input: 'reader@ex%41.com', reason: '"%"' },
    { input: 'reader@example.com/path', reason: '"/"' },
    { input: 'reader@localhost', reason: 'single label' },
    { input: 'reader@[192.0.2.1]', reason: 'address literal' },
    { input: 'reader@192.0.2.1', reason: 'numeric top-level domain' },
    { input: 'reader@-example.com', reason: 'invalid domain label "-example"' },
    { input: 'reader@example..com', reason: 'invalid domain label ""' },
    { input: 'reader@example.com.', reason: 'invalid domain label ""' },
    { input: `reader@${'a'.repeat(64)}.com`, reason: 'invalid domain label' },
    { input: 'reader@xn--zz.com', reason: 'not a valid (internationalised) domain name' },
    { input: `${'a'.repeat(65)}@example.com`, reason: 'local part longer than 64 octets' },
    { input: `${'é'.repeat(33)}@example.com`, reason: 'local part longer than 64 octets' },
    { input: `reader@${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(12)}.com`, reason: 'longer than 255 octets' },
    { input: `${'a'.repeat(64)}@${'b'.repeat(62)}.${'c'.repeat(62)}.${'d'.repeat(62)}.com`, reason: 'longer than 254 octets' },
    { input: `${'a'.repeat(2000)}@example.com`, reason: 'longer than 254 octets' },
    { input: 'rea\u200bder@example.com', reason: 'U+200B' },
  ];

  for (const { input, reason } of invalid) {
    it(`rejects ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input)}`, () => {
      const result = normalizeEmailAddress(input);

      expect(result.ok).toBe(false);
      expect(result).toMatchObject({ reason: expect.stringContaining(reason) });
    });
  }
});
