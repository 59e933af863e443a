import { isSupportedCountry } from 'libphonenumber-js/max';
import { parseEncryptionKey, SecretBoxError } from './secret-box.js';

/** One typed configuration, read from the environment. */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** A `postgres://` URL selects PostgreSQL; null keeps the embedded SQLite file. */
  databaseUrl: string | null;
  /** The key of the default space; null lets start-up generate one and store it in `dataDir`. */
  apiKey: string | null;
  /** Key of the admin API (`/v1/admin`). Null turns the admin API off. */
  adminKey: string | null;
  /** ISO 3166 country code for phone numbers given in national format. */
  defaultRegion: string | null;
  /** Run the sandbox provider peers and point every channel without real settings at them. */
  sandbox: boolean;
  smppUrl: string | null;
  smppSourceAddr: string;
  smtpUrl: string | null;
  smtpFrom: string;
  /** WhatsApp Cloud API base URL (the Graph API host); null leaves WhatsApp to the sandbox or off. */
  whatsAppApiUrl: string | null;
  whatsAppToken: string | null;
  whatsAppPhoneNumberId: string | null;
  /** Messenger Send API base URL (the Graph API host); null leaves Messenger to the sandbox or off. */
  messengerApiUrl: string | null;
  messengerPageToken: string | null;
  /** Graph API version in request paths, such as `v21.0`. */
  graphApiVersion: string;
  /** Verifies `X-Hub-Signature-256` on WhatsApp and Messenger webhooks. */
  metaAppSecret: string | null;
  /** Echoed by the webhook verification handshake (`hub.verify_token`). */
  metaVerifyToken: string | null;
  logLevel: string;
  /** Worker tuning: jobs claimed at once and processed concurrently. */
  workerConcurrency: number;
  /** How long a claimed job stays leased, in seconds. A job of a killed process runs again when its lease ends. */
  workerLeaseSeconds: number;
  /** Signs app tokens; null lets start-up generate one and store it in `dataDir`. */
  appTokenSecret: string | null;
  /** Lifetime of app tokens from `POST /v1/app/tokens`, in seconds. */
  appTokenTtlSeconds: number;
  /** Seconds between `ping` frames on each app socket. */
  appSocketPingSeconds: number;
  /** Seconds an app socket has to respond to a `ping` before it is closed. */
  appSocketPongTimeoutSeconds: number;
  /** VAPID key pair for Web Push (base64url); null lets start-up generate a pair and store it in `dataDir`. */
  vapidPublicKey: string | null;
  vapidPrivateKey: string | null;
  /** Contact sent to push services with every push: a `mailto:` or `https:` URL. */
  vapidSubject: string | null;
  /** Current key that encrypts credentials at rest (`id:base64` or base64); null lets start-up generate one and store it in `dataDir`. */
  encryptionKey: string | null;
  /** Earlier keys, kept so that values written under them still decrypt; start-up re-encrypts those values with the current key. */
  encryptionOldKeys: string[];
  /** Requests per minute of each space (API keys) and of each app user (app tokens); 0 turns the limit off. */
  rateLimitPerMinute: number;
  /** Requests per minute from one IP address without a valid API key or app token; 0 turns the limit off. */
  rateLimitPerIpPerMinute: number;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Minimum `APP_TOKEN_SECRET` length: 32 base64 characters carry 192 bits. */
const MIN_APP_TOKEN_SECRET_LENGTH = 32;

/** Minimum `ADMIN_KEY` length, so that the key that creates spaces and keys cannot be guessed. */
const MIN_ADMIN_KEY_LENGTH = 32;

function text(env: Env, name: string): string | null {
  const value = env[name]?.trim();
  return value ? value : null;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = text(env, name);
  if (raw === null) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}; received "${raw}".`);
  }
  return value;
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = text(env, name);
  if (raw === null) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(`${name} must be 1 or 0 (also true/false, yes/no, on/off); received "${raw}".`);
}

function url(env: Env, name: string, protocols: string[]): string | null {
  const raw = text(env, name);
  if (raw === null) return null;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    // The value may hold a password, so the message names the variable only.
    throw new ConfigError(`${name} is not a valid URL; expected ${protocols.map((p) => `${p}//…`).join(' or ')}.`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must start with ${protocols.join(' or ')}; received ${parsed.protocol}.`);
  }
  return raw;
}

/** Settings that only work together: all of `names` or none. */
function requireTogether(env: Env, names: string[]): void {
  const missing = names.filter((name) => text(env, name) === null);
  if (missing.length > 0 && missing.length < names.length) {
    throw new ConfigError(`${missing.join(' and ')} must be set together with ${names.filter((name) => !missing.includes(name)).join(' and ')}.`);
  }
}

/** Checks an encryption key setting without ever quoting its value. */
function encryptionKeys(env: Env, name: string): string[] {
  const raw = text(env, name);
  if (raw === null) return [];
  const values = raw.split(',').map((value) => value.trim()).filter((value) => value !== '');
  values.forEach((value, index) => {
    try {
      parseEncryptionKey(value, values.length > 1 ? `${name} item ${index + 1}` : name);
    } catch (error) {
      if (error instanceof SecretBoxError) throw new ConfigError(error.message);
      throw error;
    }
  });
  return values;
}

function graphVersion(env: Env): string {
  const version = text(env, 'GRAPH_API_VERSION') ?? 'v21.0';
  if (!/^v\d{1,3}\.\d{1,3}$/.test(version)) {
    throw new ConfigError(`GRAPH_API_VERSION must look like v21.0; received "${version}".`);
  }
  return version;
}

