import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import webPush from 'web-push';
import { afterEach, describe, expect, it } from 'vitest';
import { checkVapidKeyPair, DEFAULT_VAPID_SUBJECT, resolveVapidKeys, VapidKeyError } from '../src/vapid-keys.js';

const folders: string[] = [];
const unset = { publicKey: null, privateKey: null, subject: null };

afterEach(async () => {
  for (const folder of folders.splice(0)) {
    await rm(folder, { recursive: true, force: true });
  }
});

async function dataDir(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'cascade-vapid-'));
  folders.push(folder);
  return folder;
}

describe('resolveVapidKeys', () => {
  it('generates a pair and stores it with mode 0600', async () => {
    const dir = await dataDir();

    const keys = await resolveVapidKeys(unset, dir);

    expect(keys.origin).toBe('generated');
    expect(keys.subject).toBe(DEFAULT_VAPID_SUBJECT);
    expect(keys.file).toBe(join(dir, 'vapid.json'));
    expect(() => checkVapidKeyPair(keys.publicKey, keys.privateKey)).not.toThrow();
    const stored = JSON.parse(await readFile(join(dir, 'vapid.json'), 'utf8')) as Record<string, unknown>;
    expect(stored).toEqual({ publicKey: keys.publicKey, privateKey: keys.privateKey });
    expect((await stat(join(dir, 'vapid.json'))).mode & 0o777).toBe(0o600);
  });

  it('creates a missing data folder', async () => {
    const dir = join(await dataDir(), 'nested', 'data');

    const keys = await resolveVapidKeys(unset, dir);

    expect(keys.origin).toBe('generated');
  });

  it('reuses the stored pair', async () => {
    const dir = await dataDir();
    const first = await resolveVapidKeys(unset, dir);

    const second = await resolveVapidKeys({ ...unset, subject: 'https://example.com/contact' }, dir);

    expect(second.origin).toBe('file');
    expect(second.publicKey).toBe(first.publicKey);
    expect(second.privateKey).toBe(first.privateKey);
    expect(second.subject).toBe('https://example.com/contact');
  });

  it('gives concurrent callers one pair', async () => {
    const dir = await dataDir();

    const results = await Promise.all([resolveVapidKeys(unset, dir), resolveVapidKeys(unset, dir), resolveVapidKeys(unset, dir)]);

    expect(new Set(results.map((keys) => keys.publicKey)).size).toBe(1);
    expect(results.filter((keys) => keys.origin === 'generated')).toHaveLength(1);
    expect(await readdir(dir)).toEqual(['vapid.json']);
  });

  it('takes both keys from the environment', async () => {
    const dir = await dataDir();
    const pair = webPush.generateVAPIDKeys();

    const keys = await resolveVapidKeys({ ...pair, subject: 'mailto:ops@example.com' }, dir);

    expect(keys).toEqual({ ...pair, subject: 'mailto:ops@example.com', origin: 'environment', file: null });
    await expect(stat(join(dir, 'vapid.json'))).rejects.toThrow(/ENOENT/);
  });

  it('rejects only one key in the environment', async () => {
    const dir = await dataDir();
    const pair = webPush.generateVAPIDKeys();

    await expect(resolveVapidKeys({ ...unset, publicKey: pair.publicKey }, dir)).rejects.toThrow(/VAPID_PRIVATE_KEY is missing/);
    await expect(resolveVapidKeys({ ...unset, privateKey: pair.privateKey }, dir)).rejects.toThrow(/VAPID_PUBLIC_KEY is missing/);
  });

  it('rejects invalid keys from the environment', async () => {
    const dir = await dataDir();
    const pair = webPush.generateVAPIDKeys();
    const cases: Array<{ publicKey: string; privateKey: string; error: RegExp }> = [
      { publicKey: `${pair.publicKey}=`, privateKey: pair.privateKey, error: /VAPID_PUBLIC_KEY is not base64url/ },
      { publicKey: pair.publicKey.slice(0, 40), privateKey: pair.privateKey, error: /VAPID_PUBLIC_KEY decodes to 30 bytes/ },
      { publicKey: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString('base64url'), privateKey: pair.privateKey, error: /not a point on the P-256 curve/ },
      { publicKey: pair.publicKey, privateKey: pair.privateKey.slice(0, 20), error: /VAPID_PRIVATE_KEY decodes to 15 bytes/ },
      { publicKey: pair.publicKey, privateKey: webPush.generateVAPIDKeys().privateKey, error: /VAPID_PUBLIC_KEY does not belong to VAPID_PRIVATE_KEY/ },
    ];

    for (const { publicKey, privateKey, error } of cases) {
      await expect(resolveVapidKeys({ publicKey, privateKey, subject: null }, dir)).rejects.toThrow(error);
    }
  });

  it('rejects an invalid subject', async () => {
    const dir = await dataDir();
    const subjects: Array<[string, RegExp]> = [
      ['ops@example.com', /is not a URL/],
      ['http://example.com/contact', /must be a mailto: or https: URL/],
      ['https://localhost/contact', /localhost/],
      ['mailto:', /no email address/],
    ];

    for (const [subject, error] of subjects) {
      const rejection = await resolveVapidKeys({ ...unset, subject }, dir).catch((reason: unknown) => reason);
      expect(rejection).toBeInstanceOf(VapidKeyError);
      expect((rejection as Error).message).toMatch(error);
    }
  });

  it('rejects an invalid key file and keeps it', async () => {
    const dir = await dataDir();
    const file = join(dir, 'vapid.json');
    const contents: Array<[string, RegExp]> = [
      ['{not json', /is not valid JSON/],
      ['{"publicKey": 1}', /must contain the string fields/],
      [JSON.stringify({ publicKey: webPush.generateVAPIDKeys().publicKey, privateKey: webPush.generateVAPIDKeys().privateKey }), /does not belong/],
    ];

    for (const [content, error] of contents) {
      await writeFile(file, content);
      await expect(resolveVapidKeys(unset, dir)).rejects.toThrow(error);
      expect(await readFile(file, 'utf8')).toBe(content);
    }
  });
});
