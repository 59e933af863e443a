import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerError, SMTPServerSession } from 'smtp-server';
import { parseHeaders } from './mail-headers.js';
import { RecordLog } from './record-log.js';

/** The published test recipient that the sandbox relay rejects at RCPT TO with `550 5.1.1`. */
export const SANDBOX_BOUNCE_ADDRESS = 'bounce@sandbox.test';

/** One message as the sandbox relay received it. */
export interface ReceivedMail {
  /** Envelope sender (MAIL FROM), empty for the null sender `<>`. */
  from: string;
  /** Envelope recipients (RCPT TO) that the relay accepted. smtp-server converts punycode domains to Unicode. */
  to: string[];
  /** The message as transmitted after DATA: headers and body, decoded as UTF-8. */
  raw: string;
  /** Subject header with RFC 2047 encoded-words decoded, or null when there is none. */
  subject: string | null;
  /** Message-ID header as sent, angle brackets included, or null when there is none. */
  messageId: string | null;
  /** Epoch ms. */
  receivedAt: number;
}

export interface SandboxSmtp {
  port: number;
  host: string;
  /** `smtp://host:port`, for the email channel's `url` option. */
  url: string;
  /** Stored messages, oldest first. */
  messages(): ReceivedMail[];
  /**
   * Resolves with the first stored message that matches, waiting for new ones. Rejects when
   * none arrives within `timeoutMs` or when the server closes.
   */
  waitFor(predicate: (mail: ReceivedMail) => boolean, timeoutMs: number): Promise<ReceivedMail>;
  close(): Promise<void>;
}

export interface SandboxSmtpOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0, which picks a free port. */
  port?: number;
  logger: Logger;
  /** Messages kept in memory before the oldest are dropped. Default 10,000. */
  maxStoredMessages?: number;
  /** Largest accepted message in bytes, announced with the SIZE extension. Default 10 MiB. */
  maxMessageBytes?: number;
}

const DEFAULT_MAX_STORED_MESSAGES = 10_000;
const DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

/**
 * Starts a local SMTP relay for development and tests. It stores every message it accepts,
 * except for `SANDBOX_BOUNCE_ADDRESS`, which it rejects at RCPT TO with a permanent
 * `550 5.1.1`.
 *
 * The relay speaks plain SMTP: STARTTLS is disabled, and AUTH is optional and accepts any
 * user name and password in clear text, so a channel URL with or without credentials works.
 * It advertises SIZE, 8BITMIME, SMTPUTF8 and enhanced status codes.
 *
 * NOTE: The relay has no TLS and accepts any login. Bind it to a loopback address only.
 */
export async function startSandboxSmtp(options: SandboxSmtpOptions): Promise<SandboxSmtp> {
  const logger = options.logger;
  const maxStoredMessages = options.maxStoredMessages ?? DEFAULT_MAX_STORED_MESSAGES;
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const stored = new RecordLog<ReceivedMail>(maxStoredMessages, 'message', 'sandbox relay');

  const server = new SMTPServer({
    name: 'sandbox.cascade.local',
    banner: 'Cascade sandbox relay',
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    allowInsecureAuth: true,
    hideENHANCEDSTATUSCODES: false,
    disableReverseLookup: true,
    size: maxMessageBytes,
    rejectOversized: true,
    logger: false,
    // Cuts connections still open this many ms after close(), because pooled clients keep idle ones open.
    closeTimeout: 1_000,
    onAuth(auth, _session, callback) {
      callback(null, { user: auth.username ?? 'sandbox' });
    },
    onRcptTo(address: SMTPServerAddress, _session: SMTPServerSession, callback: (err?: Error | null) => void) {
      if (address.address.toLowerCase() === SANDBOX_BOUNCE_ADDRESS) {
        // The server adds the enhanced status code 5.1.1 to a 550 reply.
        const error: SMTPServerError = new Error(`<${address.address}>: mailbox does not exist (sandbox test address)`);
        error.responseCode = 550;
        callback(error);
        return;
      }
      callback();
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      readMessage(stream, maxMessageBytes)
        .then((raw) => {
          if (stream.sizeExceeded || raw === null) {
            const error: SMTPServerError = new Error(`message exceeds the maximum size of ${maxMessageBytes} bytes`);
            error.responseCode = 552;
            callback(error);
            return;
          }
          const mail = toReceivedMail(raw, session);
          stored.add(mail);
          logger.debug({ sessionId: session.id, messageIdHeader: mail.messageId, bytes: raw.length }, 'sandbox relay stored a message');
          callback(null, 'Message stored by the Cascade sandbox');
        })
        .catch((err: unknown) => {
          logger.error({ err, sessionId: session.id }, 'sandbox relay failed to read a message');
          callback(err instanceof Error ? err : new Error('failed to read the message'));
        });
    },
  });
  server.on('error', (err) => {
    logger.warn({ err }, 'sandbox relay connection error');
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.server.once('error', onError);
    server.listen(options.port ?? 0, host, () => {
      server.server.off('error', onError);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;
  const url = `smtp://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ host, port }, 'sandbox SMTP relay started');

  return {
    host,
    port,
    url,
    messages: () => stored.all(),
    waitFor: (predicate, timeoutMs) => stored.waitFor(predicate, timeoutMs),
    async close() {
      stored.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      logger.info({ host, port }, 'sandbox SMTP relay stopped');
    },
  };
}

/** Reads the DATA stream, or returns null when the message is larger than `maxBytes`. */
async function readMessage(stream: SMTPServerDataStream, maxBytes: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of stream) {
    const buffer = chunk as Buffer;
    bytes += buffer.length;
    // Past the limit the rest is read and dropped, because the stream must be consumed to its end.
    if (bytes <= maxBytes) {
      chunks.push(buffer);
    }
  }
  return bytes > maxBytes ? null : Buffer.concat(chunks);
}

function toReceivedMail(raw: Buffer, session: SMTPServerSession): ReceivedMail {
  const text = raw.toString('utf8');
  const headers = parseHeaders(text);
  const mailFrom = session.envelope.mailFrom;
  return {
    from: mailFrom === false ? '' : mailFrom.address,
    to: session.envelope.rcptTo.map((recipient) => recipient.address),
    raw: text,
    subject: headers.subject,
    messageId: headers.messageId,
    receivedAt: Date.now(),
  };
}
