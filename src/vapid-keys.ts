import { createECDH, ECDH, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import webPush from 'web-push';

/** VAPID settings as configured: `VAPID_PUBLIC_KEY`, `VAPID_PRIVATE_KEY` and `VAPID_SUBJECT`, null when unset. */
export interface VapidConfig {
  publicKey: string | null;
  privateKey: string | null;
  subject: string | null;
}

/** The application server's VAPID identity (RFC 8292). */
export interface VapidDetails {
  /** Uncompressed P-256 point (65 bytes), base64url without padding. Apps pass it as `applicationServerKey`. */
  publicKey: string;
  /** P-256 private scalar (32 bytes), base64url without padding. */
  privateKey: string;
  /** Contact for push service operators: a `mailto:` or `https:` URL. */
  subject: string;
}

export interface VapidKeySource extends VapidDetails {
  /** Source of the key pair: the environment, the key file in the data folder, or generated now. */
  origin: 'environment' | 'file' | 'generated';
  /** The key file, or null when the keys came from the environment. */
  file: string | null;
}

export class VapidKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VapidKeyError';
  }
}

/** The subject used when `VAPID_SUBJECT` is unset. */
export const DEFAULT_VAPID_SUBJECT = 'mailto:cascade@sandbox.test';

const KEY_FILE = 'vapid.json';
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Resolves the VAPID key pair: `VAPID_PUBLIC_KEY` and `VAPID_PRIVATE_KEY` when both are set,
 * else the pair stored in `<dataDir>/vapid.json`, else a new pair generated with web-push and
 * written there (mode 0600). The subject is `VAPID_SUBJECT` or `DEFAULT_VAPID_SUBJECT`.
 *
 * Browsers bind each push subscription to the public key it was created with, so a stored pair
 * is never replaced: an unreadable or invalid key file raises an error instead. For the same
 * reason, processes that share a database but not a data folder must all be given one pair
 * through the environment.
 *
 * Throws `VapidKeyError` when only one key is set, when a key or the subject is invalid, or when
 * the public key does not belong to the private key.
 */
export async function resolveVapidKeys(config: VapidConfig, dataDir: string): Promise<VapidKeySource> {
  const subject = config.subject ?? DEFAULT_VAPID_SUBJECT;
  checkVapidSubject(subject, 'VAPID_SUBJECT');

  if (config.publicKey !== null || config.privateKey !== null) {
    if (config.publicKey === null || config.privateKey === null) {
      const missing = config.publicKey === null ? 'VAPID_PUBLIC_KEY' : 'VAPID_PRIVATE_KEY';
      throw new VapidKeyError(`${missing} is missing: set both VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY, or neither to use keys stored in the data folder.`);
    }
    checkVapidKeyPair(config.publicKey, config.privateKey, 'VAPID_PUBLIC_KEY', 'VAPID_PRIVATE_KEY');
    return { publicKey: config.publicKey, privateKey: config.privateKey, subject, origin: 'environment', file: null };
  }

  const file = join(dataDir, KEY_FILE);
  const stored = await readKeyFile(file);
  if (stored !== null) {
    return { ...stored, subject, origin: 'file', file };
  }

  await mkdir(dataDir, { recursive: true });
  const generated = webPush.generateVAPIDKeys();
  if (!(await publishKeyFile(file, generated))) {
    // Another caller stored its pair first; every caller must use the same pair.
    const winner = await readKeyFile(file);
    if (winner === null) {
      throw new VapidKeyError(`${file} exists but is empty; delete it to generate a new VAPID key pair.`);
    }
    return { ...winner, subject, origin: 'file', file };
  }
  return { publicKey: generated.publicKey, privateKey: generated.privateKey, subject, origin: 'generated', file };
}

/**
 * Checks that both keys are base64url without padding, that the public key is an uncompressed
 * point on P-256 and the private key a 32-byte scalar, and that the public key belongs to the
 * private key. `publicName` and `privateName` name the values in the error message.
 */
