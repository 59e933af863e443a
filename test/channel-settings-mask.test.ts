import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { createSmtpTransport } from '../src/channels/email/transport.js';
import { smtpUrlOf } from '../src/channels/from-settings.js';
import {
  channelSettingsContext,
  maskSecret,
  maskSettings,
  SECRET_FIELDS,
  type ChannelSettingsById,
  type EmailSettings,
} from '../src/channels/settings.js';
import { CHANNEL_IDS, type ChannelId } from '../src/routing/types.js';

/** 40 characters, long enough that the last four are shown. */
const LONG_SECRET = 'EAAGm0PX4ZCpsBAKZC8qyZBr2ZAXJ4t9ZCf1Tail';

/** Settings of every channel, each secret field set to `secret`. */
function sampleSettings(secret: string): ChannelSettingsById {
  return {
    sms: { host: 'smsc.example.net', port: 2775, systemId: 'acme', password: secret, systemType: 'VMA', sourceAddr: 'ACME' },
    email: { host: 'smtp.example.net', port: 587, tls: 'starttls', username: 'acme', password: secret, from: 'orders@acme.example', fromName: 'ACME' },
    whatsApp: { apiUrl: 'https://graph.facebook.com', phoneNumberId: '1065550101', accessToken: secret, appSecret: secret, verifyToken: secret },
    fbMessenger: { apiUrl: 'https://graph.facebook.com', pageAccessToken: secret, appSecret: secret, verifyToken: secret },
    appMessaging: { vapidPublicKey: 'BPublicKeyIsNotSecret', vapidPrivateKey: secret, vapidSubject: 'mailto:ops@acme.example' },
  };
}

function settingsOf(channel: ChannelId, secret: string): Record<string, unknown> {
  return { ...sampleSettings(secret)[channel] };
}

const TRANSPORT_SETTINGS = { timeoutMs: 5_000, maxConnections: 1 };

describe('maskSecret', () => {
  it.each(['', 'a', 'p4ssw0rd', 'x'.repeat(23)])('shows no characters of %j', (value) => {
    expect(maskSecret(value)).toBe('****');
  });

  it('shows only the last four characters of a 24-character secret', () => {
    const value = 'abcdefghijklmnopqrst1234';

    expect(value).toHaveLength(24);
    expect(maskSecret(value)).toBe('****1234');
  });

  it('shows only the last four characters of a long token', () => {
    const masked = maskSecret(LONG_SECRET);

    expect(masked).toBe('****Tail');
    expect(masked).not.toContain(LONG_SECRET.slice(0, 4));
  });
});

describe('maskSettings', () => {
  it('covers every channel', () => {
    expect(Object.keys(SECRET_FIELDS).sort()).toEqual([...CHANNEL_IDS].sort());
  });

  it.each(CHANNEL_IDS)('masks every secret field of %s', (channel) => {
    const settings = settingsOf(channel, LONG_SECRET);

    const masked = maskSettings(channel, settings);

    for (const field of SECRET_FIELDS[channel]) {
      expect(masked[field], field).toBe('****Tail');
    }
    expect(JSON.stringify(masked)).not.toContain(LONG_SECRET);
  });

  it.each(CHANNEL_IDS)('leaves other fields of %s unchanged', (channel) => {
    const settings = settingsOf(channel, LONG_SECRET);
    const secretFields: readonly string[] = SECRET_FIELDS[channel];

    const masked = maskSettings(channel, settings);

    expect(Object.keys(masked).sort()).toEqual(Object.keys(settings).sort());
    for (const [field, value] of Object.entries(settings)) {
      if (!secretFields.includes(field)) expect(masked[field], field).toEqual(value);
    }
  });

  it.each(CHANNEL_IDS)('masks short secrets of %s whole', (channel) => {
    const masked = maskSettings(channel, settingsOf(channel, 'p4ss'));

    for (const field of SECRET_FIELDS[channel]) {
      expect(masked[field], field).toBe('****');
    }
  });

  it('does not change its input', () => {
    const settings = settingsOf('whatsApp', LONG_SECRET);

    maskSettings('whatsApp', settings);

    expect(settings['accessToken']).toBe(LONG_SECRET);
  });

  it('leaves a missing optional secret missing', () => {
    const masked = maskSettings('email', { host: 'smtp.example.net', port: 25, tls: 'none', from: 'orders@acme.example' });

    expect(masked).not.toHaveProperty('password');
  });
});

describe('channelSettingsContext', () => {
  it('differs by space and by channel', () => {
    const context = channelSettingsContext('space-a', 'email');

    expect(context).not.toBe(channelSettingsContext('space-b', 'email'));
    expect(context).not.toBe(channelSettingsContext('space-a', 'sms'));
    expect(context).toBe(channelSettingsContext('space-a', 'email'));
  });
});

