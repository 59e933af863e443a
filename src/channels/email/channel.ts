import type { Logger } from 'pino';
import type { Condition, SendOutcome } from '../../routing/types.js';
import type { Addresses, Channel, ReceiptListener, SendRequest } from '../types.js';
import { normalizeEmailAddress } from './address.js';
import { classifySmtpError, toError, type FailedSendOutcome } from './errors.js';
import { findHeaderValueProblem, MAX_FROM_NAME_LENGTH, renderEmail } from './render.js';
import { createSmtpTransport, type SmtpEndpoint, type SmtpTransport } from './transport.js';

export interface EmailChannelOptions {
  /** `smtp://user:password@host:port` or `smtps://…`. See `createSmtpTransport` for the TLS rules. */
  url: string;
  /** Sender address of every message, also the domain of the generated Message-IDs. */
  from: string;
  /** Sender display name when a request sets no `channelOptions.email.fromName`. */
  fromName?: string;
  logger: Logger;
  /**
   * Maximum time in ms for one send, from queueing in the pool to the relay's reply to DATA.
   * Also the connect, greeting and socket inactivity timeout. Default 60,000.
   */
  timeoutMs?: number;
  /** Open SMTP connections kept in the pool. Default 5. */
  maxConnections?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_CONNECTIONS = 5;

/**
 * The email channel: SMTP submission through a pooled nodemailer transport that reuses its
 * connections. Connections open on the first send, so `start` does not contact the relay.
 *
 * The Message-ID of each message is built from the attempt's idempotency key and the sender's
 * domain. It doubles as the provider message id, so bounces can be matched to the attempt.
 * Acceptance by the relay is the only result SMTP reports during the send, so `accepted` is
 * the only condition this channel supports.
 *
 * @example
 * const email = new EmailChannel({ url: 'smtp://127.0.0.1:2525', from: 'news@example.com', logger });
 * await email.send({ messageId, step: 0, attempt: 1, idempotencyKey, address: 'a@example.com', content });
 */
export class EmailChannel implements Channel {
  readonly id = 'email';
  readonly defaultCondition: Condition = 'accepted';
  readonly supportedConditions: readonly Condition[] = ['accepted'];

  private readonly logger: Logger;
  private readonly from: string;
  private readonly fromName: string | null;
  private readonly messageIdDomain: string;
  private readonly timeoutMs: number;
  private readonly transport: SmtpTransport;
  private readonly endpoint: SmtpEndpoint;
  // TODO: parse DSN bounces that reach a mailbox of the sender, and report them as 'failed' receipts.
  private readonly receiptListeners: ReceiptListener[] = [];

  /** Throws an Error naming the invalid option when the URL, sender or timeout is invalid. */
  constructor(options: EmailChannelOptions) {
    this.logger = options.logger;

    const from = normalizeEmailAddress(options.from);
    if (!from.ok) {
      throw new Error(`invalid email sender address "${options.from}": it ${from.reason}`);
    }
    this.from = from.address;
    this.messageIdDomain = from.address.slice(from.address.lastIndexOf('@') + 1);

    const fromNameProblem = options.fromName === undefined ? null : findHeaderValueProblem(options.fromName, MAX_FROM_NAME_LENGTH);
    if (fromNameProblem !== null) {
      throw new Error(`invalid email sender name: it ${fromNameProblem}`);
    }
    this.fromName = options.fromName ?? null;

    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(this.timeoutMs) || this.timeoutMs <= 0) {
      throw new Error(`invalid email timeoutMs ${options.timeoutMs}: expected a positive integer of milliseconds`);
    }
    const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    if (!Number.isInteger(maxConnections) || maxConnections <= 0) {
      throw new Error(`invalid email maxConnections ${options.maxConnections}: expected a positive integer`);
    }

    const { transport, endpoint } = createSmtpTransport(options.url, { timeoutMs: this.timeoutMs, maxConnections });
    this.transport = transport;
    this.endpoint = endpoint;
    this.transport.on('error', (err: Error) => {
      this.logger.error({ err: { message: err.message } }, 'SMTP transport error');
    });
  }

  resolveAddress(addresses: Addresses): string | null {
    if (addresses.email === undefined) {
      return null;
    }
    const normalized = normalizeEmailAddress(addresses.email);
    return normalized.ok ? normalized.address : null;
  }