export function checkVapidKeyPair(publicKey: string, privateKey: string, publicName = 'publicKey', privateName = 'privateKey'): void {
  if (!BASE64URL.test(publicKey)) {
    throw new VapidKeyError(`${publicName} is not base64url without padding; expected the 87-character encoding of a 65-byte P-256 public key.`);
  }
  if (!BASE64URL.test(privateKey)) {
    throw new VapidKeyError(`${privateName} is not base64url without padding; expected the 43-character encoding of a 32-byte P-256 private key.`);
  }
  const publicBytes = Buffer.from(publicKey, 'base64url');
  if (publicBytes.length !== 65 || publicBytes[0] !== 0x04) {
    throw new VapidKeyError(`${publicName} decodes to ${publicBytes.length} bytes; expected an uncompressed P-256 point of 65 bytes starting with 0x04.`);
  }
  try {
    ECDH.convertKey(publicBytes, 'prime256v1');
  } catch {
    throw new VapidKeyError(`${publicName} is not a point on the P-256 curve.`);
  }
  const privateBytes = Buffer.from(privateKey, 'base64url');
  if (privateBytes.length !== 32) {
    throw new VapidKeyError(`${privateName} decodes to ${privateBytes.length} bytes; expected a 32-byte P-256 private key.`);
  }

  let derived: Buffer;
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(privateBytes);
    derived = ecdh.getPublicKey();
  } catch {
    throw new VapidKeyError(`${privateName} is not a valid P-256 private key.`);
  }
  if (!derived.equals(publicBytes)) {
    throw new VapidKeyError(`${publicName} does not belong to ${privateName}; set the public key generated together with this private key.`);
  }
}

/**
 * Checks a VAPID subject: a `mailto:` URL or an `https:` URL whose host is not `localhost`,
 * because Apple's push service rejects a JWT with a localhost subject (web-push 3.6 warns about it).
 */
export function checkVapidSubject(subject: string, name = 'subject'): void {
  let parsed: URL;
  try {
    parsed = new URL(subject);
  } catch {
    throw new VapidKeyError(`${name} "${subject}" is not a URL; expected mailto:you@example.com or https://example.com/contact.`);
  }
  if (parsed.protocol === 'mailto:') {
    if (!parsed.pathname.includes('@')) {
      throw new VapidKeyError(`${name} "${subject}" has no email address; expected mailto:you@example.com.`);
    }
    return;
  }
  if (parsed.protocol !== 'https:') {
    throw new VapidKeyError(`${name} "${subject}" must be a mailto: or https: URL.`);
  }
  if (parsed.hostname === 'localhost') {
    throw new VapidKeyError(`${name} "${subject}" points to localhost, which push services reject; use a mailto: address or a public https: URL.`);
  }
}

/**
 * Writes the pair to a temporary file and links it to `file`, so that no reader sees a partly
 * written file. Returns false when `file` already exists.
 */
async function publishKeyFile(file: string, pair: { publicKey: string; privateKey: string }): Promise<boolean> {
  const content = `${JSON.stringify({ publicKey: pair.publicKey, privateKey: pair.privateKey }, null, 2)}\n`;
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, content, { mode: 0o600, flag: 'wx' });
  try {
    await link(temporary, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temporary);
  }
}

/** Reads the stored pair; null when the file does not exist. */
async function readKeyFile(file: string): Promise<{ publicKey: string; privateKey: string } | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  if (text.trim() === '') return null;

  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch {
    throw new VapidKeyError(`${file} is not valid JSON; restore it, or delete it to generate a new pair (existing push subscriptions then stop working).`);
  }
  const record = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  const publicKey = record['publicKey'];
  const privateKey = record['privateKey'];
  if (typeof publicKey !== 'string' || typeof privateKey !== 'string') {
    throw new VapidKeyError(`${file} must contain the string fields "publicKey" and "privateKey".`);
  }
  checkVapidKeyPair(publicKey, privateKey, `publicKey in ${file}`, `privateKey in ${file}`);
  return { publicKey, privateKey };
}
