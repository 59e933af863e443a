import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { issueAppToken, MAX_APP_TOKEN_LENGTH, newAppTokenClaims, verifyAppToken, type AppTokenClaims } from '../src/channels/app/token.js';

const SECRET = 'app-token-secret-for-tests-0123456789';
const NOW = Date.parse('2025-06-01T12:00:00Z');
const CLAIMS: AppTokenClaims = {
  spaceId: 'default',
  profileId: 'cust-1042',
  appUserId: 'cust-1042',
  iat: NOW / 1000,
  exp: NOW / 1000 + 3600,
  jti: 'jti-1',
};

/** Signs any payload the way `issueAppToken` does, to build tokens with bad claims but a good signature. */
function signRaw(payloadJson: string, secret = SECRET): string {
  const payload = Buffer.from(payloadJson, 'utf8').toString('base64url');
  const signature = createHmac('sha256', secret).update(`cat1.${payload}`).digest('base64url');
  return `cat1.${payload}.${signature}`;
}

describe('app tokens', () => {
  it('issued token verifies with its claims', () => {
    const token = issueAppToken(CLAIMS, SECRET);

    expect(token).toMatch(/^cat1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(verifyAppToken(token, SECRET, NOW)).toEqual({ ok: true, claims: CLAIMS });
  });

  it('newAppTokenClaims sets lifetime and a random jti', () => {
    const first = newAppTokenClaims({ spaceId: 'default', profileId: 'p', appUserId: 'u' }, NOW + 999, 600);
    const second = newAppTokenClaims({ spaceId: 'default', profileId: 'p', appUserId: 'u' }, NOW, 600);

    expect(first.iat).toBe(NOW / 1000);
    expect(first.exp).toBe(NOW / 1000 + 600);
    expect(first.jti).not.toBe(second.jti);
  });

  it('token is valid until exp and expired from then on', () => {
    const token = issueAppToken(CLAIMS, SECRET);

    expect(verifyAppToken(token, SECRET, CLAIMS.exp * 1000 - 1).ok).toBe(true);
    expect(verifyAppToken(token, SECRET, CLAIMS.exp * 1000)).toEqual({ ok: false, reason: 'expired' });
  });

  it('another secret is a bad signature', () => {
    const token = issueAppToken(CLAIMS, 'another-secret-of-sufficient-length-0000');

    expect(verifyAppToken(token, SECRET, NOW)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('changed claims are a bad signature', () => {
    const token = issueAppToken(CLAIMS, SECRET);
    const other = issueAppToken({ ...CLAIMS, appUserId: 'someone-else' }, SECRET);
    const [prefix, , signature] = token.split('.');
    const [, otherPayload] = other.split('.');

    expect(verifyAppToken(`${prefix}.${otherPayload}.${signature}`, SECRET, NOW)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('shortened signature is a bad signature', () => {
    const token = issueAppToken(CLAIMS, SECRET);

    expect(verifyAppToken(token.slice(0, -2), SECRET, NOW)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it.each([
    ['empty', ''],
    ['two parts', 'cat1.abc'],
    ['four parts', 'cat1.a.b.c'],
    ['another prefix', issueAppToken(CLAIMS, SECRET).replace(/^cat1/, 'cat2')],
    ['padding in the payload', 'cat1.abc=.def'],
    ['standard base64 characters', 'cat1.ab+/.def'],
    ['over the length limit', `cat1.${'a'.repeat(MAX_APP_TOKEN_LENGTH)}.b`],
  ])('%s is malformed', (_name, token) => {
    expect(verifyAppToken(token, SECRET, NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it.each([
    ['not JSON', 'not json'],
    ['an array', '[]'],
    ['a missing appUserId', JSON.stringify({ ...CLAIMS, appUserId: undefined })],
    ['an empty spaceId', JSON.stringify({ ...CLAIMS, spaceId: '' })],
    ['a numeric profileId', JSON.stringify({ ...CLAIMS, profileId: 42 })],
    ['exp before iat', JSON.stringify({ ...CLAIMS, exp: CLAIMS.iat - 1 })],
    ['a fractional exp', JSON.stringify({ ...CLAIMS, exp: CLAIMS.exp + 0.5 })],
    ['an id over 256 characters', JSON.stringify({ ...CLAIMS, appUserId: 'u'.repeat(257) })],
  ])('signed claims with %s are malformed', (_name, payload) => {
    expect(verifyAppToken(signRaw(payload), SECRET, NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('extra claims are dropped', () => {
    const token = signRaw(JSON.stringify({ ...CLAIMS, admin: true }));

    expect(verifyAppToken(token, SECRET, NOW)).toEqual({ ok: true, claims: CLAIMS });
  });
});