/** Read the configuration from `env`; throws `ConfigError` naming the variable on bad values. */
export function loadConfig(env: Env = process.env): Config {
  const databaseUrl = url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  const region = text(env, 'DEFAULT_REGION')?.toUpperCase() ?? null;
  if (region !== null && !isSupportedCountry(region)) {
    throw new ConfigError(`DEFAULT_REGION must be an ISO 3166 country code such as US or DE; received "${region}".`);
  }
  requireTogether(env, ['WHATSAPP_API_URL', 'WHATSAPP_TOKEN', 'WHATSAPP_PHONE_NUMBER_ID']);
  requireTogether(env, ['MESSENGER_API_URL', 'MESSENGER_PAGE_TOKEN']);
  requireTogether(env, ['VAPID_PUBLIC_KEY', 'VAPID_PRIVATE_KEY']);
  const appTokenSecret = text(env, 'APP_TOKEN_SECRET');
  if (appTokenSecret !== null && appTokenSecret.length < MIN_APP_TOKEN_SECRET_LENGTH) {
    // The value is a secret, so the message gives its length only.
    throw new ConfigError(
      `APP_TOKEN_SECRET must be at least ${MIN_APP_TOKEN_SECRET_LENGTH} characters long; it has ${appTokenSecret.length}. Generate one with: openssl rand -base64 32`,
    );
  }
  const adminKey = text(env, 'ADMIN_KEY');
  if (adminKey !== null && adminKey.length < MIN_ADMIN_KEY_LENGTH) {
    // The value is a secret, so the message gives its length only.
    throw new ConfigError(
      `ADMIN_KEY must be at least ${MIN_ADMIN_KEY_LENGTH} characters long; it has ${adminKey.length}. Generate one with: openssl rand -base64 32`,
    );
  }
  if ((text(env, 'WHATSAPP_API_URL') || text(env, 'MESSENGER_API_URL')) && !text(env, 'META_APP_SECRET')) {
    throw new ConfigError('META_APP_SECRET is required with WHATSAPP_API_URL or MESSENGER_API_URL: receipts arrive as webhooks signed with it.');
  }
  const [encryptionKey = null, ...extraKeys] = encryptionKeys(env, 'ENCRYPTION_KEY');
  if (extraKeys.length > 0) throw new ConfigError('ENCRYPTION_KEY takes one key; list earlier keys in ENCRYPTION_OLD_KEYS, separated by commas.');
  return {
    host: text(env, 'HOST') ?? '127.0.0.1',
    port: integer(env, 'PORT', 3000, 0, 65535),
    dataDir: text(env, 'DATA_DIR') ?? './data',
    databaseUrl,
    apiKey: text(env, 'API_KEY'),
    adminKey,
    defaultRegion: region,
    sandbox: flag(env, 'SANDBOX', databaseUrl === null),
    smppUrl: url(env, 'SMPP_URL', ['smpp:']),
    smppSourceAddr: text(env, 'SMPP_SOURCE_ADDR') ?? 'Cascade',
    smtpUrl: url(env, 'SMTP_URL', ['smtp:', 'smtps:']),
    smtpFrom: text(env, 'SMTP_FROM') ?? 'cascade@sandbox.test',
    whatsAppApiUrl: url(env, 'WHATSAPP_API_URL', ['https:', 'http:']),
    whatsAppToken: text(env, 'WHATSAPP_TOKEN'),
    whatsAppPhoneNumberId: text(env, 'WHATSAPP_PHONE_NUMBER_ID'),
    messengerApiUrl: url(env, 'MESSENGER_API_URL', ['https:', 'http:']),
    messengerPageToken: text(env, 'MESSENGER_PAGE_TOKEN'),
    graphApiVersion: graphVersion(env),
    metaAppSecret: text(env, 'META_APP_SECRET'),
    metaVerifyToken: text(env, 'META_VERIFY_TOKEN'),
    logLevel: text(env, 'LOG_LEVEL') ?? 'info',
    workerConcurrency: integer(env, 'WORKER_CONCURRENCY', 64, 1, 1024),
    // Workers renew the leases of their jobs in flight every third of the lease, so 5 s is a safe minimum.
    workerLeaseSeconds: integer(env, 'WORKER_LEASE_SECONDS', 60, 5, 3600),
    appTokenSecret,
    appTokenTtlSeconds: integer(env, 'APP_TOKEN_TTL_SECONDS', 3600, 60, 86_400),
    appSocketPingSeconds: integer(env, 'APP_SOCKET_PING_SECONDS', 25, 1, 300),
    appSocketPongTimeoutSeconds: integer(env, 'APP_SOCKET_PONG_TIMEOUT_SECONDS', 10, 1, 300),
    vapidPublicKey: text(env, 'VAPID_PUBLIC_KEY'),
    vapidPrivateKey: text(env, 'VAPID_PRIVATE_KEY'),
    vapidSubject: text(env, 'VAPID_SUBJECT'),
    encryptionKey,
    encryptionOldKeys: encryptionKeys(env, 'ENCRYPTION_OLD_KEYS'),
    rateLimitPerMinute: integer(env, 'RATE_LIMIT_PER_MINUTE', 6000, 0, 10_000_000),
    rateLimitPerIpPerMinute: integer(env, 'RATE_LIMIT_PER_IP_PER_MINUTE', 600, 0, 10_000_000),
  };
}
