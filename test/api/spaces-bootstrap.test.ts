import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { ADMIN_KEY, capturingLogger, createSpace, http, issueKey } from './admin-client.js';

interface KeyJson {
  keyId: string;
  name: string | null;
  prefix: string;
  revokedAt: string | null;
}

const KEY_A = 'key-a-configured-1c9e44b07d2f';
const KEY_B = 'key-b-configured-83a1f6d2c5e0';

let dataDir: string;
let running: RunningServer | null = null;

/** Starts a server on `dataDir` without sandbox peers, stopping the previous one first. */
async function start(env: Record<string, string>, logger: Logger = pino({ level: 'silent' })): Promise<RunningServer> {
  await running?.close();
  running = null;
  const config = loadConfig({ PORT: '0', DATA_DIR: dataDir, SANDBOX: '0', ADMIN_KEY, LOG_LEVEL: 'silent', ...env });
  running = await startServer(config, { logger });
  return running;
}

async function defaultKeys(server: RunningServer): Promise<KeyJson[]> {
  const response = await http<{ items: KeyJson[] }>(server, 'GET', '/v1/admin/spaces/default/keys', { key: ADMIN_KEY });
  return response.body.items;
}

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cascade-keys-'));
});

afterEach(async () => {
  await running?.close();
  running = null;
  await rm(dataDir, { recursive: true, force: true });
});

describe('configured key of the default space', () => {
  it('a generated key works across restarts', async () => {
    const first = await start({});
    const key = (await readFile(join(dataDir, 'api-key'), 'utf8')).trim();
    const before = await http(first, 'GET', '/v1/messages', { key });

    const second = await start({});
    const after = await http(second, 'GET', '/v1/messages', { key });
    const keys = await defaultKeys(second);

    expect(first.apiKey.origin).toBe('generated');
    expect(second.apiKey.origin).toBe('file');
    expect(before.status).toBe(200);
    expect(after.status).toBe(200);
    expect(keys.filter((item) => item.revokedAt === null)).toHaveLength(1);
    expect(key.startsWith(keys[0]?.prefix ?? 'no prefix')).toBe(true);
  });

  it('a new API_KEY retires the previous one', async () => {
    await start({ API_KEY: KEY_A });

    const server = await start({ API_KEY: KEY_B });
    const oldKey = await http(server, 'GET', '/v1/messages', { key: KEY_A });
    const newKey = await http(server, 'GET', '/v1/messages', { key: KEY_B });
    const keys = await defaultKeys(server);

    expect(oldKey.status).toBe(401);
    expect(newKey.status).toBe(200);
    expect(keys).toHaveLength(2);
    expect(keys.find((item) => KEY_A.startsWith(item.prefix))?.revokedAt).not.toBeNull();
    expect(keys.find((item) => KEY_B.startsWith(item.prefix))?.revokedAt).toBeNull();
  });

  it('keeps issued keys of the default space on restart', async () => {
    const first = await start({ API_KEY: KEY_A });
    const issued = await issueKey(first, 'default');

    const second = await start({ API_KEY: KEY_B });
    const response = await http(second, 'GET', '/v1/messages', { key: issued.key });

    expect(response.status).toBe(200);
  });

  it('a revoked API_KEY stays revoked', async () => {
    const first = await start({ API_KEY: KEY_A });
    const configured = (await defaultKeys(first)).find((item) => item.name === 'API_KEY');
    await http(first, 'DELETE', `/v1/admin/spaces/default/keys/${configured?.keyId}`, { key: ADMIN_KEY });

    const log = capturingLogger();
    const second = await start({ API_KEY: KEY_A }, log.logger);
    const response = await http(second, 'GET', '/v1/messages', { key: KEY_A });

    expect(response.status).toBe(401);
    expect(log.lines.join('')).toContain('the configured API key was revoked');
    expect(log.lines.join('')).not.toContain(KEY_A);
  });

  it('rejects a key of another space as API_KEY', async () => {
    const first = await start({ API_KEY: KEY_A });
    const spaceId = await createSpace(first, 'Elsewhere');
    const issued = await issueKey(first, spaceId);
    await running?.close();
    running = null;

    const config = loadConfig({ PORT: '0', DATA_DIR: dataDir, SANDBOX: '0', API_KEY: issued.key, LOG_LEVEL: 'silent' });
    const failure = await startServer(config, { logger: pino({ level: 'silent' }) }).catch((error: unknown) => error);

    expect(String(failure)).toContain(`API_KEY is an API key of space ${spaceId}`);
    expect(String(failure)).not.toContain(issued.key);
  });
});

describe('ADMIN_KEY configuration', () => {
  it('rejects a short ADMIN_KEY without printing it', () => {
    expect(() => loadConfig({ ADMIN_KEY: 'short-admin-secret' })).toThrow('ADMIN_KEY must be at least 32 characters long; it has 18');
    expect(() => loadConfig({ ADMIN_KEY: 'short-admin-secret' })).not.toThrow('short-admin-secret');
  });
});