  /** Renders and submits one message. Returns every failure as a classified outcome and never throws. */
  async send(request: SendRequest): Promise<SendOutcome> {
    const ids = { messageId: request.messageId, step: request.step, attempt: request.attempt };
    const deadline = AbortSignal.timeout(this.timeoutMs);
    try {
      return await this.submit(request, deadline, ids);
    } catch (thrown) {
      const error = toError(thrown);
      const outcome: FailedSendOutcome = deadline.aborted
        ? { kind: 'transient', code: 'timeout', message: `the SMTP relay did not accept the message within ${this.timeoutMs} ms` }
        : classifySmtpError(error);
      const fields = error as Error & { code?: unknown; responseCode?: unknown; command?: unknown };
      const details = {
        ...ids,
        kind: outcome.kind,
        code: outcome.code,
        errorCode: fields.code,
        responseCode: fields.responseCode,
        command: fields.command,
        error: outcome.message,
      };
      if (outcome.code === 'smtp-configuration') {
        this.logger.error(details, 'email not sent: the SMTP settings do not work');
      } else {
        this.logger.warn(details, 'email not sent');
      }
      return outcome;
    }
  }

  private async submit(request: SendRequest, deadline: AbortSignal, ids: Record<string, unknown>): Promise<SendOutcome> {
    const recipient = normalizeEmailAddress(request.address);
    if (!recipient.ok) {
      this.logger.warn({ ...ids, code: 'invalid-address' }, 'email not sent: invalid recipient address');
      return { kind: 'permanent', code: 'invalid-address', message: `the recipient address ${recipient.reason}` };
    }
    const rendered = renderEmail(request.content, { fromAddress: this.from, defaultFromName: this.fromName });
    if (!rendered.ok) {
      const pointers = rendered.errors.map((error) => error.pointer);
      this.logger.warn({ ...ids, code: 'invalid-content', pointers }, 'email not sent: invalid content');
      const message = rendered.errors.map((error) => `${error.pointer} ${error.message}`).join('; ');
      return { kind: 'permanent', code: 'invalid-content', message };
    }

    const { mail } = rendered;
    const providerMessageId = buildMessageId(request, this.messageIdDomain);
    const info = await this.transport.sendMail({
      from: mail.from,
      to: recipient.address,
      subject: mail.subject,
      text: mail.text,
      ...(mail.html === null ? {} : { html: mail.html }),
      messageId: providerMessageId,
      signal: deadline,
    });

    if ((info.rejected ?? []).length > 0) {
      this.logger.warn({ ...ids, code: 'recipient-rejected', providerMessageId }, 'email rejected by the SMTP relay');
      const message = `the SMTP relay rejected the recipient: ${info.response ?? 'no reply text'}`;
      return { kind: 'permanent', code: 'recipient-rejected', message };
    }
    this.logger.debug({ ...ids, providerMessageId }, 'email accepted by the SMTP relay');
    return { kind: 'accepted', providerMessageId };
  }

  matchKeys(providerMessageId: string): string[] {
    return [providerMessageId];
  }

  onReceipt(listener: ReceiptListener): void {
    this.receiptListeners.push(listener);
  }

  async start(): Promise<void> {
    this.logger.info({ ...this.endpoint, from: this.from }, 'email channel started, connecting to the SMTP relay on the first send');
  }

  async stop(): Promise<void> {
    // Idle connections close at once, and a connection in the middle of a send finishes it first.
    this.transport.close();
    this.logger.info({ host: this.endpoint.host, port: this.endpoint.port }, 'email channel stopped');
  }
}

/**
 * Builds `<left@domain>` from the attempt's idempotency key, which is stable per attempt. Bytes
 * other than letters, digits, '-' and '_' are written as '=' and two hex digits, so the left
 * part is a valid RFC 5322 dot-atom and distinct keys give distinct ids.
 */
export function buildMessageId(request: Pick<SendRequest, 'idempotencyKey' | 'messageId' | 'step' | 'attempt'>, domain: string): string {
  const key = request.idempotencyKey !== '' ? request.idempotencyKey : `${request.messageId}.${request.step}.${request.attempt}`;
  let left = '';
  for (const byte of Buffer.from(key, 'utf8')) {
    const char = String.fromCharCode(byte);
    left += /[A-Za-z0-9_-]/.test(char) ? char : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return `<${left}@${domain}>`;
}