describe('smtpUrlOf', () => {
  const base: EmailSettings = { host: 'smtp.example.net', port: 587, tls: 'starttls', from: 'orders@acme.example' };

  const cases: Array<{ name: string; settings: EmailSettings; url: string; endpoint: { host: string; port: number; tls: string; authenticated: boolean } }> = [
    {
      name: 'implicit TLS',
      settings: { ...base, tls: 'implicit', port: 465, username: 'acme', password: 'secret' },
      url: 'smtps://acme:secret@smtp.example.net:465',
      endpoint: { host: 'smtp.example.net', port: 465, tls: 'implicit', authenticated: true },
    },
    {
      name: 'STARTTLS with a password',
      settings: { ...base, username: 'acme', password: 'secret' },
      url: 'smtp://acme:secret@smtp.example.net:587',
      endpoint: { host: 'smtp.example.net', port: 587, tls: 'required', authenticated: true },
    },
    {
      name: 'STARTTLS without credentials',
      settings: base,
      url: 'smtp://smtp.example.net:587',
      endpoint: { host: 'smtp.example.net', port: 587, tls: 'opportunistic', authenticated: false },
    },
    {
      name: 'no TLS with a password',
      settings: { ...base, tls: 'none', port: 25, username: 'acme', password: 'secret' },
      url: 'smtp://acme:secret@smtp.example.net:25?ignoreTLS=true&requireTLS=false',
      endpoint: { host: 'smtp.example.net', port: 25, tls: 'none', authenticated: true },
    },
    {
      name: 'an IPv6 host',
      settings: { ...base, host: '2001:db8::25', tls: 'none', port: 2525 },
      url: 'smtp://[2001:db8::25]:2525?ignoreTLS=true&requireTLS=false',
      endpoint: { host: '2001:db8::25', port: 2525, tls: 'none', authenticated: false },
    },
    {
      name: 'an IPv6 loopback host with implicit TLS',
      settings: { ...base, host: '::1', tls: 'implicit', port: 465 },
      url: 'smtps://[::1]:465',
      endpoint: { host: '::1', port: 465, tls: 'implicit', authenticated: false },
    },
    {
      name: 'a user name without a password',
      settings: { ...base, username: 'acme' },
      url: 'smtp://acme@smtp.example.net:587',
      endpoint: { host: 'smtp.example.net', port: 587, tls: 'required', authenticated: true },
    },
  ];

  it.each(cases)('builds the URL for $name', ({ settings, url }) => {
    expect(smtpUrlOf(settings)).toBe(url);
  });

  it.each(cases)('createSmtpTransport accepts the URL for $name', ({ settings, endpoint }) => {
    const { transport, endpoint: actual } = createSmtpTransport(smtpUrlOf(settings), TRANSPORT_SETTINGS);
    transport.close();

    expect(actual).toEqual(endpoint);
  });

  it('percent-encodes reserved characters in credentials', () => {
    const username = 'ops@acme.example';
    const password = 'p:@/%?#& +=';

    const url = smtpUrlOf({ ...base, username, password });
    const parsed = new URL(url);

    expect(parsed.hostname).toBe('smtp.example.net');
    expect(parsed.port).toBe('587');
    expect(parsed.pathname).toBe('');
    expect(parsed.search).toBe('');
    expect(decodeURIComponent(parsed.username)).toBe(username);
    expect(decodeURIComponent(parsed.password)).toBe(password);
  });

  it('leaves no path or query for credentials that look like one', () => {
    const { transport, endpoint } = createSmtpTransport(smtpUrlOf({ ...base, username: 'a/b?c', password: '#/x?y=z' }), TRANSPORT_SETTINGS);
    transport.close();

    expect(endpoint).toEqual({ host: 'smtp.example.net', port: 587, tls: 'required', authenticated: true });
  });
});

describe('smtpUrlOf with a relay', () => {
  const closers: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function startRelay(host: string): Promise<{ port: number; logins: Array<{ username: string; password: string }> }> {
    const logins: Array<{ username: string; password: string }> = [];
    const server = new SMTPServer({
      secure: false,
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      authMethods: ['PLAIN', 'LOGIN'],
      logger: false,
      onAuth(auth, _session, callback) {
        logins.push({ username: auth.username ?? '', password: auth.password ?? '' });
        callback(null, { user: auth.username });
      },
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () => callback());
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.server.address() as AddressInfo;
    return { port, logins };
  }

  it.each(['127.0.0.1', '::1'])('logs in on %s with decoded credentials', async (host) => {
    const relay = await startRelay(host);
    const username = 'ops@acme.example';
    const password = 'p:@/%?#& +=';
    const { transport, endpoint } = createSmtpTransport(smtpUrlOf({ host, port: relay.port, tls: 'none', username, password, from: 'orders@acme.example' }), TRANSPORT_SETTINGS);
    closers.push(async () => transport.close());

    await transport.sendMail({ from: 'orders@acme.example', to: 'reader@example.com', subject: 'Hello', text: 'Hello' });

    expect(endpoint).toEqual({ host, port: relay.port, tls: 'none', authenticated: true });
    expect(relay.logins).toEqual([{ username, password }]);
  });
});
