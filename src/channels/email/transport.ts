import { isIP } from 'node:net';
import nodemailer from 'nodemailer';
import type { SMTPPoolOptions, SMTPPoolSentMessageInfo, Transporter } from 'nodemailer';

export type SmtpTransport = Transporter<SMTPPoolSentMessageInfo, SMTPPoolOptions>;

/** Host, port and TLS mode of a transport, without the credentials, for logs. */
export interface SmtpEndpoint {
  host: string;
  port: number;
  /** `implicit` (smtps), `required` (STARTTLS or fail), `opportunistic` (STARTTLS when offered), `none`. */
  tls: 'implicit' | 'required' | 'opportunistic' | 'none';
  authenticated: boolean;
}

export interface SmtpTransportSettings {
  /** Connect, greeting and socket inactivity timeout, in ms. */
  timeoutMs: number;
  /** Open connections kept in the pool. */
  maxConnections: number;
}

/** Query parameters of the SMTP URL that override the TLS defaults. */
const TLS_SWITCHES = ['requireTLS', 'ignoreTLS'] as const;

/**
 * Creates a pooled nodemailer transport from an `smtp://` or `smtps://` URL, in the form
 * `smtp://user:password@host:port`. User name and password are percent-decoded.
 *
 * TLS defaults:
 * - `smtps://` uses implicit TLS (default port 465).
 * - `smtp://` (default port 587) to a loopback host ignores STARTTLS, because the traffic
 *   never leaves the machine. Local relays such as the sandbox offer no TLS.
 * - `smtp://` to any other host upgrades with STARTTLS when the relay offers it, and requires
 *   it when the URL carries credentials, so a password never crosses a network in clear text.
 * - `?requireTLS=true|false` and `?ignoreTLS=true|false` override these defaults, for example
 *   `?requireTLS=false` for a relay inside a private network that offers no TLS.
 *
 * Throws an Error naming the problem when the URL is invalid; the message never contains the
 * URL, because it may hold a password.
 */
export function createSmtpTransport(
  url: string,
  settings: SmtpTransportSettings,
): { transport: SmtpTransport; endpoint: SmtpEndpoint } {
  const options = parseSmtpUrl(url);
  const transport = nodemailer.createTransport({
    ...options,
    pool: true,
    maxConnections: settings.maxConnections,
    // One requeue covers a pooled connection that the relay closed while it sat idle. Further
    // failures return to the caller, whose retry policy decides.
    maxRequeues: 1,
    connectionTimeout: settings.timeoutMs,
    greetingTimeout: settings.timeoutMs,
    socketTimeout: settings.timeoutMs,
    // Message content comes from API callers, so nodemailer must never read files or URLs named in it.
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  });
  const endpoint: SmtpEndpoint = {
    host: options.host,
    port: options.port,
    tls: tlsMode(options),
    authenticated: options.auth !== undefined,
  };
  return { transport, endpoint };
}

interface ParsedSmtpUrl {
  host: string;
  port: number;
  secure: boolean;
  requireTLS: boolean;
  ignoreTLS: boolean;
  auth?: { user: string; pass: string };
}

function parseSmtpUrl(url: string): ParsedSmtpUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('invalid SMTP URL: expected smtp://user:password@host:port or smtps://user:password@host:port');
  }
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') {
    throw new Error(`invalid SMTP URL: the scheme is "${parsed.protocol.slice(0, -1)}", expected smtp or smtps`);
  }
  if (parsed.hostname === '') {
    throw new Error('invalid SMTP URL: the host is missing');
  }
  if (parsed.pathname !== '' && parsed.pathname !== '/') {
    throw new Error('invalid SMTP URL: a path is not allowed after host and port');
  }

  const secure = parsed.protocol === 'smtps:';
  // The WHATWG parser keeps the brackets of an IPv6 literal in `hostname`.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const defaultPort = secure ? 465 : 587;
  const port = parsed.port === '' ? defaultPort : Number(parsed.port);
  const user = decodeCredential(parsed.username);
  const pass = decodeCredential(parsed.password);
  const auth = user !== '' || pass !== '' ? { user, pass } : undefined;

  const loopback = isLoopbackHost(host);
  const switches = readTlsSwitches(parsed.searchParams);
  const requireTLS = !secure && (switches.requireTLS ?? (!loopback && auth !== undefined));
  const ignoreTLS = !secure && !requireTLS && (switches.ignoreTLS ?? loopback);

  return auth === undefined
    ? { host, port, secure, requireTLS, ignoreTLS }
    : { host, port, secure, requireTLS, ignoreTLS, auth };
}

function decodeCredential(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw new Error('invalid SMTP URL: the user name or password has an invalid percent-encoding');
  }
}

function readTlsSwitches(params: URLSearchParams): Partial<Record<(typeof TLS_SWITCHES)[number], boolean>> {
  const switches: Partial<Record<(typeof TLS_SWITCHES)[number], boolean>> = {};
  for (const [key, value] of params) {
    const known = TLS_SWITCHES.find((name) => name === key);
    if (known === undefined) {
      throw new Error(`invalid SMTP URL: unknown query parameter "${key}" (allowed: ${TLS_SWITCHES.join(', ')})`);
    }
    if (value !== 'true' && value !== 'false') {
      throw new Error(`invalid SMTP URL: ${key} must be true or false`);
    }
    switches[known] = value === 'true';
  }
  return switches;
}

function tlsMode(options: ParsedSmtpUrl): SmtpEndpoint['tls'] {
  if (options.secure) {
    return 'implicit';
  }
  if (options.requireTLS) {
    return 'required';
  }
  return options.ignoreTLS ? 'none' : 'opportunistic';
}

function isLoopbackHost(host: string): boolean {
  const lower = host.toLowerCase();
  if (lower === 'localhost' || lower.endsWith('.localhost')) {
    return true;
  }
  if (isIP(lower) === 4) {
    return lower.startsWith('127.');
  }
  return lower === '::1';
}
