import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { pino } from 'pino';
import { SMTPServer, type SMTPServerError } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EmailChannel } from '../src/channels/email/channel.js';
import { createSmtpTransport } from '../src/channels/email/transport.js';
import type { ChannelContent, SendRequest } from '../src/channels/types.js';
import { decodeEncodedWords } from '../src/sandbox/mail-headers.js';
import { startSandboxSmtp, type ReceivedMail, type SandboxSmtp } from '../src/sandbox/smtp.js';

const logger = pino({ level: 'silent' });
const WAIT_MS = 5_000;

let sandbox: SandboxSmtp;
const channels: EmailChannel[] = [];
const servers: Array<() => Promise<void>> = [];
let keyCounter = 0;

beforeAll(async () => {
  sandbox = await startSandboxSmtp({ logger });
});

afterEach(async () => {
  for (const channel of channels.splice(0)) {
    await channel.stop();
  }
  for (const close of servers.splice(0)) {
    await close();
  }
});

afterAll(async () => {
  await sandbox.close();
});

function openChannel(url: string, extra: { fromName?: string; timeoutMs?: number; maxConnections?: number } = {}): EmailChannel {
  const channel = new EmailChannel({ url, from: 'news@example.com', logger, ...extra });
  channels.push(channel);
  return channel;
}

function request(address: string, content: Partial<ChannelContent> = {}, idempotencyKey?: string): SendRequest {
  keyCounter += 1;
  return {
    messageId: `msg-${keyCounter}`,
    step: 0,
    attempt: 1,
    idempotencyKey: idempotencyKey ?? `key-${keyCounter}-${Date.now()}`,
    address,
    content: { body: 'Your parcel arrives today.', title: 'Delivery update', custom: null, options: null, ...content },
  };
}

