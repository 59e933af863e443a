import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { EmailChannel } from '../src/channels/email/channel.js';
import type { SendRequest } from '../src/channels/types.js';
import { decodeEncodedWords, parseHeaders } from '../src/sandbox/mail-headers.js';
import { startSandboxSmtp, type SandboxSmtp } from '../src/sandbox/smtp.js';

const logger = pino({ level: 'silent' });
const cleanups: Array<() => Promise<void>> = [];
let sequence = 0;

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

async function startRelay(options: { maxStoredMessages?: number; maxMessageBytes?: number } = {}): Promise<SandboxSmtp> {
  const relay = await startSandboxSmtp({ logger, ...options });
  cleanups.push(() => relay.close());
  return relay;
}

function channelFor(url: string): EmailChannel {
  const channel = new EmailChannel({ url, from: 'news@example.com', logger });
  cleanups.push(() => channel.stop());
  return channel;
}

function request(address: string, body = 'Hello'): SendRequest {
  sequence += 1;
  return {
    messageId: `msg-${sequence}`,
    step: 0,
    attempt: 1,
    idempotencyKey: `sandbox-test-${sequence}`,
    address,
    content: { body, title: `Message ${sequence}`, custom: null, options: null },
  };
}

describe('startSandboxSmtp', () => {
  it('listens on loopback with an smtp URL', async () => {
    const relay = await startRelay();

    expect(relay.host).toBe('127.0.0.1');
    expect(relay.port).toBeGreaterThan(0);
    expect(relay.url).toBe(`smtp://127.0.0.1:${relay.port}`);
  });

  it('brackets an IPv6 host in the URL', async () => {
    const relay = await startSandboxSmtp({ host: '::1', logger });
    cleanups.push(() => relay.close());

    expect(relay.url).toBe(`smtp://[::1]:${relay.port}`);
    const outcome = await channelFor(relay.url).send(request('reader@example.com'));
    expect(outcome.kind).toBe('accepted');
  });

  it('rejects a port in use', async () => {
    const relay = await startRelay();

    await expect(startSandboxSmtp({ port: relay.port, logger })).rejects.toThrow(/EADDRINUSE/);
  });

  it('stores envelope, subject and Message-ID', async () => {
    const relay = await startRelay();

    const outcome = await channelFor(relay.url).send(request('reader@example.com'));

    expect(outcome.kind).toBe('accepted');
    const [mail] = relay.messages();
    expect(mail?.from).toBe('news@example.com');
    expect(mail?.to).toEqual(['reader@example.com']);
    expect(mail?.subject).toBe(`Message ${sequence}`);
    expect(mail?.messageId).toBe(`<sandbox-test-${sequence}@example.com>`);
    expect(mail?.raw).toContain('Hello');
  });

  it('rejects the bounce address in any case', async () => {
    const relay = await startRelay();

    const outcome = await channelFor(relay.url).send(request('Bounce@Sandbox.TEST'));

    expect(outcome.kind).toBe('permanent');
    expect(outcome).toMatchObject({ message: expect.stringMatching(/550 5\.1\.1/) });
    expect(relay.messages()).toEqual([]);
  });

  it('accepts any login without TLS', async () => {
    const relay = await startRelay();

    const outcome = await channelFor(`smtp://anyone:anything@127.0.0.1:${relay.port}`).send(request('reader@example.com'));

    expect(outcome.kind).toBe('accepted');
    expect(relay.messages()).toHaveLength(1);
  });

  it('rejects a message over the size limit', async () => {
    const relay = await startRelay({ maxMessageBytes: 2_000 });

    const outcome = await channelFor(relay.url).send(request('reader@example.com', 'x'.repeat(5_000)));

    expect(outcome.kind).toBe('permanent');
    expect(outcome).toMatchObject({ code: 'smtp-552' });
    expect(relay.messages()).toEqual([]);
  });

  it('drops the oldest message past the cap', async () => {
    const relay = await startRelay({ maxStoredMessages: 2 });
    const channel = channelFor(relay.url);

    for (const address of ['first@example.com', 'second@example.com', 'third@example.com']) {
      await channel.send(request(address));
    }

    expect(relay.messages().map((mail) => mail.to[0])).toEqual(['second@example.com', 'third@example.com']);
  });

  it('waitFor resolves with a stored message', async () => {
    const relay = await startRelay();
    await channelFor(relay.url).send(request('early@example.com'));

    const mail = await relay.waitFor((candidate) => candidate.to.includes('early@example.com'), 1_000);

    expect(mail.to).toEqual(['early@example.com']);
  });

  it('waitFor resolves with a later message', async () => {
    const relay = await startRelay();
    const waiting = relay.waitFor((candidate) => candidate.to.includes('later@example.com'), 5_000);

    await channelFor(relay.url).send(request('other@example.com'));
    await channelFor(relay.url).send(request('later@example.com'));

    await expect(waiting).resolves.toMatchObject({ to: ['later@example.com'] });
  });

  it('waitFor rejects when nothing matches in time', async () => {
    const relay = await startRelay();

    await expect(relay.waitFor(() => false, 50)).rejects.toThrow(/no matching message .* within 50 ms/);
  });

  it('close rejects pending waiters', async () => {
    const relay = await startSandboxSmtp({ logger });
    const waiting = relay.waitFor(() => false, 10_000);

    await relay.close();

    await expect(waiting).rejects.toThrow(/closed before a matching message arrived/);
  });
});

