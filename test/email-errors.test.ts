import { describe, expect, it } from 'vitest';
import { classifySmtpError, toError } from '../src/channels/email/errors.js';

/** Creates an Error with the properties that nodemailer sets on its errors. */
function smtpError(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields);
}

describe('classifySmtpError', () => {
  const cases: Array<{ name: string; thrown: unknown; kind: 'permanent' | 'transient'; code: string }> = [
    {
      name: '550 at RCPT TO',
      thrown: smtpError("Can't send mail - all recipients were rejected", {
        code: 'EENVELOPE',
        responseCode: 550,
        command: 'RCPT TO',
        response: '550 5.1.1 <a@example.com>: mailbox does not exist',
        rejected: ['a@example.com'],
      }),
      kind: 'permanent',
      code: 'smtp-550',
    },
    {
      name: '554 at DATA',
      thrown: smtpError('Message failed', { code: 'EMESSAGE', responseCode: 554, command: 'DATA', response: '554 spam' }),
      kind: 'permanent',
      code: 'smtp-554',
    },
    {
      name: '535 at AUTH',
      thrown: smtpError('Invalid login', { code: 'EAUTH', responseCode: 535, command: 'AUTH PLAIN', response: '535 no' }),
      kind: 'permanent',
      code: 'smtp-535',
    },
    {
      name: '503 bad sequence',
      thrown: smtpError('Message failed', { code: 'EPROTOCOL', responseCode: 503, command: 'DATA', response: '503 bad sequence' }),
      kind: 'transient',
      code: 'smtp-503',
    },
    {
      name: '451 at RCPT TO',
      thrown: smtpError('all recipients were rejected', { code: 'EENVELOPE', responseCode: 451, rejected: ['a@example.com'] }),
      kind: 'transient',
      code: 'smtp-451',
    },
    {
      name: '421 service closing',
      thrown: smtpError('Connection closed', { code: 'ECONNECTION', responseCode: 421, response: '421 closing' }),
      kind: 'transient',
      code: 'smtp-421',
    },
    {
      name: 'rejected recipients without a reply code',
      thrown: smtpError('recipients were rejected', { code: 'EENVELOPE', rejected: ['a@example.com'] }),
      kind: 'permanent',
      code: 'recipient-rejected',
    },
    {
      name: 'refused connection',
      thrown: smtpError('connect ECONNREFUSED 127.0.0.1:1', { code: 'ESOCKET', originalCode: 'ECONNREFUSED', command: 'CONN' }),
      kind: 'transient',
      code: 'connection-refused',
    },
    {
      name: 'plain Node refused connection',
      thrown: smtpError('connect ECONNREFUSED', { code: 'ECONNREFUSED' }),
      kind: 'transient',
      code: 'connection-refused',
    },
    { name: 'greeting timeout', thrown: smtpError('Greeting never received', { code: 'ETIMEDOUT' }), kind: 'transient', code: 'timeout' },
    { name: 'DNS failure', thrown: smtpError('getaddrinfo ENOTFOUND', { code: 'EDNS', originalCode: 'ENOTFOUND' }), kind: 'transient', code: 'dns-error' },
    { name: 'dropped connection', thrown: smtpError('Connection closed unexpectedly', { code: 'ECONNECTION' }), kind: 'transient', code: 'connection-error' },
    { name: 'TLS failure', thrown: smtpError('self-signed certificate', { code: 'ETLS' }), kind: 'transient', code: 'tls-error' },
    { name: 'aborted send', thrown: smtpError('This operation was aborted', { code: 'EABORT', name: 'AbortError' }), kind: 'transient', code: 'aborted' },
    {
      name: 'missing credentials',
      thrown: smtpError('Missing credentials for "PLAIN"', { code: 'EAUTH', command: 'API' }),
      kind: 'permanent',
      code: 'smtp-configuration',
    },
    { name: 'REQUIRETLS unsupported', thrown: smtpError('not supported', { code: 'EREQUIRETLS' }), kind: 'permanent', code: 'smtp-configuration' },
    { name: 'invalid envelope', thrown: smtpError('No recipients defined', { code: 'EENVELOPE', command: 'API' }), kind: 'permanent', code: 'invalid-envelope' },
    { name: 'unknown Error', thrown: new Error('something odd'), kind: 'transient', code: 'smtp-error' },
    { name: 'thrown string', thrown: 'boom', kind: 'transient', code: 'smtp-error' },
    { name: 'thrown undefined', thrown: undefined, kind: 'transient', code: 'smtp-error' },
    { name: 'reply code of the wrong type', thrown: smtpError('odd', { responseCode: '550' }), kind: 'transient', code: 'smtp-error' },
    { name: 'code named like an Object member', thrown: smtpError('odd', { code: 'toString' }), kind: 'transient', code: 'smtp-error' },
  ];

  for (const { name, thrown, kind, code } of cases) {
    it(`classifies ${name}`, () => {
      const outcome = classifySmtpError(thrown);

      expect(outcome.kind).toBe(kind);
      expect(outcome.code).toBe(code);
    });
  }

  it('describes a reply by command and server text', () => {
    const outcome = classifySmtpError(
      smtpError('x', { responseCode: 550, command: 'RCPT TO', response: '550 5.1.1 no such user\r\n' }),
    );

    expect(outcome.message).toBe('RCPT TO failed: 550 5.1.1 no such user');
  });

  it('keeps a long multi-line reply on one bounded line', () => {
    const response = `550-first line\r\n${'550-x\r\n'.repeat(200)}550 last line`;

    const outcome = classifySmtpError(smtpError('x', { responseCode: 550, command: 'DATA', response }));

    expect(outcome.message).not.toMatch(/[\r\n]/);
    expect(outcome.message.length).toBeLessThanOrEqual(500);
    expect(outcome.message.endsWith('…')).toBe(true);
  });
});

describe('toError', () => {
  it('returns an Error unchanged', () => {
    const error = new Error('x');

    expect(toError(error)).toBe(error);
  });

  it('wraps a string as the message', () => {
    expect(toError('boom').message).toBe('boom');
  });

  it('describes other values as JSON', () => {
    expect(toError({ code: 42 }).message).toBe('non-Error value thrown: {"code":42}');
  });

  it('describes values JSON cannot encode', () => {
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;

    expect(toError(circular).message).toBe('non-Error value thrown: [object Object]');
    expect(toError(undefined).message).toBe('non-Error value thrown: undefined');
    expect(toError(10n).message).toBe('non-Error value thrown: [object BigInt]');
  });
});