function headerOf(mail: ReceivedMail, name: string): string | undefined {
  const headerSection = mail.raw.slice(0, mail.raw.search(/\r?\n\r?\n/));
  const unfolded = headerSection.replace(/\r?\n(?=[ \t])/g, '');
  const line = unfolded.split(/\r?\n/).find((candidate) => candidate.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

/** Returns a port that nothing listens on, by binding a free port and releasing it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function listen(server: SMTPServer | Server): Promise<number> {
  const netServer = server instanceof SMTPServer ? server.server : server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  servers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (netServer.address() as AddressInfo).port;
}

describe('EmailChannel', () => {
  it('has the traits of an accepted-only channel', () => {
    const channel = openChannel(sandbox.url);

    expect(channel.id).toBe('email');
    expect(channel.defaultCondition).toBe('accepted');
    expect(channel.supportedConditions).toEqual(['accepted']);
    expect(channel.matchKeys('<a@example.com>')).toEqual(['<a@example.com>']);
  });

  it('delivers text and html with subject and From name', async () => {
    const channel = openChannel(sandbox.url, { fromName: 'Default Name' });
    await channel.start();

    const outcome = await channel.send(
      request('reader@example.com', {
        custom: { subject: 'Ihre Lieferung ✓', text: 'Plain version', html: '<p>HTML <b>version</b></p>' },
        options: { fromName: 'ACME Støre' },
      }),
    );

    expect(outcome.kind).toBe('accepted');
    const providerMessageId = outcome.kind === 'accepted' ? outcome.providerMessageId : '';
    const mail = await sandbox.waitFor((candidate) => candidate.messageId === providerMessageId, WAIT_MS);
    expect(mail.subject).toBe('Ihre Lieferung ✓');
    expect(mail.from).toBe('news@example.com');
    expect(mail.to).toEqual(['reader@example.com']);
    expect(decodeEncodedWords(headerOf(mail, 'From') ?? '')).toMatch(/^"?ACME Støre"? <news@example\.com>$/);
    expect(headerOf(mail, 'Content-Type')).toMatch(/^multipart\/alternative;/);
    expect(mail.raw).toMatch(/Content-Type: text\/plain/);
    expect(mail.raw).toMatch(/Content-Type: text\/html/);
    expect(mail.raw).toContain('Plain version');
    expect(mail.raw).toContain('<p>HTML <b>version</b></p>');
    expect(mail.raw).not.toContain('Your parcel arrives today.');
  });

  it('sends title and body as a text-only mail', async () => {
    const channel = openChannel(sandbox.url, { fromName: 'Default Name' });

    const outcome = await channel.send(request('reader@example.com'));

    const providerMessageId = outcome.kind === 'accepted' ? outcome.providerMessageId : 'not accepted';
    const mail = await sandbox.waitFor((candidate) => candidate.messageId === providerMessageId, WAIT_MS);
    expect(mail.subject).toBe('Delivery update');
    expect(headerOf(mail, 'From')).toBe('Default Name <news@example.com>');
    expect(headerOf(mail, 'Content-Type')).toMatch(/^text\/plain/);
    expect(mail.raw).toContain('Your parcel arrives today.');
  });

  it('sets Message-ID from the idempotency key', async () => {
    const channel = openChannel(sandbox.url);
    const key = `attempt 7/${Date.now()}`;

    const outcome = await channel.send(request('reader@example.com', {}, key));

    const expected = `<attempt=207=2F${key.slice('attempt 7/'.length)}@example.com>`;
    expect(outcome).toEqual({ kind: 'accepted', providerMessageId: expected });
    const mail = await sandbox.waitFor((candidate) => candidate.messageId === expected, WAIT_MS);
    expect(mail.messageId).toBe(expected);
  });

  it('reports the sandbox bounce address as permanent smtp-550', async () => {
    const channel = openChannel(sandbox.url);
    const before = sandbox.messages().length;

    const outcome = await channel.send(request('bounce@sandbox.test'));

    expect(outcome.kind).toBe('permanent');
    expect(outcome).toMatchObject({ code: 'smtp-550' });
    expect(outcome).toMatchObject({ message: expect.stringContaining('5.1.1') });
    expect(sandbox.messages().filter((mail) => mail.to.includes('bounce@sandbox.test'))).toEqual([]);
    expect(sandbox.messages().length).toBe(before);
  });

  it('reports a closed port as transient', async () => {
    const channel = openChannel(`smtp://127.0.0.1:${await closedPort()}`);

    const outcome = await channel.send(request('reader@example.com'));

    expect(outcome.kind).toBe('transient');
    expect(outcome).toMatchObject({ code: 'connection-refused' });
  });

  it('reports a 451 reply as transient smtp-451', async () => {
    const relay = new SMTPServer({
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onRcptTo(_address, _session, callback) {
        const error: SMTPServerError = new Error('try again later');
        error.responseCode = 451;
        callback(error);
      },
    });
    const port = await listen(relay);
    const channel = openChannel(`smtp://127.0.0.1:${port}`);

    const outcome = await channel.send(request('reader@example.com'));

    expect(outcome.kind).toBe('transient');
    expect(outcome).toMatchObject({ code: 'smtp-451' });
    expect(outcome).toMatchObject({ message: expect.stringContaining('try again later') });
  });

  it('reports a 554 reply to DATA as permanent', async () => {
    const relay = new SMTPServer({
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () => {
          const error: SMTPServerError = new Error('message rejected as spam');
          error.responseCode = 554;
          callback(error);
        });
      },
    });
    const port = await listen(relay);
    const channel = openChannel(`smtp://127.0.0.1:${port}`);

    const outcome = await channel.send(request('reader@example.com'));

    expect(outcome.kind).toBe('permanent');
    expect(outcome).toMatchObject({ code: 'smtp-554' });
  });

  it('reports a relay that never greets as transient timeout', async () => {
    const silent = createServer(() => {
      // Accepts the connection and never sends the SMTP greeting.
    });
    const sockets = new Set<Socket>();
    silent.on('connection', (socket) => sockets.add(socket));
    const port = await listen(silent);
    servers.unshift(async () => {
      for (const socket of sockets) socket.destroy();
    });
    const channel = openChannel(`smtp://127.0.0.1:${port}`, { timeoutMs: 300 });

    const outcome = await channel.send(request('reader@example.com'));

    expect(outcome.kind).toBe('transient');
    expect(outcome).toMatchObject({ code: 'timeout' });
  });

  it('reuses one pooled connection for several sends', async () => {
    let connections = 0;
    let messages = 0;
    const relay = new SMTPServer({
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onConnect(_session, callback) {
        connections += 1;
        callback();
      },
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () => {
          messages += 1;
          callback();
        });
      },
    });
    const port = await listen(relay);
    // With one pooled connection, the count distinguishes reuse from a connection per send.
    const channel = openChannel(`smtp://127.0.0.1:${port}`, { maxConnections: 1 });

    for (let i = 0; i < 3; i++) {
      const outcome = await channel.send(request('reader@example.com'));
      expect(outcome.kind).toBe('accepted');
    }

    expect(messages).toBe(3);
    expect(connections).toBe(1);
  });

  it('authenticates with credentials from the URL', async () => {
    const logins: Array<{ username: string | undefined; password: string | null | undefined }> = [];
    const relay = new SMTPServer({
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      logger: false,
      onAuth(auth, _session, callback) {
        logins.push({ username: auth.username, password: auth.password });
        callback(null, { user: auth.username });
      },
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () => callback());
      },
    });
    const port = await listen(relay);
    const channel = openChannel(`smtp://mailer:p%40ss%20word@127.0.0.1:${port}`);

    const outcome = await channel.send(request('reader@example.com'));

    expect(outcome.kind).toBe('accepted');
    expect(logins).toEqual([{ username: 'mailer', password: 'p@ss word' }]);
  });

  it('reports rejected credentials as permanent', async () => {
    const relay = new SMTPServer({
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      logger: false,
      onAuth(_auth, _session, callback) {
        callback(new Error('authentication failed'));
      },
    });
    const port = await listen(relay);
    const channel = openChannel(`smtp://mailer:wrong@127.0.0.1:${port}`);

    const outcome = await channel.send(request('reader@example.com'));

    expect(outcome.kind).toBe('permanent');
    expect(outcome).toMatchObject({ code: 'smtp-535' });
  });

  it('sends to an internationalised domain in punycode', async () => {
    const channel = openChannel(sandbox.url);
    const address = channel.resolveAddress({ email: 'Reader@Bücher.Example' });

    expect(address).toBe('Reader@xn--bcher-kva.example');
    const outcome = await channel.send(request(address!));

    const providerMessageId = outcome.kind === 'accepted' ? outcome.providerMessageId : 'not accepted';
    const mail = await sandbox.waitFor((candidate) => candidate.messageId === providerMessageId, WAIT_MS);
    expect(headerOf(mail, 'To')).toBe('Reader@xn--bcher-kva.example');
    // smtp-server reports envelope domains in Unicode form.
    expect(mail.to).toEqual(['Reader@bücher.example']);
  });

  it('sends to a non-ASCII local part with SMTPUTF8', async () => {
    const envelopes: Array<{ mailFromArgs: unknown; recipients: string[] }> = [];
    const relay = new SMTPServer({
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, session, callback) {
        stream.resume();
        stream.on('end', () => {
          const mailFrom = session.envelope.mailFrom;
          envelopes.push({
            mailFromArgs: mailFrom === false ? null : mailFrom.args,
            recipients: session.envelope.rcptTo.map((recipient) => recipient.address),
          });
          callback();
        });
      },
    });
    const port = await listen(relay);
    const channel = openChannel(`smtp://127.0.0.1:${port}`);

    const outcome = await channel.send(request('josé@example.com'));

    expect(outcome.kind).toBe('accepted');
    expect(envelopes).toHaveLength(1);
    expect(envelopes[0]!.recipients).toEqual(['josé@example.com']);
    expect(envelopes[0]!.mailFromArgs).toMatchObject({ SMTPUTF8: true });
  });

  it('rejects a header injection made by merge fields', async () => {
    const channel = openChannel(sandbox.url);
    const before = sandbox.messages().length;

    const outcome = await channel.send(request('reader@example.com', { title: 'Hello Ann\r\nBcc: victim@example.com' }));

    expect(outcome.kind).toBe('permanent');
    expect(outcome).toMatchObject({ code: 'invalid-content' });
    expect(outcome).toMatchObject({ message: expect.stringContaining('/title') });
    expect(sandbox.messages().length).toBe(before);
  });

  it('rejects an invalid recipient without sending', async () => {
    const channel = openChannel(sandbox.url);

    const outcome = await channel.send(request('not an address'));

    expect(outcome.kind).toBe('permanent');
    expect(outcome).toMatchObject({ code: 'invalid-address' });
  });

  it('resolves no address when email is missing or invalid', () => {
    const channel = openChannel(sandbox.url);

    expect(channel.resolveAddress({ phoneNumber: '+12025550101' })).toBeNull();
    expect(channel.resolveAddress({ email: 'reader@localhost' })).toBeNull();
    expect(channel.resolveAddress({ email: ' Reader@Example.COM ' })).toBe('Reader@example.com');
  });

  it('rejects invalid settings at construction', () => {
    const create = (options: { url?: string; from?: string; fromName?: string; timeoutMs?: number }) => () =>
      new EmailChannel({ url: sandbox.url, from: 'news@example.com', logger, ...options });

    expect(create({ url: 'http://relay.example.com' })).toThrow(/scheme is "http"/);
    expect(create({ url: 'not a url' })).toThrow(/invalid SMTP URL/);
    expect(create({ url: 'smtp://relay.example.com/path' })).toThrow(/path is not allowed/);
    expect(create({ url: 'smtp://relay.example.com?secure=true' })).toThrow(/unknown query parameter "secure"/);
    expect(create({ from: 'news' })).toThrow(/invalid email sender address "news"/);
    expect(create({ fromName: 'News\r\nBcc: x@example.com' })).toThrow(/U\+000D/);
    expect(create({ timeoutMs: 0 })).toThrow(/timeoutMs/);
  });

  it('keeps the password out of URL errors', () => {
    const create = () =>
      new EmailChannel({ url: 'smtp://mailer:hunter2@relay.example.com?tls=1', from: 'news@example.com', logger });

    expect(create).toThrow(/unknown query parameter/);
    expect(create).not.toThrow(/hunter2/);
  });
});

describe('createSmtpTransport', () => {
  const cases: Array<{ url: string; host: string; port: number; tls: string; authenticated: boolean }> = [
    { url: 'smtp://127.0.0.1:2525', host: '127.0.0.1', port: 2525, tls: 'none', authenticated: false },
    { url: 'smtp://user:pass@localhost', host: 'localhost', port: 587, tls: 'none', authenticated: true },
    { url: 'smtp://[::1]:2525', host: '::1', port: 2525, tls: 'none', authenticated: false },
    { url: 'smtp://relay.example.com', host: 'relay.example.com', port: 587, tls: 'opportunistic', authenticated: false },
    { url: 'smtp://user:pass@relay.example.com:587', host: 'relay.example.com', port: 587, tls: 'required', authenticated: true },
    { url: 'smtp://user:pass@relay.example.com?requireTLS=false', host: 'relay.example.com', port: 587, tls: 'opportunistic', authenticated: true },
    { url: 'smtp://relay.example.com?requireTLS=false&ignoreTLS=true', host: 'relay.example.com', port: 587, tls: 'none', authenticated: false },
    { url: 'smtp://127.0.0.1:2525?requireTLS=true', host: '127.0.0.1', port: 2525, tls: 'required', authenticated: false },
    { url: 'smtps://user:pass@relay.example.com', host: 'relay.example.com', port: 465, tls: 'implicit', authenticated: true },
  ];

  for (const { url, ...expected } of cases) {
    it(`reads ${url}`, () => {
      const { transport, endpoint } = createSmtpTransport(url, { timeoutMs: 1_000, maxConnections: 1 });
      transport.close();

      expect(endpoint).toEqual(expected);
    });
  }

  it('rejects a malformed percent-encoding', () => {
    expect(() => createSmtpTransport('smtp://us%zzer:pass@relay.example.com', { timeoutMs: 1_000, maxConnections: 1 })).toThrow(
      /invalid percent-encoding/,
    );
  });

  it('rejects a switch that is not a boolean', () => {
    expect(() => createSmtpTransport('smtp://relay.example.com?requireTLS=yes', { timeoutMs: 1_000, maxConnections: 1 })).toThrow(
      /requireTLS must be true or false/,
    );
  });
});