describe('parseHeaders', () => {
  it('unfolds a folded subject', () => {
    const headers = parseHeaders('Subject: first part\r\n second part\r\nMessage-ID: <id@example.com>\r\n\r\nSubject: body');

    expect(headers).toEqual({ subject: 'first part second part', messageId: '<id@example.com>' });
  });

  it('reads only the header section', () => {
    const headers = parseHeaders('From: a@example.com\r\n\r\nSubject: not a header\r\n');

    expect(headers).toEqual({ subject: null, messageId: null });
  });

  it('matches header names in any case', () => {
    const headers = parseHeaders('SUBJECT: Upper\nmessage-id: <x@example.com>\n\nbody');

    expect(headers).toEqual({ subject: 'Upper', messageId: '<x@example.com>' });
  });
});

describe('decodeEncodedWords', () => {
  const cases: Array<{ name: string; input: string; output: string }> = [
    { name: 'leaves plain text alone', input: 'Plain subject', output: 'Plain subject' },
    { name: 'decodes base64', input: '=?UTF-8?B?SMOkbGxv?=', output: 'Hällo' },
    { name: 'decodes Q with underscores', input: '=?utf-8?Q?Ihre_Lieferung_=E2=9C=93?=', output: 'Ihre Lieferung ✓' },
    { name: 'drops whitespace between encoded words', input: '=?UTF-8?Q?a?= \r\n =?UTF-8?Q?b?=', output: 'ab' },
    { name: 'keeps text around encoded words', input: 'Re: =?UTF-8?Q?caf=C3=A9?= today', output: 'Re: café today' },
    { name: 'joins a character split across words', input: '=?UTF-8?B?8J+T?= =?UTF-8?B?pg==?=', output: '📦' },
    { name: 'decodes latin1', input: '=?ISO-8859-1?Q?K=F6ln?=', output: 'Köln' },
    { name: 'ignores an RFC 2231 language', input: '=?UTF-8*de?Q?K=C3=B6ln?=', output: 'Köln' },
    { name: 'keeps an unknown charset as is', input: '=?x-unknown?Q?abc?=', output: '=?x-unknown?Q?abc?=' },
  ];

  for (const { name, input, output } of cases) {
    it(name, () => {
      expect(decodeEncodedWords(input)).toBe(output);
    });
  }
});
