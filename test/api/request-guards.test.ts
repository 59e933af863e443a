import { describe, expect, it } from 'vitest';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from '../../src/api/json-depth.js';
import { redactQuery } from '../../src/api/request-log.js';

function nestedArrays(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

describe('exceedsJsonDepth', () => {
  it('accepts the maximum depth', () => {
    expect(exceedsJsonDepth(nestedArrays(MAX_JSON_DEPTH))).toBe(false);
    expect(exceedsJsonDepth(`{"a":${nestedArrays(MAX_JSON_DEPTH - 1)}}`)).toBe(false);
  });

  it('rejects one level more', () => {
    expect(exceedsJsonDepth(nestedArrays(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(exceedsJsonDepth(`{"a":${nestedArrays(MAX_JSON_DEPTH)}}`)).toBe(true);
  });

  it('counts siblings once', () => {
    expect(exceedsJsonDepth(`[${Array.from({ length: 1000 }, () => '[{}]').join(',')}]`, 3)).toBe(false);
  });

  it('ignores brackets inside strings', () => {
    expect(exceedsJsonDepth(JSON.stringify({ text: '['.repeat(1000) }), 2)).toBe(false);
    expect(exceedsJsonDepth(JSON.stringify({ text: `\\"${'{'.repeat(1000)}` }), 2)).toBe(false);
  });

  it('scans invalid JSON without failing', () => {
    expect(exceedsJsonDepth('"unterminated [[[[', 2)).toBe(false);
    expect(exceedsJsonDepth('[[[ not json', 2)).toBe(true);
  });
});

describe('redactQuery', () => {
  it('redacts credential parameters', () => {
    expect(redactQuery('/v1/providers/meta/webhook?hub.mode=subscribe&hub.verify_token=s3cret&hub.challenge=42')).toBe(
      '/v1/providers/meta/webhook?hub.mode=subscribe&hub.verify_token=[redacted]&hub.challenge=42',
    );
    expect(redactQuery('/x?token=a&api_key=b&client_secret=c&password=d&Signature=e&auth=f')).toBe(
      '/x?token=[redacted]&api_key=[redacted]&client_secret=[redacted]&password=[redacted]&Signature=[redacted]&auth=[redacted]',
    );
  });

  it('decodes parameter names first', () => {
    expect(redactQuery('/x?%74oken=a')).toBe('/x?%74oken=[redacted]');
  });

  it('keeps other parameters and plain paths', () => {
    expect(redactQuery('/v1/messages?limit=20&cursor=abc&status=delivered')).toBe('/v1/messages?limit=20&cursor=abc&status=delivered');
    expect(redactQuery('/v1/messages/01a2')).toBe('/v1/messages/01a2');
    expect(redactQuery('/x?flag&%ZZ=1')).toBe('/x?flag&%ZZ=1');
  });
});
