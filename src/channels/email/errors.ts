import type { SendOutcome } from '../../routing/types.js';

export type FailedSendOutcome = Exclude<SendOutcome, { kind: 'accepted' }>;

/** Properties that nodemailer sets on its errors. Any of them may be missing. */
interface SmtpErrorFields {
  code?: unknown;
  originalCode?: unknown;
  responseCode?: unknown;
  response?: unknown;
  command?: unknown;
  rejected?: unknown;
}

/** Error codes of failures to reach or talk to the relay, with the outcome code for each. */
const CONNECTION_CODES = new Map<string, string>([
  ['ECONNREFUSED', 'connection-refused'],
  ['ETIMEDOUT', 'timeout'],
  ['EDNS', 'dns-error'],
  ['ENOTFOUND', 'dns-error'],
  ['EAI_AGAIN', 'dns-error'],
  ['ETLS', 'tls-error'],
  ['ECONNECTION', 'connection-error'],
  ['ESOCKET', 'connection-error'],
  ['ECONNRESET', 'connection-error'],
  ['EPIPE', 'connection-error'],
  ['EHOSTUNREACH', 'connection-error'],
  ['ENETUNREACH', 'connection-error'],
  ['EPROTOCOL', 'connection-error'],
  ['EMAXLIMIT', 'connection-error'],
  ['EABORT', 'aborted'],
]);

/** Error codes of channel settings that cannot work for any message, so retrying does not help. */
const CONFIGURATION_CODES = new Set(['EAUTH', 'ENOAUTH', 'ECONFIG', 'EREQUIRETLS']);

/** Maximum length of an outcome message. Server replies can span lines, so they are flattened to one line and cut. */
const MAX_MESSAGE_LENGTH = 500;

/** Turns any thrown value into an Error, so it can be classified and logged. */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) {
    return thrown;
  }
  if (typeof thrown === 'string') {
    return new Error(thrown);
  }
  let description: string;
  try {
    description = JSON.stringify(thrown) ?? String(thrown);
  } catch {
    description = Object.prototype.toString.call(thrown);
  }
  return new Error(`non-Error value thrown: ${description}`);
}

/**
 * Classifies what nodemailer threw for one send.
 *
 * - An SMTP reply (`responseCode`): 5xx is permanent and 4xx transient (RFC 5321 section
 *   4.2.1), with code `smtp-<reply code>`. 503 (bad sequence of commands) is transient,
 *   because it reports the state of the session, not a verdict on the message.
 * - Rejected recipients without a reply code: permanent, `recipient-rejected`.
 * - Failures to connect or talk to the relay (refused, timed out, DNS, TLS, dropped
 *   connection, aborted): transient.
 * - Failed authentication without a reply and invalid transport settings: permanent,
 *   `smtp-configuration`, because the channel cannot send until its settings change.
 * - An invalid envelope (a recipient nodemailer rejects before sending): permanent.
 * - Anything else: transient `smtp-error`, so the retry budget bounds it.
 */
export function classifySmtpError(thrown: unknown): FailedSendOutcome {
  const error = toError(thrown);
  const fields = error as Error & SmtpErrorFields;
  const code = typeof fields.code === 'string' ? fields.code : null;
  const originalCode = typeof fields.originalCode === 'string' ? fields.originalCode : null;
  const responseCode = typeof fields.responseCode === 'number' ? fields.responseCode : null;

  if (responseCode !== null && responseCode >= 400 && responseCode <= 599) {
    const message = describeReply(fields, error.message);
    const outcomeCode = `smtp-${responseCode}`;
    const permanent = responseCode >= 500 && responseCode !== 503;
    return permanent
      ? { kind: 'permanent', code: outcomeCode, message }
      : { kind: 'transient', code: outcomeCode, message };
  }
  if (Array.isArray(fields.rejected) && fields.rejected.length > 0) {
    return { kind: 'permanent', code: 'recipient-rejected', message: oneLine(error.message) };
  }

  const connectionCode = CONNECTION_CODES.get(originalCode ?? '') ?? CONNECTION_CODES.get(code ?? '');
  if (connectionCode !== undefined) {
    return { kind: 'transient', code: connectionCode, message: oneLine(error.message) };
  }
  if (code !== null && CONFIGURATION_CODES.has(code)) {
    return { kind: 'permanent', code: 'smtp-configuration', message: oneLine(error.message) };
  }
  if (code === 'EENVELOPE') {
    return { kind: 'permanent', code: 'invalid-envelope', message: oneLine(error.message) };
  }
  return { kind: 'transient', code: 'smtp-error', message: oneLine(error.message) };
}

/** "RCPT TO failed: 550 5.1.1 ...", from the command and the server's reply. */
function describeReply(fields: SmtpErrorFields, fallback: string): string {
  const reply = typeof fields.response === 'string' ? fields.response : fallback;
  const command = typeof fields.command === 'string' ? fields.command : 'SMTP command';
  return oneLine(`${command} failed: ${reply}`);
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_MESSAGE_LENGTH ? `${flat.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : flat;
}
