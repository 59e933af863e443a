import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveAppTokenSecret } from '../src/app-token-secret.js';
import { ConfigError, loadConfig } from '../src/config.js';

describe('app token secret', () => {
  let dir = '';

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cascade-secret-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('configured secret wins and writes nothing', async () => {
    const source = await resolveAppTokenSecret('configured-secret-0123456789abcdef', join(dir, 'data'));

    expect(source).toEqual({ secret: 'configured-secret-0123456789abcdef', origin: 'environment', file: null });
    await expect(stat(join(dir, 'data'))).rejects.toThrow('ENOENT');
  });

  it('generated secret is stored with mode 0600', async () => {
    const dataDir = join(dir, 'data');

    const source = await resolveAppTokenSecret(null, dataDir);

    expect(source.origin).toBe('generated');
    expect(source.file).toBe(join(dataDir, 'app-token-secret'));
    expect(source.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await readFile(source.file!, 'utf8')).trim()).toBe(source.secret);
    expect((await stat(source.file!)).mode & 0o777).toBe(0o600);
  });

  it('stored secret is reused', async () => {
    const first = await resolveAppTokenSecret(null, dir);

    const second = await resolveAppTokenSecret(null, dir);

    expect(second).toEqual({ secret: first.secret, origin: 'file', file: first.file });
  });
});

describe('app settings in the configuration', () => {
  it('defaults', () => {
    const config = loadConfig({});

    expect(config.appTokenSecret).toBeNull();
    expect(config.appTokenTtlSeconds).toBe(3600);
    expect(config.appSocketPingSeconds).toBe(25);
    expect(config.appSocketPongTimeoutSeconds).toBe(10);
  });

  it('short APP_TOKEN_SECRET is rejected without echoing it', () => {
    const error = (() => {
      try {
        loadConfig({ APP_TOKEN_SECRET: 'too-short-secret' });
      } catch (caught) {
        return caught;
      }
      return null;
    })();

    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toContain('APP_TOKEN_SECRET must be at least 32 characters');
    expect(String(error)).not.toContain('too-short-secret');
  });

  it.each([
    ['APP_TOKEN_TTL_SECONDS', '59'],
    ['APP_TOKEN_TTL_SECONDS', '86401'],
    ['APP_SOCKET_PING_SECONDS', '0'],
    ['APP_SOCKET_PONG_TIMEOUT_SECONDS', 'ten'],
  ])('%s=%s is rejected', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
  });

  it('VAPID keys must be set together', () => {
    expect(() => loadConfig({ VAPID_PUBLIC_KEY: 'BPublic' })).toThrow('VAPID_PRIVATE_KEY must be set together with VAPID_PUBLIC_KEY');
  });
});
