import type { SendOutcome } from '../../routing/types.js';

export type FailedSendOutcome = Exclude<SendOutcome, { kind: 'accepted' }>;

/** Error codes of failures to reach the Graph API host, with the outcome code for each. */
const CONNECTION_CODES = new Map<string, string>([
  ['ECONNREFUSED', 'connection-refused'],
  ['ECONNRESET', 'connection-error'],
  ['EPIPE', 'connection-error'],
  ['EHOSTUNREACH', 'connection-error'],
  ['ENETUNREACH', 'connection-error'],
  ['ENOTFOUND', 'dns-error'],
  ['EAI_AGAIN', 'dns-error'],
  ['ETIMEDOUT', 'timeout'],
  ['UND_ERR_CONNECT_TIMEOUT', 'timeout'],
  ['UND_ERR_HEADERS_TIMEOUT', 'timeout'],
  ['UND_ERR_BODY_TIMEOUT', 'timeout'],
  ['UND_ERR_SOCKET', 'connection-error'],
  ['UND_ERR_CLOSED', 'connection-error'],
  ['UND_ERR_DESTROYED', 'connection-error'],
]);

/**
 * Classifies an error thrown while calling the Graph API, before any HTTP response arrived or
 * while reading it. Every such failure is transient, because the request may work on the next
 * try. `timedOut` is true when the send's own deadline aborted the call.
 *
 * NOTE: a call that timed out after its request was written may have been accepted by Meta,
 * so the retry this outcome leads to can deliver the message twice. The Cloud API has no
 * idempotency key to prevent that.
 */
export function classifyRequestFailure(thrown: unknown, timedOut: boolean, timeoutMs: number): FailedSendOutcome {
  if (timedOut) {
    return { kind: 'transient', code: 'timeout', message: `the Graph API call timed out after ${timeoutMs} ms` };
  }
  const code = findErrorCode(thrown);
  const outcomeCode = code === null ? 'connection-error' : (CONNECTION_CODES.get(code) ?? 'connection-error');
  const reason = thrown instanceof Error ? thrown.message : String(thrown);
  return {
    kind: 'transient',
    code: outcomeCode,
    message: `the request to the Graph API failed${code === null ? '' : ` (${code})`}: ${oneLine(reason)}`,
  };
}

/** Returns the first `code` string on the error or along its `cause` chain. */
export function findErrorCode(thrown: unknown): string | null {
  let current: unknown = thrown;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') {
      return code;
    }
    // An AggregateError (several addresses tried for one host) keeps the per-address errors in `errors`.
    const nested = (current as { errors?: unknown }).errors;
    current = Array.isArray(nested) && nested.length > 0 ? nested[0] : (current as { cause?: unknown }).cause;
  }
  return null;
}

const MAX_MESSAGE_LENGTH = 300;

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_MESSAGE_LENGTH ? `${flat.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : flat;
}
